// Batch aligner for the training kit: runs the app's own screening pipeline (face search, ArcFace alignment, quality
// checks: src/screening/pipeline.ts) in headless Chromium over a folder of photos, so training crops are made exactly
// as the app makes them at screening time (no train/serve skew).
//
//   npx tsx models/training/aligner/align-batch.ts <photos folder> <out folder> [--labels labels.csv]
//
// Writes <out>/crops/*.png (112×112), <out>/alignment.csv (one row per photo: status, keypoints, quality) and,
// with --labels (CSV with path,label,patient_id[,age,sex,site], path relative to the photos folder), the training
// manifest <out>/manifest.csv for the photos that gave a crop.
import { chromium } from '@playwright/test';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, extname, join, relative, resolve } from 'node:path';
import { createServer, type Plugin } from 'vite';
import { chromiumArgs } from '../../../e2e/browser';
import type { AlignedPhotoRow } from './aligner-page';
import { CHROMIUM } from '../../../scripts/system-tools';

const REPO = resolve(import.meta.dirname, '../../..');
const PHOTO_TYPES: Record<string, string> = {
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.png': 'image/png',
  '.webp': 'image/webp',
  '.bmp': 'image/bmp',
  '.gif': 'image/gif',
  '.avif': 'image/avif',
};
const CHECKS = ['face-count', 'face-size', 'roll', 'yaw', 'sharpness', 'brightness', 'clipping', 'cut-off', 'occlusion'];

export interface BatchRow extends Omit<AlignedPhotoRow, 'cropPng'> {
  /** Photo path relative to the photos folder. */
  photo: string;
  /** Crop path relative to the out folder. */
  crop?: string;
}

export async function listPhotos(folder: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(folder, { withFileTypes: true, recursive: true })) {
    const path = join(entry.parentPath, entry.name);
    if (entry.isFile() && PHOTO_TYPES[extname(entry.name).toLowerCase()]) out.push(relative(folder, path));
  }
  return out.sort();
}

/** The photos are served to the page by index from this private dev server; nothing is uploaded anywhere. */
function photoServer(folder: string, photos: string[]): Plugin {
  return {
    name: 'facies-aligner-photos',
    configureServer(server) {
      server.middlewares.use('/__photos', (req, res, next) => {
        const photo = photos[Number((req.url ?? '').slice(1))];
        if (photo === undefined) return next();
        res.setHeader('Content-Type', PHOTO_TYPES[extname(photo).toLowerCase()] ?? 'application/octet-stream');
        createReadStream(join(folder, photo)).pipe(res);
      });
    },
  };
}

export async function alignBatch(photosDir: string, outDir: string, { log = console.log }: { log?: (line: string) => void } = {}): Promise<BatchRow[]> {
  const folder = resolve(photosDir);
  const photos = await listPhotos(folder);
  if (photos.length === 0) throw new Error(`no photos (${Object.keys(PHOTO_TYPES).join(', ')}) in ${folder}`);
  await mkdir(join(outDir, 'crops'), { recursive: true });
  const server = await createServer({
    configFile: false,
    root: REPO,
    publicDir: join(REPO, 'public'), // /vendor/mediapipe: the self-hosted detector runtime and model
    cacheDir: join(tmpdir(), 'facies-aligner-vite'),
    optimizeDeps: { entries: ['models/training/aligner/aligner.html'] },
    logLevel: 'error',
    server: { port: 0, host: '127.0.0.1', hmr: false, watch: null },
    plugins: [photoServer(folder, photos)],
  });
  await server.listen();
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: chromiumArgs() });
  const rows: BatchRow[] = [];
  try {
    const page = await browser.newPage();
    const origin = server.resolvedUrls!.local[0]!.replace(/\/$/, '');
    await page.goto(`${origin}/models/training/aligner/aligner.html`);
    await page.waitForFunction(() => document.body.dataset.ready === 'true', undefined, { timeout: 120_000 });
    const used = new Set<string>();
    for (const [i, photo] of photos.entries()) {
      const { cropPng, ...row } = await page.evaluate(
        ([url, name]) =>
          (globalThis as unknown as { faciesAligner: { alignPhoto: (u: string, n: string) => Promise<AlignedPhotoRow> } }).faciesAligner.alignPhoto(url, name),
        [`/__photos/${i}`, basename(photo)] as const,
      );
      const out: BatchRow = { photo, ...row };
      if (cropPng) {
        let name = photo.replace(/\.[^.]+$/, '').replace(/[\\/]/g, '__') + '.png';
        while (used.has(name)) name = name.replace(/\.png$/, '_.png');
        used.add(name);
        out.crop = `crops/${name}`;
        await writeFile(join(outDir, out.crop), Buffer.from(cropPng, 'base64'));
      }
      rows.push(out);
      log(`${photo}: ${out.status}${out.crop ? ` → ${out.crop} (quality ${out.quality!.overall})` : out.detail ? ` (${out.detail})` : ''}`);
    }
  } finally {
    await browser.close();
    await server.close();
  }
  await writeFile(join(outDir, 'alignment.csv'), alignmentCsv(rows));
  return rows;
}

const csvCell = (v: unknown) => {
  const s = v === undefined || v === null ? '' : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

export function alignmentCsv(rows: BatchRow[]): string {
  const kp = ['right_eye', 'left_eye', 'nose_tip', 'mouth_centre', 'right_ear', 'left_ear'].flatMap((k) => [`${k}_x`, `${k}_y`]);
  const header = [
    'photo',
    'crop',
    'status',
    'detail',
    'width',
    'height',
    'turn',
    'faces',
    'score',
    'box_x',
    'box_y',
    'box_w',
    'box_h',
    ...kp,
    'scale',
    'roll_deg',
    'prefilter',
    'quality',
    ...CHECKS.flatMap((c) => [`${c}`, `${c}_status`]),
  ];
  const lines = rows.map((r) => {
    const checks = new Map(r.quality?.checks.map((c) => [c.id, c]));
    return [
      r.photo,
      r.crop,
      r.status,
      r.detail,
      r.width,
      r.height,
      r.turn,
      r.faces,
      r.score?.toFixed(4),
      ...(r.box ?? [, , , ,]).map((v) => v?.toFixed(2)),
      ...(r.keypoints ?? Array(6).fill([undefined, undefined])).flat().map((v: number | undefined) => v?.toFixed(3)),
      r.scale?.toFixed(5),
      r.rollDegrees?.toFixed(2),
      r.prefilterFactor,
      r.quality?.overall,
      ...CHECKS.flatMap((c) => [checks.get(c)?.value.toFixed(4), checks.get(c)?.status]),
    ]
      .map(csvCell)
      .join(',');
  });
  return [header.join(','), ...lines].join('\n') + '\n';
}

/** Minimal RFC 4180 reader (quoted cells, doubled quotes), enough for a labels sheet. */
export function parseCsv(text: string): Record<string, string>[] {
  const records: string[][] = [];
  let row: string[] = [],
    cell = '',
    quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') ((cell += '"'), i++);
      else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') (row.push(cell), (cell = ''));
    else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      (row.push(cell), records.push(row), (row = []), (cell = ''));
    } else cell += ch;
  }
  if (cell || row.length) (row.push(cell), records.push(row));
  const [header, ...body] = records.filter((r) => r.some((c) => c.trim()));
  if (!header) return [];
  const keys = header.map((h) => h.trim().replace(/^\uFEFF/, ''));
  return body.map((r) => Object.fromEntries(keys.map((k, i) => [k, (r[i] ?? '').trim()])));
}

/** The training manifest: the labels sheet's rows whose photo gave a crop, with path → the crop. */
export function trainingManifest(labels: Record<string, string>[], rows: BatchRow[]): { csv: string; unmatched: string[]; dropped: string[] } {
  const byPhoto = new Map(rows.map((r) => [r.photo, r]));
  const extra = ['age', 'sex', 'site'].filter((k) => labels.some((l) => l[k]));
  const lines = [['path', 'label', 'patient_id', ...extra, 'quality'].join(',')];
  const unmatched: string[] = [],
    dropped: string[] = [];
  for (const l of labels) {
    const r = byPhoto.get(l.path ?? '');
    if (!r) unmatched.push(l.path ?? '');
    else if (!r.crop) dropped.push(`${l.path} (${r.status})`);
    else lines.push([r.crop, l.label, l.patient_id, ...extra.map((k) => l[k]), r.quality?.overall].map(csvCell).join(','));
  }
  return { csv: lines.join('\n') + '\n', unmatched, dropped };
}

async function main(argv: string[]) {
  const labelsAt = argv.indexOf('--labels');
  const labelsPath = labelsAt >= 0 ? argv[labelsAt + 1] : undefined;
  const [photos, out] = argv.filter((_, i) => labelsAt < 0 || (i !== labelsAt && i !== labelsAt + 1));
  if (!photos || !out) throw new Error('usage: npx tsx models/training/aligner/align-batch.ts <photos folder> <out folder> [--labels labels.csv]');
  if (!(await stat(photos).catch(() => null))?.isDirectory()) throw new Error(`${photos} is not a folder`);
  const labels = labelsPath ? parseCsv(await readFile(labelsPath, 'utf8')) : null;
  const t0 = performance.now();
  const rows = await alignBatch(photos, out);
  const ok = rows.filter((r) => r.crop).length;
  console.log(`${ok} of ${rows.length} photos aligned in ${((performance.now() - t0) / 1000).toFixed(1)} s → ${join(out, 'alignment.csv')}`);
  if (labels) {
    const m = trainingManifest(labels, rows);
    await writeFile(join(out, 'manifest.csv'), m.csv);
    console.log(`training manifest ${join(out, 'manifest.csv')}: ${m.csv.trim().split('\n').length - 1} crops`);
    if (m.dropped.length) console.log(`  no crop (left out): ${m.dropped.join('; ')}`);
    if (m.unmatched.length) console.log(`  labelled photos not found in ${photos}: ${m.unmatched.join('; ')}`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    console.error(`align-batch: ${(e as Error).message}`);
    process.exit(1);
  });
}
