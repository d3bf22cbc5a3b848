// Face-stage benchmark: a sweep of photos made from the repository's face photos with known transforms (face size
// 3–100 % of the longer side in 1–16 MP frames, roll, stored turns, blur at crop scale, exposure, JPEG quality,
// no-face photos, two faces), each run through the app's screening pipeline in headless Chromium against the
// production build. Prints a row per cell and the targets, writes JSON; then what the extra face-search passes
// cost on photos where one look finds the face, with the model loaded, measured in the same run.
//
//   npm run bench:faces                 the whole sweep; the demo IR-100 for the timing
//   npm run bench:faces -- --short      CI: a subset, the test model; exits non-zero when a target is missed
//   options: --no-build  --out file.json  --model <folder>  --repeats N
//            --single-look (the sweep with one look at the whole photo and no second look: the search before the extra passes)
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from '@playwright/test';
import { chromiumArgs } from '../../e2e/browser.ts';
import { FACE_FIXTURES } from '../../tests/fixtures/faces.ts';
import { CHROMIUM } from '../system-tools.ts';
import { buildBenchPages, serveBenchPages } from './bench-server.ts';
import { evaluateTargets, sweepCells, type CellOutcome } from './face-cells.ts';
import type { FaciesBench } from './page/bench-page.ts';
import { formatSummary, formatTable, summarize } from './stats.ts';

const root = resolve(import.meta.dirname, '../..');
const { values: args } = parseArgs({
  options: {
    short: { type: 'boolean', default: false },
    'no-build': { type: 'boolean', default: false },
    out: { type: 'string' },
    model: { type: 'string' },
    repeats: { type: 'string' },
    'single-look': { type: 'boolean', default: false },
  },
});
const short = args.short;
const model = args.model ?? (short ? 'test-tiny' : 'demo');
const repeats = Number(args.repeats ?? (short ? 2 : 5));
const port = Number(process.env.FACIES_PORT ?? 4308);
const dist = process.env.FACIES_DIST ?? 'dist-bench';
const fixtures = Object.fromEntries(
  ['astronaut.png', 'camera.png', 'chelsea.png', 'coffee.png'].map((f) => [f, readFileSync(join(FACE_FIXTURES, f)).toString('base64')]),
);

if (!args['no-build']) buildBenchPages(dist);
const server = await serveBenchPages(port, dist);
const browser = await chromium.launch({ executablePath: CHROMIUM, args: chromiumArgs() });
const cells = sweepCells(short);
let outcomes: CellOutcome[];
let cost: Awaited<ReturnType<FaciesBench['searchCost']>>;
const t0 = performance.now();
try {
  const page = await browser.newPage();
  page.on('pageerror', (e) => console.error(`bench page: ${e.message}`));
  await page.goto(`http://localhost:${port}/scripts/bench/page/index.html`);
  await page.waitForSelector('#bench-status[data-ready]');
  type Page = { faciesBench: FaciesBench };
  const search = args['single-look'] ? { refine: false, extraPasses: false } : {};
  outcomes = await page.evaluate((o) => (window as unknown as Page).faciesBench.faceSweep(o), { cells, fixtures, search });
  // What the extra passes cost where one look is enough: photos whose face is 20–60 % of the frame, model loaded.
  await page.evaluate((o) => (window as unknown as Page).faciesBench.load(o), {
    modelBaseUrl: `/models/${model}/`,
    backend: 'wasm' as const,
    photoBase64: fixtures['astronaut.png']!,
    photoType: 'image/png',
  });
  const timed = cells.filter((c) => c.sweep === 'size' && (c.faceWidth ?? 0) >= 0.2 && (c.faceWidth ?? 0) <= 0.6);
  cost = await page.evaluate((o) => (window as unknown as Page).faciesBench.searchCost(o), { cells: timed, fixtures, repeats });
} finally {
  await browser.close();
  await server.close();
}

const f = (v: number | undefined, digits = 2) => (v === undefined ? '' : v.toFixed(digits));
console.log(
  formatTable(
    ['cell', 'found', 'chosen', 'faces', 'turn', 'calls', 'search ms', 'eye err', 'mouth err', 'eyes px', 'quality', 'blur px'],
    outcomes.map((o) => [
      o.id,
      o.found ? 'yes' : 'no',
      o.found ? (o.chosenRight ? 'right' : 'WRONG') : '',
      String(o.faces),
      o.found ? `${o.turn}°` : '',
      String(o.detectorCalls),
      f(o.detectMs, 0),
      f(o.eyeErrorPx),
      f(o.mouthErrorPx),
      f(o.eyesApartPx, 0),
      o.quality ?? o.error ?? '',
      o.sharpness ? `${o.sharpness.status} ${f(o.sharpness.value)}` : '',
    ]),
  ),
);

const targets = evaluateTargets(cells, outcomes);
console.log('\nTargets\n');
for (const t of targets)
  console.log(
    `${t.failures.length ? 'MISSED' : 'met   '}  ${t.name}: ${t.cells.length - t.failures.length}/${t.cells.length}${t.failures.length ? ` (missed: ${t.failures.join('; ')})` : ''}`,
  );

const median = (xs: number[]) => summarize(xs)!.median;
const costRows = cost.map((c) => ({
  id: c.id,
  shipped: summarize(c.shippedMs)!,
  singleLook: summarize(c.singleLookMs)!,
  extra: median(c.shippedMs) / median(c.singleLookMs) - 1,
}));
console.log(`\nPhoto → result (JPEG file → probabilities, ${model} on WASM), the face found in the first look\n`);
console.log(
  formatTable(
    ['photo', 'shipped search', 'one look only', 'extra'],
    costRows.map((r) => [r.id, formatSummary(r.shipped), formatSummary(r.singleLook), `${(r.extra * 100).toFixed(0)} %`]),
  ),
);
const medianExtra = median(costRows.map((r) => r.extra));
console.log(
  `\nMedian extra time of the shipped face search: ${(medianExtra * 100).toFixed(0)} % (target ≤ 30 %); sweep took ${((performance.now() - t0) / 1000).toFixed(0)} s`,
);

const out = args.out ?? join(root, 'test-results/bench', short ? 'faces-short.json' : 'faces.json');
mkdirSync(dirname(out), { recursive: true });
writeFileSync(
  out,
  JSON.stringify({ date: new Date().toISOString(), short, model, cells, outcomes, targets, searchCost: { rows: costRows, medianExtra } }, null, 2),
);
console.log(`wrote ${out}`);
if (short && targets.some((t) => t.failures.length > 0)) {
  console.error('bench:faces --short: a face-stage target was missed (see above)');
  process.exit(1);
}
