import { describe, expect, it } from 'vitest';
import { fromBase64, toBase64 } from './base64';

describe('base64', () => {
  it('matches Node for every byte value, every tail length and arrays larger than one piece', () => {
    const bytes = Uint8Array.from({ length: 100_003 }, (_, i) => (i * 7919) & 0xff);
    for (const n of [0, 1, 2, 3, 4, 5, 24_575, 24_576, 24_577, 100_003]) {
      const part = bytes.subarray(0, n);
      const node = Buffer.from(part).toString('base64');
      expect(toBase64(part)).toBe(node);
      expect(Buffer.from(fromBase64(node)).equals(Buffer.from(part))).toBe(true);
    }
  });

  it('refuses what is not base64 instead of misreading it', () => {
    for (const bad of ['abc', 'ab=c', 'a===', '@@@@', 'ab c', 'abcé', 'A=AA']) expect(() => fromBase64(bad), bad).toThrow(SyntaxError);
  });
});
