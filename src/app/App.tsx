import { Suspense, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { LANGUAGES } from '../i18n';
import { EngineProvider, useEngine } from './engine';
import { AdminProvider } from './admin/admin-context';
import { routeFor, routesFor } from './routes';
import { ScreeningNotice } from './ui/Notice';
import { ModelStatus } from './models/ModelStatus';
import { CapabilityNotice } from './ui/CapabilityNotice';
import { OfflineStatus } from './offline/OfflineStatus';
import { UpdatePrompt } from './offline/UpdatePrompt';
import { KioskBanner, KioskStart, useKioskReset } from './kiosk/KioskMode';
import { useTheme } from './theme';
import { ScreenErrorBoundary } from './ui/ScreenErrorBoundary';
import { useSettings } from '../settings/settings';

function useHashRoute(kiosk: boolean) {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const onChange = () => setHash(location.hash);
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return routeFor(hash, kiosk);
}

function Shell() {
  const { t, i18n } = useTranslation();
  const { model } = useEngine();
  const { kiosk } = useSettings();
  const route = useHashRoute(kiosk);
  const Screen = route.component;
  useTheme();
  // Kiosk mode: a new key after inactivity remounts the screen, dropping the last visitor's photo and result.
  const kioskResets = useKioskReset();
  return (
    <div className="app">
      <a className="skip-link" href="#main" onClick={(e) => (e.preventDefault(), document.getElementById('main')?.focus())}>
        {t('skipToContent')}
      </a>
      <header className="app-header">
        <div className="brand">
          <h1>{t('appName')}</h1>
          <p className="tagline">{t('tagline')}</p>
        </div>
        <label className="language">
          <span>{t('language')}</span>
          <select value={i18n.language} onChange={(e) => void i18n.changeLanguage(e.target.value)} data-testid="language-select">
            {LANGUAGES.map((l) => (
              <option key={l.code} value={l.code} lang={l.code}>
                {l.label}
              </option>
            ))}
          </select>
        </label>
      </header>
      <nav aria-label={t('nav.label')} className="app-nav">
        {routesFor(kiosk).map((r) => (
          <a key={r.path} href={`#${r.path}`} aria-current={r === route ? 'page' : undefined} data-testid={`nav-${r.path.slice(1) || 'screening'}`}>
            {t(r.labelKey)}
          </a>
        ))}
      </nav>
      {/* A labelled region, so the notice and status lines sit in a landmark like everything else. */}
      <section className="app-status" aria-label={t('statusArea')}>
        <ScreeningNotice manifest={model.status === 'ready' ? model.ready.manifest : undefined} />
        <KioskBanner />
        <UpdatePrompt />
        <CapabilityNotice />
        <ModelStatus model={model} />
        <OfflineStatus />
      </section>
      <main id="main" tabIndex={-1}>
        {route.path === '/' && <KioskStart key={kioskResets} />}
        <ScreenErrorBoundary key={`${route.path}:${kioskResets}`}>
          <Suspense fallback={null}>
            <Screen key={kioskResets} />
          </Suspense>
        </ScreenErrorBoundary>
      </main>
      <footer className="app-footer">{t('footer')}</footer>
    </div>
  );
}

export function App() {
  return (
    <AdminProvider>
      <EngineProvider>
        <Shell />
      </EngineProvider>
    </AdminProvider>
  );
}
