import { describe, expect, it } from 'vitest';
import { initialLanguage } from './language';

describe('initialLanguage', () => {
  it('keeps a saved choice', () => {
    expect(initialLanguage('zh-CN', ['en-US'])).toBe('zh-CN');
    expect(initialLanguage('en', ['zh-CN'])).toBe('en');
  });
  it('ignores an unknown saved value and follows the browser, any Chinese → Simplified Chinese', () => {
    expect(initialLanguage('fr', ['zh-TW', 'en'])).toBe('zh-CN');
    expect(initialLanguage(null, ['zh'])).toBe('zh-CN');
    expect(initialLanguage(null, ['de-DE', 'en-GB'])).toBe('en');
  });
  it('falls back to English', () => {
    expect(initialLanguage(null, ['de-DE'])).toBe('en');
    expect(initialLanguage(null, [])).toBe('en');
  });
});
