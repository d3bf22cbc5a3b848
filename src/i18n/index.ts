// One i18n layer for every string the user sees. Resources are JSON files, one per feature namespace:
// src/i18n/locales/<language>/<namespace>.json. tests/unit/i18n.test.ts fails if any key is missing in a language.
import i18n from 'i18next';
import { initReactI18next } from 'react-i18next';

import { initialLanguage } from './language';
export { LANGUAGES, type Language } from './language';

const STORAGE_KEY = 'facies.language';

const files = import.meta.glob<Record<string, unknown>>('./locales/*/*.json', { eager: true, import: 'default' });
const resources: Record<string, Record<string, Record<string, unknown>>> = {};
for (const [path, json] of Object.entries(files)) {
  const [, lng, ns] = /\.\/locales\/([^/]+)\/([^/]+)\.json$/.exec(path)!;
  (resources[lng!] ??= {})[ns!] = json;
}

function savedLanguage(): string | null {
  try {
    return localStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

void i18n.use(initReactI18next).init({
  resources,
  lng: initialLanguage(savedLanguage(), navigator.languages ?? [navigator.language]),
  fallbackLng: 'en',
  ns: Object.keys(resources.en ?? {}),
  defaultNS: 'common',
  interpolation: { escapeValue: false }, // React escapes
  returnNull: false,
});

const applyLanguage = (lng: string) => {
  document.documentElement.lang = lng;
  try {
    localStorage.setItem(STORAGE_KEY, lng);
  } catch {
    /* private mode: the choice lasts for this session */
  }
};
applyLanguage(i18n.language);
i18n.on('languageChanged', applyLanguage);

/** Locale-aware number formatting for percentages and durations. */
export const formatPercent = (p: number, lng = i18n.language) =>
  new Intl.NumberFormat(lng, { style: 'percent', minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(p);
export const formatMs = (ms: number, lng = i18n.language) => `${new Intl.NumberFormat(lng, { maximumFractionDigits: 0 }).format(ms)} ms`;

export default i18n;
