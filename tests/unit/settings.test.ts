import { describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS, parseSettings } from '../../src/settings/settings';

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
