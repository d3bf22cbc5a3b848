import { describe, expect, it } from 'vitest';
import { fromBase64, toBase64 } from '../../src/encoding/base64';

describe('base64', () => {
  it('matches Node for every byte value and for arrays larger than one 32 KiB chunk', () => {
    const bytes = Uint8Array.from({ length: 100_003 }, (_, i) => (i * 7919) & 0xff);
    expect(toBase64(bytes)).toBe(Buffer.from(bytes).toString('base64'));
    expect(Array.from(fromBase64(Buffer.from(bytes).toString('base64')))).toEqual(Array.from(bytes));
    expect(toBase64(new Uint8Array())).toBe('');
  });
});
