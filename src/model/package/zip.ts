// A deliberately small ZIP reader and writer for model packages. The reader trusts nothing in the archive:
// it reads only the central directory first, refuses encrypted, multi-disk and ZIP64 archives, unsafe paths,
// duplicate and overlapping entries (the overlap trick of non-recursive zip bombs), sizes over the caller's
// limits and implausible compression ratios, and it stops inflating at the declared size.
// The writer stores files uncompressed (ONNX weights barely compress) with a fixed timestamp, so packing the
// same folder twice gives the same bytes.

/** Random access to the package's bytes: a File in the browser, a Buffer or file handle in Node. */
export interface ByteSource {
  readonly size: number;
  read(offset: number, length: number): Promise<Uint8Array>;
}

export const blobSource = (blob: Blob): ByteSource => ({
  size: blob.size,
  read: async (offset, length) => new Uint8Array(await blob.slice(offset, offset + length).arrayBuffer()),
});

export const bytesSource = (bytes: Uint8Array): ByteSource => ({
  size: bytes.byteLength,
  read: async (offset, length) => bytes.subarray(offset, offset + length),
});

export type ArchiveProblem = 'not-zip' | 'too-large' | 'unsafe-path' | 'zip-bomb' | 'corrupt' | 'unsupported' | 'duplicate';

export class ArchiveError extends Error {
  constructor(
    readonly problem: ArchiveProblem,
    message: string,
  ) {
    super(message);
    this.name = 'ArchiveError';
  }
}

export interface ArchiveLimits {
  /** Largest archive accepted, in bytes. */
  maxArchiveBytes: number;
  maxEntries: number;
  /** Largest uncompressed size of any entry. */
  maxEntryBytes: number;
  /** Largest uncompressed size of all entries together. */
  maxTotalBytes: number;
  /** Largest uncompressed/compressed ratio of a compressed entry. */
  maxRatio: number;
}

export interface ArchiveEntry {
  name: string;
  method: 0 | 8;
  compressedSize: number;
  size: number;
  crc32: number;
  /** Offset of the entry's data (after its local header). */
  dataOffset: number;
}

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const MiB = 1 << 20;

/** Reads and checks the archive's table of contents. */
export async function listEntries(src: ByteSource, limits: ArchiveLimits): Promise<ArchiveEntry[]> {
  if (src.size > limits.maxArchiveBytes)
    throw new ArchiveError('too-large', `The file is ${mb(src.size)}; the largest package accepted is ${mb(limits.maxArchiveBytes)}.`);
  if (src.size < 22) throw new ArchiveError('not-zip', 'The file is not a model package (it is too small to be a ZIP archive).');
  const tailLength = Math.min(src.size, 22 + 0xffff);
  const tail = await src.read(src.size - tailLength, tailLength);
  const tv = view(tail);
  let eocd = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tv.getUint32(i, true) === EOCD && i + 22 + tv.getUint16(i + 20, true) === tail.length) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0)
    throw new ArchiveError(
      'not-zip',
      'The file is not a model package (no ZIP directory found). Choose the .facies-model.zip file produced by "npm run model:pack".',
    );
  const disk = tv.getUint16(eocd + 4, true);
  const cdDisk = tv.getUint16(eocd + 6, true);
  const count = tv.getUint16(eocd + 10, true);
  const cdSize = tv.getUint32(eocd + 12, true);
  const cdOffset = tv.getUint32(eocd + 16, true);
  if (disk !== 0 || cdDisk !== 0 || tv.getUint16(eocd + 8, true) !== count)
    throw new ArchiveError('unsupported', 'The package is split over several files (multi-disk ZIP); it must be one file.');
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff)
    throw new ArchiveError('unsupported', 'The package uses ZIP64, which Facies does not accept.');
  if (count > limits.maxEntries) throw new ArchiveError('zip-bomb', `The package holds ${count} files; a model package holds at most ${limits.maxEntries}.`);
  const eocdOffset = src.size - tailLength + eocd;
  if (cdOffset + cdSize > eocdOffset) throw new ArchiveError('corrupt', 'The package is damaged (its ZIP directory points outside the file).');

  const cd = await src.read(cdOffset, cdSize);
  const cv = view(cd);
  const entries: ArchiveEntry[] = [];
  const ranges: [number, number, string][] = [];
  let total = 0;
  let p = 0;
  for (let n = 0; n < count; n++) {
    if (p + 46 > cd.length || cv.getUint32(p, true) !== CENTRAL) throw new ArchiveError('corrupt', 'The package is damaged (its ZIP directory is truncated).');
    const flags = cv.getUint16(p + 8, true);
    const method = cv.getUint16(p + 10, true);
    const crc32 = cv.getUint32(p + 16, true);
    const compressedSize = cv.getUint32(p + 20, true);
    const size = cv.getUint32(p + 24, true);
    const nameLength = cv.getUint16(p + 28, true);
    const extraLength = cv.getUint16(p + 30, true);
    const commentLength = cv.getUint16(p + 32, true);
    const localOffset = cv.getUint32(p + 42, true);
    if (p + 46 + nameLength > cd.length) throw new ArchiveError('corrupt', 'The package is damaged (its ZIP directory is truncated).');
    const name = new TextDecoder().decode(cd.subarray(p + 46, p + 46 + nameLength));
    p += 46 + nameLength + extraLength + commentLength;

    checkPath(name);
    if (entries.some((e) => e.name === name)) throw new ArchiveError('duplicate', `The package contains "${name}" twice.`);
    if (flags & 1) throw new ArchiveError('unsupported', `"${name}" is encrypted; model packages must not be password-protected.`);
    if (method !== 0 && method !== 8)
      throw new ArchiveError('unsupported', `"${name}" uses a ZIP compression method (${method}) Facies does not read; use "stored" or "deflate".`);
    if (compressedSize === 0xffffffff || size === 0xffffffff || localOffset === 0xffffffff)
      throw new ArchiveError('unsupported', 'The package uses ZIP64, which Facies does not accept.');
    if (size > limits.maxEntryBytes)
      throw new ArchiveError('too-large', `"${name}" would be ${mb(size)} once extracted; the largest file accepted is ${mb(limits.maxEntryBytes)}.`);
    total += size;
    if (total > limits.maxTotalBytes)
      throw new ArchiveError('zip-bomb', `The package would extract to more than ${mb(limits.maxTotalBytes)}; it is refused as a possible ZIP bomb.`);
    if (method === 0 && compressedSize !== size) throw new ArchiveError('corrupt', `The package is damaged ("${name}" has inconsistent sizes).`);
    if (method === 8 && size > 64 * 1024 && size > compressedSize * limits.maxRatio)
      throw new ArchiveError(
        'zip-bomb',
        `"${name}" is compressed ${Math.round(size / Math.max(1, compressedSize))}:1, far beyond any real model file; it is refused as a possible ZIP bomb.`,
      );

    const local = await src.read(localOffset, 30);
    const lv = view(local);
    if (local.length < 30 || lv.getUint32(0, true) !== LOCAL) throw new ArchiveError('corrupt', `The package is damaged (no file header for "${name}").`);
    const localNameLength = lv.getUint16(26, true);
    const localName = new TextDecoder().decode(await src.read(localOffset + 30, localNameLength));
    if (localName !== name) throw new ArchiveError('corrupt', `The package is damaged (its directory and file header disagree about "${name}").`);
    const dataOffset = localOffset + 30 + localNameLength + lv.getUint16(28, true);
    if (dataOffset + compressedSize > cdOffset) throw new ArchiveError('corrupt', `The package is damaged ("${name}" runs past the end of the data).`);
    ranges.push([localOffset, dataOffset + compressedSize, name]);
    entries.push({ name, method: method, compressedSize, size, crc32, dataOffset });
  }
  ranges.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < ranges.length; i++)
    if (ranges[i]![0] < ranges[i - 1]![1])
      throw new ArchiveError(
        'zip-bomb',
        `"${ranges[i]![2]}" overlaps "${ranges[i - 1]![2]}" inside the package, a ZIP bomb technique; the package is refused.`,
      );
  return entries;
}

/** Only plain file names and relative paths; nothing that could land outside the package when extracted. */
function checkPath(name: string): void {
  const unsafe =
    name.length === 0 ||
    name.length > 255 ||
    name.startsWith('/') ||
    name.includes('\\') ||
    name.includes('\0') ||
    /^[A-Za-z]:/.test(name) ||
    name.split('/').some((seg) => seg === '..' || seg === '.' || seg === '') ||
    // eslint-disable-next-line no-control-regex
    /[\x00-\x1f\x7f]/.test(name);
  if (unsafe) throw new ArchiveError('unsafe-path', `The package contains an entry with an unsafe path (${JSON.stringify(name.slice(0, 80))}); it is refused.`);
}

/** Extracts one entry, checking its size and CRC-32; `onProgress` gets bytes read so far. */
export async function extractEntry(src: ByteSource, entry: ArchiveEntry, onProgress?: (read: number) => void): Promise<Uint8Array> {
  const chunk = 16 * MiB;
  const compressed = new Uint8Array(entry.compressedSize);
  for (let off = 0; off < entry.compressedSize; off += chunk) {
    compressed.set(await src.read(entry.dataOffset + off, Math.min(chunk, entry.compressedSize - off)), off);
    onProgress?.(Math.min(off + chunk, entry.compressedSize));
  }
  const data = entry.method === 0 ? compressed : await inflateRaw(compressed, entry);
  if (data.length !== entry.size)
    throw new ArchiveError('corrupt', `The package is damaged ("${entry.name}" is ${data.length} bytes, its directory says ${entry.size}).`);
  if (crc32(data) !== entry.crc32) throw new ArchiveError('corrupt', `The package is damaged ("${entry.name}" fails its ZIP checksum).`);
  return data;
}

async function inflateRaw(compressed: Uint8Array, entry: ArchiveEntry): Promise<Uint8Array> {
  const out = new Uint8Array(entry.size);
  let length = 0;
  const stream = new Blob([compressed as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream('deflate-raw'));
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      // More data than declared: a ZIP bomb lying about its size. Stop before allocating any of it.
      if (length + value.length > entry.size) {
        void reader.cancel();
        throw new ArchiveError(
          'zip-bomb',
          `"${entry.name}" inflates to more than the ${entry.size} bytes it declares; the package is refused as a possible ZIP bomb.`,
        );
      }
      out.set(value, length);
      length += value.length;
    }
  } catch (e) {
    if (e instanceof ArchiveError) throw e;
    throw new ArchiveError('corrupt', `The package is damaged ("${entry.name}" cannot be decompressed).`);
  }
  return out.subarray(0, length);
}

export interface ZipInput {
  name: string;
  data: Uint8Array;
}

/** A stored (uncompressed) ZIP of the given files, as chunks to write or wrap in a Blob. */
export function writeZip(files: ZipInput[]): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const f of files) {
    checkPath(f.name);
    const name = new TextEncoder().encode(f.name);
    const crc = crc32(f.data);
    if (f.data.length >= 0xffffffff || offset >= 0xffffffff) throw new ArchiveError('too-large', 'The package would exceed 4 GiB, which needs ZIP64.');
    const local = new Uint8Array(30 + name.length);
    const lv = view(local);
    lv.setUint32(0, LOCAL, true);
    lv.setUint16(4, 20, true); // version needed: 2.0
    lv.setUint16(6, 0x0800, true); // UTF-8 names
    lv.setUint16(10, 0, true); // 00:00:00
    lv.setUint16(12, 0x21, true); // 1980-01-01
    lv.setUint32(14, crc, true);
    lv.setUint32(18, f.data.length, true);
    lv.setUint32(22, f.data.length, true);
    lv.setUint16(26, name.length, true);
    local.set(name, 30);
    const c = new Uint8Array(46 + name.length);
    const cv = view(c);
    cv.setUint32(0, CENTRAL, true);
    cv.setUint16(4, 20, true);
    cv.setUint16(6, 20, true);
    cv.setUint16(8, 0x0800, true);
    cv.setUint16(14, 0x21, true);
    cv.setUint32(16, crc, true);
    cv.setUint32(20, f.data.length, true);
    cv.setUint32(24, f.data.length, true);
    cv.setUint16(28, name.length, true);
    cv.setUint32(42, offset, true);
    c.set(name, 46);
    chunks.push(local, f.data);
    central.push(c);
    offset += local.length + f.data.length;
  }
  const cdSize = central.reduce((a, c) => a + c.length, 0);
  const end = new Uint8Array(22);
  const ev = view(end);
  ev.setUint32(0, EOCD, true);
  ev.setUint16(8, files.length, true);
  ev.setUint16(10, files.length, true);
  ev.setUint32(12, cdSize, true);
  ev.setUint32(16, offset, true);
  return [...chunks, ...central, end];
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(data: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
const mb = (bytes: number) => `${(bytes / MiB).toFixed(bytes < 10 * MiB ? 1 : 0)} MB`;
