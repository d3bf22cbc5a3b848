import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '../../src/i18n/locales');
const languages = readdirSync(root);

/** Flattens nested resources to [dotted key, value] pairs. */
function entries(obj: unknown, prefix = ''): [string, unknown][] {
  if (typeof obj !== 'object' || obj === null) return [[prefix, obj]];
  return Object.entries(obj).flatMap(([k, v]) => entries(v, prefix ? `${prefix}.${k}` : k));
}
// i18next plural suffixes differ by language (Chinese has only "other"): compare the base keys.
const base = (k: string) => k.replace(/_(zero|one|two|few|many|other)$/, '');

describe('translations', () => {
  it('has English and Simplified Chinese', () => {
    expect(languages.sort()).toEqual(['en', 'zh-CN']);
  });

  const namespaces = readdirSync(join(root, 'en')).filter((f) => f.endsWith('.json'));
  for (const ns of namespaces) {
    it(`${ns}: every key exists, non-empty, in every language, with the same {{placeholders}}`, () => {
      const load = (lng: string) => JSON.parse(readFileSync(join(root, lng, ns), 'utf8'));
      const en = new Map(entries(load('en')).map(([k, v]) => [base(k), v]));
      const placeholders = (s: unknown) => [...String(s).matchAll(/\{\{(\w+)\}\}/g)].map((m) => m[1]).sort();
      for (const lng of languages) {
        const tr = entries(load(lng));
        const trKeys = new Set(tr.map(([k]) => base(k)));
        expect(
          [...en.keys()].filter((k) => !trKeys.has(k)),
          `missing in ${lng}/${ns}`,
        ).toEqual([]);
        expect(
          [...trKeys].filter((k) => !en.has(k)),
          `extra in ${lng}/${ns}`,
        ).toEqual([]);
        for (const [k, value] of tr) {
          expect(typeof value === 'string' && value.trim().length > 0, `${lng}/${ns}: ${k} is empty`).toBe(true);
          expect(placeholders(value), `${lng}/${ns}: ${k} placeholders`).toEqual(placeholders(en.get(base(k))));
        }
      }
    });
  }
});
