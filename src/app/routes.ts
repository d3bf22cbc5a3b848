// The app's screens, reached by hash (#/about …) so the app works from any static host and offline.
// Each feature adds its screen here; the navigation is built from this list.
import { lazy, type ComponentType } from 'react';
import { ScreeningScreen } from './screening/ScreeningScreen';

export interface Route {
  path: string;
  /** i18n key (common namespace) of the navigation label. */
  labelKey: string;
  component: ComponentType;
  /** Offered in conference demo (kiosk) mode: only the screening and About; nothing there stores or administers. */
  kiosk?: true;
}

const routes: Route[] = [
  { path: '/', labelKey: 'nav.screening', component: ScreeningScreen, kiosk: true },
  { path: '/history', labelKey: 'records:nav.history', component: lazy(() => import('./records/HistoryScreen')) },
  { path: '/summary', labelKey: 'records:nav.summary', component: lazy(() => import('./records/SummaryScreen')) },
  { path: '/reader-study', labelKey: 'nav.readerStudy', component: lazy(() => import('./reader-study/ReaderStudyScreen')) },
  { path: '/settings', labelKey: 'nav.settings', component: lazy(() => import('./settings/SettingsScreen')) },
  { path: '/models', labelKey: 'nav.models', component: lazy(() => import('./models/ModelsScreen')) },
  { path: '/about', labelKey: 'nav.about', component: lazy(() => import('./about/AboutScreen')), kiosk: true },
];

/** The screens offered now: in kiosk mode only the screening and About (no records, settings, models or study). */
export function routesFor(kiosk: boolean): Route[] {
  return kiosk ? routes.filter((r) => r.kiosk) : routes;
}

export function routeFor(hash: string, kiosk = false): Route {
  // A screen may take parameters after "?" (#/history?case=<id>).
  const path = hash.replace(/^#/, '').split('?')[0] || '/';
  return routesFor(kiosk).find((r) => r.path === path) ?? routes[0]!;
}
