// Light / dark: 'system' leaves the choice to the prefers-color-scheme media query in app.css;
// an explicit choice is set on <html data-theme> and overrides it.
import { useEffect } from 'react';
import { useSettings } from '../settings/settings';

export function useTheme(): void {
  const { theme } = useSettings();
  useEffect(() => {
    const root = document.documentElement;
    if (theme === 'light' || theme === 'dark') root.dataset.theme = theme;
    else delete root.dataset.theme;
  }, [theme]);
}
