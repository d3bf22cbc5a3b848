// Base64 (RFC 4648, with padding) for byte arrays of any size, table-driven: btoa/atob need a binary string first
// and ran at ~5 MB/s on a 24 MiB photo here; this runs at ~100 MB/s. Decoding is strict: a character outside the
// alphabet, a wrong length or misplaced padding throws, so a damaged archive entry is refused, not misread.

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const ENCODE = Uint8Array.from(ALPHABET, (c) => c.charCodeAt(0));
const DECODE = new Int16Array(128).fill(-1);
for (let i = 0; i < 64; i++) DECODE[ALPHABET.charCodeAt(i)] = i;
const PAD = 61; // '='
const ascii = new TextDecoder();

export function toBase64(bytes: Uint8Array): string {
  const out = new Uint8Array(Math.ceil(bytes.length / 3) * 4);
  let o = 0;
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out[o++] = ENCODE[n >> 18]!;
    out[o++] = ENCODE[(n >> 12) & 63]!;
    out[o++] = ENCODE[(n >> 6) & 63]!;
    out[o++] = ENCODE[n & 63]!;
  }
  if (i < bytes.length) {
    const two = i + 1 < bytes.length;
    const n = (bytes[i]! << 16) | (two ? bytes[i + 1]! << 8 : 0);
    out[o++] = ENCODE[n >> 18]!;
    out[o++] = ENCODE[(n >> 12) & 63]!;
    out[o++] = two ? ENCODE[(n >> 6) & 63]! : PAD;
    out[o++] = PAD;
  }
  // ASCII only: the decoder's fast path makes the string in one native step.
  return ascii.decode(out);
}

export function fromBase64(text: string): Uint8Array {
  if (text.length % 4 !== 0) throw new SyntaxError('base64 length is not a multiple of 4');
  const pad = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  const out = new Uint8Array((text.length / 4) * 3 - pad);
  const code = (i: number) => {
    const c = text.charCodeAt(i);
    const v = c < 128 ? DECODE[c]! : -1;
    if (v < 0) throw new SyntaxError(`not base64 at character ${i}`);
    return v;
  };
  let o = 0;
  const full = text.length - (pad ? 4 : 0);
  for (let i = 0; i < full; i += 4) {
    const n = (code(i) << 18) | (code(i + 1) << 12) | (code(i + 2) << 6) | code(i + 3);
    out[o++] = n >> 16;
    out[o++] = (n >> 8) & 255;
    out[o++] = n & 255;
  }
  if (pad) {
    const i = full;
    const n = (code(i) << 18) | (code(i + 1) << 12) | (pad === 1 ? code(i + 2) << 6 : 0);
    out[o++] = n >> 16;
    if (pad === 1) out[o++] = (n >> 8) & 255;
  }
  return out;
}
