// The pixel size a photo file declares, read from its header before anything decodes it: a small file can declare
// 40000×40000 pixels (6.4 GB once decoded), so the size limit must be checked first. Pure; unit-tested.

export interface DeclaredSize {
  format: 'jpeg' | 'png' | 'gif' | 'bmp' | 'webp' | 'heif';
  width: number;
  height: number;
}

/** How much of the file the header readers look at: JPEG's size comes after its EXIF block (≤ 64 KiB each). */
export const HEADER_BYTES = 256 * 1024;

const u16be = (b: Uint8Array, i: number) => (b[i]! << 8) | b[i + 1]!;
const u16le = (b: Uint8Array, i: number) => b[i]! | (b[i + 1]! << 8);
const u24le = (b: Uint8Array, i: number) => b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16);
const u32be = (b: Uint8Array, i: number) => ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
const i32le = (b: Uint8Array, i: number) => b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24);
const ascii = (b: Uint8Array, i: number, n: number) => String.fromCharCode(...b.subarray(i, i + n));

/** The declared size, or null when the header is not one of these formats or is cut short. */
export function declaredSize(b: Uint8Array): DeclaredSize | null {
  if (b.length >= 24 && b[0] === 0x89 && ascii(b, 1, 3) === 'PNG' && ascii(b, 12, 4) === 'IHDR')
    return { format: 'png', width: u32be(b, 16), height: u32be(b, 20) };
  if (b.length >= 10 && (ascii(b, 0, 6) === 'GIF87a' || ascii(b, 0, 6) === 'GIF89a')) return { format: 'gif', width: u16le(b, 6), height: u16le(b, 8) };
  if (b.length >= 26 && ascii(b, 0, 2) === 'BM') return { format: 'bmp', width: Math.abs(i32le(b, 18)), height: Math.abs(i32le(b, 22)) };
  if (b.length >= 30 && ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 4) === 'WEBP') return webp(b);
  if (b.length >= 4 && b[0] === 0xff && b[1] === 0xd8) return jpeg(b);
  if (b.length >= 12 && ascii(b, 4, 4) === 'ftyp') return heif(b);
  return null;
}

function webp(b: Uint8Array): DeclaredSize | null {
  const chunk = ascii(b, 12, 4);
  if (chunk === 'VP8X') return { format: 'webp', width: u24le(b, 24) + 1, height: u24le(b, 27) + 1 };
  if (chunk === 'VP8L' && b[20] === 0x2f) {
    const bits = b[21]! | (b[22]! << 8) | (b[23]! << 16) | (b[24]! << 24);
    return { format: 'webp', width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
  }
  if (chunk === 'VP8 ' && b[23] === 0x9d && b[24] === 0x01 && b[25] === 0x2a)
    return { format: 'webp', width: u16le(b, 26) & 0x3fff, height: u16le(b, 28) & 0x3fff };
  return null;
}

/** JPEG: walk the marker segments to the first start-of-frame (SOF0–SOF15 but DHT, JPG and DAC). */
function jpeg(b: Uint8Array): DeclaredSize | null {
  let at = 2;
  while (at + 9 < b.length) {
    if (b[at] !== 0xff) return null;
    const marker = b[at + 1]!;
    if (marker === 0xff) {
      at++; // fill byte
      continue;
    }
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      at += 2; // markers without a length
      continue;
    }
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc)
      return { format: 'jpeg', width: u16be(b, at + 7), height: u16be(b, at + 5) };
    if (marker === 0xda || marker === 0xd9) return null; // image data before any frame header
    at += 2 + u16be(b, at + 2);
  }
  return null;
}

/** HEIF: the largest image spatial extent (`ispe`) among the item properties (meta → iprp → ipco). */
function heif(b: Uint8Array): DeclaredSize | null {
  let best: DeclaredSize | null = null;
  const walk = (from: number, to: number, depth: number) => {
    for (let at = from; at + 8 <= to && depth < 6;) {
      const size = u32be(b, at);
      const type = ascii(b, at + 4, 4);
      if (size < 8 || at + size > b.length + 1e9) return;
      const end = Math.min(to, at + size);
      if (type === 'meta') walk(at + 12, end, depth + 1);
      else if (type === 'iprp' || type === 'ipco') walk(at + 8, end, depth + 1);
      else if (type === 'ispe' && at + 20 <= b.length) {
        const width = u32be(b, at + 12);
        const height = u32be(b, at + 16);
        if (!best || width * height > best.width * best.height) best = { format: 'heif', width, height };
      }
      at += size;
    }
  };
  walk(0, b.length, 0);
  return best;
}
