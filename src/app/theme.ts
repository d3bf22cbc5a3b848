// Light / dark: Settings' choice, or the device's (prefers-color-scheme) when it is "system".
// The resolved theme always lands on <html data-theme>, so app.css holds the dark palette once.
import { useEffect } from 'react';
import { useSettings } from '../settings/settings';

export function resolveTheme(setting: string, prefersDark: boolean): 'light' | 'dark' {
  if (setting === 'light' || setting === 'dark') return setting;
  return prefersDark ? 'dark' : 'light';
}

export function useTheme(): void {
  const { theme } = useSettings();
  useEffect(() => {
    const query = window.matchMedia('(prefers-color-scheme: dark)');
    const apply = () => {
      document.documentElement.dataset.theme = resolveTheme(theme, query.matches);
    };
    apply();
    query.addEventListener('change', apply);
    return () => query.removeEventListener('change', apply);
  }, [theme]);
}
