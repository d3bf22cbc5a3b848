// Language choice, kept free of i18next so it is unit-tested in Node.
export const LANGUAGES = [
  { code: 'en', label: 'English' },
  { code: 'zh-CN', label: '简体中文' },
] as const;
export type Language = (typeof LANGUAGES)[number]['code'];

/** The saved choice, else the browser's preferred languages (any Chinese → Simplified Chinese), else English. */
export function initialLanguage(saved: string | null, preferred: readonly string[]): Language {
  if (saved && LANGUAGES.some((l) => l.code === saved)) return saved as Language;
  for (const p of preferred) {
    if (/^zh\b/i.test(p)) return 'zh-CN';
    if (/^en\b/i.test(p)) return 'en';
  }
  return 'en';
}
