// Base64 for byte arrays of any size (btoa/atob work on binary strings; spreading in 32 KiB chunks keeps the
// argument count under the engine's limit for a multi-megabyte photo or model).

export function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

export function fromBase64(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}
