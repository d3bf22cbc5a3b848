import { describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS, parseSettings } from './settings';

describe('parseSettings', () => {
  it('gives the defaults for nothing stored or corrupt JSON', () => {
    expect(parseSettings(null)).toEqual(DEFAULT_SETTINGS);
    expect(parseSettings('{not json')).toEqual(DEFAULT_SETTINGS);
    expect(parseSettings('[1,2]')).toEqual(DEFAULT_SETTINGS);
  });
  it('keeps stored values of the right type and drops unknown or ill-typed ones', () => {
    expect(parseSettings(JSON.stringify({ backend: 'wasm', surprise: 1 }))).toEqual({ ...DEFAULT_SETTINGS, backend: 'wasm' });
    expect(parseSettings(JSON.stringify({ backend: 42 }))).toEqual(DEFAULT_SETTINGS);
  });
});

describe('resolveTheme', () => {
  it('follows the device unless Settings chose light or dark', async () => {
    const { resolveTheme } = await import('../app/theme');
    expect(resolveTheme('system', true)).toBe('dark');
    expect(resolveTheme('system', false)).toBe('light');
    expect(resolveTheme('light', true)).toBe('light');
    expect(resolveTheme('dark', false)).toBe('dark');
  });
});
