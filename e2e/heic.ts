// HEIC test photos, made at test time from the repository's PNG fixtures with libheif's heif-enc (Debian
// libheif-examples): no phone photo needed. heif-enc writes no orientation, so for an iPhone-like file whose pixels
// are stored sideways this adds the HEIF `irot` property (display rotation) to the primary image by editing the
// ISO BMFF boxes: ipco gets the property, ipma associates it, and the file offsets in iloc move past the insertion.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PYTHON, systemTool } from '../scripts/system-tools';

interface Box {
  type: string;
  start: number;
  size: number;
  /** Where the children (or a full box's content) begin. */
  body: number;
}

function boxes(b: Buffer, from: number, to: number): Box[] {
  const out: Box[] = [];
  for (let at = from; at + 8 <= to;) {
    const size = b.readUInt32BE(at);
    const type = b.toString('latin1', at + 4, at + 8);
    if (size < 8) throw new Error(`unsupported box size ${size} (${type})`);
    out.push({ type, start: at, size, body: at + 8 });
    at += size;
  }
  return out;
}
const child = (b: Buffer, parent: Box, type: string, skip = 0) => {
  const found = boxes(b, parent.body + skip, parent.start + parent.size).find((x) => x.type === type);
  if (!found) throw new Error(`no ${type} box in ${parent.type}`);
  return found;
};

/** The file with an `irot` (quarter turns anticlockwise, 0–3) on its primary image. */
function withRotation(heic: Buffer, quarterTurnsAnticlockwise: number): Buffer {
  const meta = boxes(heic, 0, heic.length).find((x) => x.type === 'meta');
  if (!meta) throw new Error('no meta box');
  const pitm = child(heic, meta, 'pitm', 4);
  const primary = heic[pitm.body] === 0 ? heic.readUInt16BE(pitm.body + 4) : heic.readUInt32BE(pitm.body + 4);
  const iprp = child(heic, meta, 'iprp', 4);
  const ipco = child(heic, iprp, 'ipco');
  const ipma = child(heic, iprp, 'ipma');
  const propertyIndex = boxes(heic, ipco.body, ipco.start + ipco.size).length + 1;
  const irot = Buffer.from([0, 0, 0, 9, ...Buffer.from('irot'), quarterTurnsAnticlockwise & 3]);

  // The primary item's entry in ipma: one more (essential) association.
  const version = heic[ipma.body]!;
  const wide = (heic.readUInt32BE(ipma.body) & 1) === 1;
  const count = heic.readUInt32BE(ipma.body + 4);
  let at = ipma.body + 8;
  let insertAt = -1;
  for (let i = 0; i < count; i++) {
    const id = version < 1 ? heic.readUInt16BE(at) : heic.readUInt32BE(at);
    at += version < 1 ? 2 : 4;
    const n = heic[at]!;
    if (id === primary) {
      heic[at] = n + 1;
      insertAt = at + 1 + n * (wide ? 2 : 1);
    }
    at += 1 + n * (wide ? 2 : 1);
  }
  if (insertAt < 0) throw new Error(`item ${primary} has no ipma entry`);
  const association = wide ? Buffer.from([0x80 | (propertyIndex >> 8), propertyIndex & 0xff]) : Buffer.from([0x80 | propertyIndex]);

  const ipcoEnd = ipco.start + ipco.size;
  if (ipcoEnd > insertAt) throw new Error('expected ipco before ipma');
  const out = Buffer.concat([heic.subarray(0, ipcoEnd), irot, heic.subarray(ipcoEnd, insertAt), association, heic.subarray(insertAt)]);
  const grow = irot.length + association.length;
  const shiftAfter = (offset: number) => offset + (offset >= ipcoEnd ? irot.length : 0) + (offset >= insertAt ? association.length : 0);
  for (const [box, by] of [
    [meta, grow],
    [iprp, grow],
    [ipco, irot.length],
    [ipma, association.length],
  ] as const) {
    const pos = shiftAfter(box.start);
    out.writeUInt32BE(out.readUInt32BE(pos) + by, pos);
  }
  shiftIlocOffsets(out, shiftAfter);
  return out;
}

/** Moves the file offsets (construction method 0) that point behind the inserted bytes. */
function shiftIlocOffsets(b: Buffer, shiftAfter: (o: number) => number): void {
  const meta = boxes(b, 0, b.length).find((x) => x.type === 'meta')!;
  const iloc = child(b, meta, 'iloc', 4);
  const version = b[iloc.body]!;
  let at = iloc.body + 4;
  const offsetSize = b[at]! >> 4;
  const lengthSize = b[at]! & 15;
  const baseSize = b[at + 1]! >> 4;
  const indexSize = version >= 1 ? b[at + 1]! & 15 : 0;
  at += 2;
  const read = (n: number) => (n === 0 ? 0 : n === 4 ? b.readUInt32BE(at) : n === 8 ? Number(b.readBigUInt64BE(at)) : NaN);
  const write = (n: number, v: number) => (n === 4 ? b.writeUInt32BE(v, at) : n === 8 ? b.writeBigUInt64BE(BigInt(v), at) : undefined);
  const items = version < 2 ? b.readUInt16BE(at) : b.readUInt32BE(at);
  at += version < 2 ? 2 : 4;
  for (let i = 0; i < items; i++) {
    at += version < 2 ? 2 : 4; // item ID
    const method = version >= 1 ? b.readUInt16BE(at) & 15 : 0;
    if (version >= 1) at += 2;
    at += 2; // data reference index
    const base = read(baseSize);
    if (method === 0 && baseSize > 0) write(baseSize, shiftAfter(base));
    at += baseSize;
    const extents = b.readUInt16BE(at);
    at += 2;
    for (let e = 0; e < extents; e++) {
      at += indexSize;
      if (method === 0 && baseSize === 0) write(offsetSize, shiftAfter(read(offsetSize)));
      at += offsetSize + lengthSize;
    }
  }
}

/**
 * A HEIC of a PNG fixture. With `storedTurnedClockwise`, the pixels are stored turned a quarter clockwise and the
 * file's irot turns them back (what a phone held sideways writes): an upright photo for a viewer that honours it.
 */
export function heicOf(png: string, { storedTurnedClockwise = false, quality = 90 } = {}): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'facies-heic-'));
  try {
    let source = png;
    if (storedTurnedClockwise) {
      source = join(dir, 'stored.png');
      execFileSync(PYTHON, [
        '-c',
        'import sys; from PIL import Image; Image.open(sys.argv[1]).convert("RGB").transpose(Image.ROTATE_270).save(sys.argv[2])',
        png,
        source,
      ]);
    }
    const out = join(dir, 'photo.heic');
    execFileSync(systemTool('heifEnc'), ['-q', String(quality), '-o', out, source], { stdio: 'ignore' });
    const heic = readFileSync(out);
    return storedTurnedClockwise ? withRotation(heic, 1) : heic;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
