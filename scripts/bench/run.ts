// Facies benchmark: every stage of a screening as the user experiences it, in headless Chromium against the
// production build, next to the same ONNX model in native onnxruntime-node (the browser/native ratio is what
// compares across machines; absolute times on a shared machine drift).
//
//   npm run bench                 full: IR-100 on WASM 1 and 2 threads, WebGPU on a hardware adapter, native 1 and 2 threads
//   npm run bench:short           CI: the tiny model on WASM and WebGPU + one IR-100 WASM session and its memory by stage (~2–3 min)
//   options: --models demo,test-tiny  --repeats N  --loads N  --threads 1,2  --out file.json  --no-build  --webgpu-emulated-full
//            --session-options JSON (a lever under test, merged over the worker's session options)
//            --no-runtime-warm-up (start ORT inside the model's session creation, as before the warm-up)
//            --compare-export (also measure the float32 export an optimised model was made from)
import { execFileSync, execSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, freemem, loadavg, platform, release, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { chromium, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { chromiumArgs } from '../../e2e/browser.ts';
import { selfTestImage, validateManifest } from '../../src/model/manifest.ts';
import { toNchwFloat32 } from '../../src/pipeline/preprocess.ts';
import type { FaciesBench, LoadReport, StageSample } from './page/bench-page.ts';
import type { SimdPeak } from './page/simd-peak.ts';
import type { LoadTuning } from '../../src/inference/protocol.ts';
import { formatSummary, formatTable, ratio, summarize, type Summary } from './stats.ts';
import { probabilityDrift } from './drift.ts';
import { collectFixtureInputs, DEFAULT_FIXTURE_PHOTO, type FixtureInputs } from './fixtures.ts';
import { buildBenchPages, serveBenchPages } from './bench-server.ts';
import { EXPORT_FILE } from '../models/optimize-model.ts';
import { buildManifest } from '../models/build-manifest.ts';
import { linkOrCopy } from '../link-or-copy.ts';
import { CHROMIUM } from '../system-tools.ts';

const root = resolve(import.meta.dirname, '../..');
const { values: args } = parseArgs({
  options: {
    short: { type: 'boolean', default: false },
    models: { type: 'string' },
    repeats: { type: 'string' },
    loads: { type: 'string' },
    out: { type: 'string' },
    photo: { type: 'string', default: DEFAULT_FIXTURE_PHOTO },
    'no-build': { type: 'boolean', default: false },
    'webgpu-emulated-full': { type: 'boolean', default: false },
    'session-options': { type: 'string' },
    'no-runtime-warm-up': { type: 'boolean', default: false },
    'no-widen-float16': { type: 'boolean', default: false },
    'no-release-weights': { type: 'boolean', default: false },
    'compare-export': { type: 'boolean', default: false },
    threads: { type: 'string' },
  },
});
/** A lever under test, e.g. --session-options '{"graphOptimizationLevel":"extended"}' (merged over the worker's). */
const sessionOptions = args['session-options'] ? (JSON.parse(args['session-options']) as LoadTuning['sessionOptions']) : undefined;
const short = args.short;
const port = Number(process.env.FACIES_PORT ?? 4307);
const dist = process.env.FACIES_DIST ?? 'dist-bench';
const models = (args.models ?? (short ? 'test-tiny,demo' : 'demo')).split(',').filter(Boolean);
const repeats = Number(args.repeats ?? (short ? 2 : 7));
const loads = Number(args.loads ?? (short ? 1 : 3));
const photoBase64 = readFileSync(args.photo).toString('base64');
const photoType = args.photo.endsWith('.png') ? 'image/png' : 'image/jpeg';

/**
 * --compare-export: the float32 export an optimised model was made from, as its own model folder
 * (models/bench-<id>-export/, git-ignored; the file is hard-linked), so before and after run side by side.
 */
async function exportFolder(model: string): Promise<string | null> {
  const dir = join(root, 'models', model);
  if (!existsSync(join(dir, EXPORT_FILE))) return null;
  const id = `bench-${model}-export`;
  const target = join(root, 'models', id);
  mkdirSync(target, { recursive: true });
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  delete config.optimize;
  Object.assign(config, { id: `${config.id}-export`, bundled: false });
  writeFileSync(join(target, 'config.json'), JSON.stringify(config, null, 2) + '\n');
  linkOrCopy(join(dir, EXPORT_FILE), join(target, 'model.onnx'));
  await buildManifest(target, config);
  return id;
}

/** Short mode (CI): 2 threads only; the IR-100 gets one session and one repetition, on WASM, to keep it at 1–2 min. */
const isLarge = (id: string) => JSON.parse(readFileSync(join(root, 'models', id, 'config.json'), 'utf8')).architecture !== 'iresnet-tiny';

type Ep = 'wasm' | 'webgpu';
interface BrowserResult {
  model: string;
  runtime: 'browser';
  ep: Ep;
  threads: number;
  emulated: boolean;
  adapter?: unknown;
  reason: string;
  load: {
    wallMs: Summary | null;
    downloadMs: Summary | null;
    runtimeStartMs: Summary | null;
    runtimeWaitMs: Summary | null;
    sessionMs: Summary | null;
    selfTestMs: Summary | null;
    /** ONNX Runtime's WebAssembly memory (MB) at each step of the load (ModelReady.wasmMemoryMB). */
    wasmMB: { modelRead: Summary | null; sessionCreated: Summary | null; selfTested: Summary | null };
  };
  detector: { createMs: Summary | null; firstDetectionMs: Summary | null };
  stages: Record<Exclude<keyof StageSample, 'longTasksMs' | 'probabilities' | 'jsHeapBytes'>, Summary | null>;
  longTasks: { count: number; maxMs: number };
  peakJsHeapMB: number;
  peakProcessRssMB: number;
  probabilities: number[];
  /** Largest |Δp| between this browser backend and native onnxruntime-node on the manifest's self-test input. */
  selfTestDeviation: number;
  cpuFallbackWarnings: string[];
}
interface NativeResult {
  model: string;
  runtime: 'native';
  ep: 'cpu';
  threads: number;
  sessionMs: Summary | null;
  inferenceMs: Summary | null;
  inferenceFlipBatchMs: Summary | null;
  probabilities: number[];
}

/** An optimised model (model.onnx) against the float32 export it was made from, on real-face inputs. */
interface FixtureDrift {
  model: string;
  storage: string;
  bytes: number;
  exportBytes: number;
  inputs: string[];
  noFaceIn: string[];
  maxAbsDelta: number;
}

// --- process memory: the browser and everything it started are children of this process (Linux /proc via ps) ---
function descendantsRssKb(): number {
  if (platform() !== 'linux' && platform() !== 'darwin') return 0;
  const rows = execFileSync('ps', ['-eo', 'pid=,ppid=,rss='], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s+/).map(Number) as [number, number, number]);
  const children = new Map<number, [number, number][]>();
  for (const [pid, ppid, rss] of rows) children.set(ppid, [...(children.get(ppid) ?? []), [pid, rss]]);
  let total = 0;
  const stack = [process.pid];
  while (stack.length)
    for (const [pid, rss] of children.get(stack.pop()!) ?? []) {
      total += rss;
      stack.push(pid);
    }
  return total;
}
function rssSampler() {
  let peak = 0;
  const timer = setInterval(() => (peak = Math.max(peak, descendantsRssKb())), 250);
  return { stop: () => (clearInterval(timer), Math.round(Math.max(peak, descendantsRssKb()) / 1024)) };
}

// --- native onnxruntime-node: same file, session from bytes in memory like the browser's ---
async function native(model: string, threads: number): Promise<NativeResult> {
  const dir = join(root, 'models', model);
  const manifest = validateManifest(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')));
  const bytes = readFileSync(join(dir, 'model.onnx'));
  const single = toNchwFloat32(selfTestImage(manifest), manifest.normalization);
  const pair = new Float32Array(2 * single.length);
  pair.set(single);
  pair.set(single, single.length);
  const sessionMs: number[] = [];
  let session: ort.InferenceSession | null = null;
  for (let i = 0; i < loads; i++) {
    await session?.release();
    const t = performance.now();
    session = await ort.InferenceSession.create(bytes, { executionProviders: ['cpu'], intraOpNumThreads: threads, graphOptimizationLevel: 'all' });
    sessionMs.push(performance.now() - t);
  }
  const run = async (data: Float32Array, n: number) => {
    const out = await session!.run({ [manifest.input.name]: new ort.Tensor('float32', data, [n, 3, 112, 112]) });
    return Array.from(out[manifest.output.name]!.data as Float32Array);
  };
  const probabilities = await run(single, 1); // warm-up, as the app's self-test
  const one: number[] = [];
  const two: number[] = [];
  for (let i = 0; i < repeats; i++) {
    let t = performance.now();
    await run(single, 1);
    one.push(performance.now() - t);
    t = performance.now();
    await run(pair, 2);
    two.push(performance.now() - t);
  }
  await session!.release();
  return {
    model,
    runtime: 'native',
    ep: 'cpu',
    threads,
    sessionMs: summarize(sessionMs),
    inferenceMs: summarize(one),
    inferenceFlipBatchMs: summarize(two),
    probabilities,
  };
}

// --- the browser ---
async function benchPage(context: BrowserContext, warnings: string[]): Promise<Page> {
  const page = await context.newPage();
  const keep = (text: string) => /not assigned|fall ?back|CPU/i.test(text) && warnings.push(text.slice(0, 300));
  page.on('console', (m) => m.type() !== 'debug' && keep(m.text()));
  await page.goto(`http://localhost:${port}/scripts/bench/page/index.html`);
  await page.waitForSelector('#bench-status[data-ready]');
  return page;
}

async function browserRun(
  browser: Browser,
  model: string,
  ep: Ep,
  threads: number,
  emulated: boolean,
  adapter: unknown,
  nLoads: number,
  nRepeats: number,
): Promise<BrowserResult> {
  const memory = rssSampler();
  const warnings: string[] = [];
  // One profile per configuration: the first load downloads the model into the app's store, later loads read it from there.
  const context = await browser.newContext();
  const reports: LoadReport[] = [];
  let page: Page | null = null;
  for (let i = 0; i < nLoads; i++) {
    await page?.close();
    page = await benchPage(context, warnings);
    reports.push(
      await page.evaluate((o) => (window as unknown as { faciesBench: FaciesBench }).faciesBench.load(o), {
        modelBaseUrl: `/models/${model}/`,
        backend: ep,
        tuning: {
          threads,
          ...(sessionOptions ? { sessionOptions } : {}),
          ...(args['no-runtime-warm-up'] ? { runtimeWarmUp: false } : {}),
          ...(args['no-widen-float16'] ? { widenFloat16: false } : {}),
          ...(args['no-release-weights'] ? { releaseWeightsAsRead: false } : {}),
        },
        photoBase64,
        photoType,
      }),
    );
  }
  const samples: StageSample[] = [];
  for (let i = 0; i < nRepeats; i++)
    samples.push(await page!.evaluate((o) => (window as unknown as { faciesBench: FaciesBench }).faciesBench.stages(o), { photoBase64, photoType }));
  await context.close();
  const last = reports[reports.length - 1]!;
  const s = (k: keyof StageSample) => summarize(samples.map((x) => x[k] as number));
  const t = (k: keyof LoadReport['ready']['timings']) => summarize(reports.map((r) => r.ready.timings[k]));
  const longTasks = samples.flatMap((x) => x.longTasksMs);
  return {
    model,
    runtime: 'browser',
    ep: last.ready.backend.ep,
    threads: last.ready.backend.threads,
    emulated,
    ...(adapter ? { adapter } : {}),
    reason: last.ready.backend.reason,
    load: {
      wallMs: summarize(reports.map((r) => r.wallMs)),
      downloadMs: t('downloadMs'),
      runtimeStartMs: t('runtimeStartMs'),
      runtimeWaitMs: t('runtimeWaitMs'),
      sessionMs: t('sessionMs'),
      selfTestMs: t('selfTestMs'),
      wasmMB: {
        modelRead: summarize(reports.map((r) => r.ready.wasmMemoryMB.modelRead)),
        sessionCreated: summarize(reports.map((r) => r.ready.wasmMemoryMB.sessionCreated)),
        selfTested: summarize(reports.map((r) => r.ready.wasmMemoryMB.selfTested)),
      },
    },
    detector: { createMs: summarize(reports.map((r) => r.detectorCreateMs)), firstDetectionMs: summarize(reports.map((r) => r.detectorFirstMs)) },
    stages: {
      decodeMs: s('decodeMs'),
      detectMs: s('detectMs'),
      detectorCalls: s('detectorCalls'),
      alignPreprocessMs: s('alignPreprocessMs'),
      inferenceMs: s('inferenceMs'),
      inferenceWorkerMs: s('inferenceWorkerMs'),
      inferenceFlipBatchMs: s('inferenceFlipBatchMs'),
      photoToResultMs: s('photoToResultMs'),
      photoToResultSinglePassMs: s('photoToResultSinglePassMs'),
    },
    longTasks: { count: longTasks.length, maxMs: Math.round(Math.max(0, ...longTasks)) },
    peakJsHeapMB: Math.round(Math.max(...samples.map((x) => x.jsHeapBytes)) / 1048576),
    peakProcessRssMB: memory.stop(),
    probabilities: samples[samples.length - 1]?.probabilities ?? [],
    selfTestDeviation: last.ready.selfTestDeviation,
    cpuFallbackWarnings: [...new Set(warnings)],
  };
}

// --- memory by stage: the app page itself, per browser process, the page's and the worker's JS heap ---
interface ProcessRss {
  rendererMB: number;
  browserMB: number;
  gpuMB: number;
  otherMB: number;
}
interface MemoryStage extends ProcessRss {
  stage: string;
  /** Highest renderer RSS sampled (every 100 ms) while the stage ran. */
  peakRendererMB: number;
  /** The page's JS heap (CDP Runtime.getHeapUsage). */
  pageJsMB: number;
  /** The worker's JS heap (performance.measureUserAgentSpecificMemory(), which Chromium answers only after ~60 s: measured at the last stage of a full run; null otherwise). ORT's WebAssembly memory is not in it. */
  workerJsMB: number | null;
  /** ONNX Runtime's WebAssembly memory in the worker after the model's self-test (the app's data-wasm-mb); null before a model is ready. */
  ortWasmMB: number | null;
  /** The page's WebAssembly memories: MediaPipe's face detector (COUNT_PAGE_WASM_MEMORIES). */
  pageWasmMB: number;
}

/**
 * Counts the WebAssembly memories the page makes (MediaPipe's), as src/platform/wasm-memory.ts does for ORT in the
 * worker: an init script, so it is in place before the app's modules run. Plain JavaScript in a string: a function
 * compiled by tsx would carry its helpers (__name) into the page, where they do not exist.
 */
const COUNT_PAGE_WASM_MEMORIES = `(() => {
  const memories = [];
  const seen = new WeakSet();
  const Memory = WebAssembly.Memory; // the native class: an exported memory is not an instance of the subclass below
  const remember = (value) => {
    if (value instanceof Memory && !seen.has(value)) {
      seen.add(value);
      memories.push(new WeakRef(value));
    }
  };
  const fromInstance = (instance) => Object.values(instance.exports).forEach(remember);
  WebAssembly.Memory = class extends Memory {
    constructor(descriptor) {
      super(descriptor);
      remember(this);
    }
  };
  const Instance = WebAssembly.Instance;
  WebAssembly.Instance = class extends Instance {
    constructor(module, imports) {
      super(module, imports);
      fromInstance(this);
    }
  };
  for (const name of ['instantiate', 'instantiateStreaming']) {
    const original = WebAssembly[name].bind(WebAssembly);
    WebAssembly[name] = async (...args) => {
      const result = await original(...args);
      fromInstance(result instanceof Instance ? result : result.instance);
      return result;
    };
  }
  globalThis.faciesPageWasmBytes = () => memories.reduce((bytes, ref) => bytes + (ref.deref()?.buffer.byteLength ?? 0), 0);
})();`;

/** RSS of the browser's processes: the largest renderer (the app's tab), the browser, the GPU process, the rest. */
function processRss(): ProcessRss {
  const rows = execFileSync('ps', ['-eo', 'pid=,ppid=,rss=,args='], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((l) => {
      const [pid, ppid, rss, ...cmd] = l.trim().split(/\s+/);
      return { pid: Number(pid), ppid: Number(ppid), kb: Number(rss), cmd: cmd.join(' ') };
    });
  const mine = new Set([process.pid]);
  for (let grew = true; grew;) {
    grew = false;
    for (const r of rows)
      if (mine.has(r.ppid) && !mine.has(r.pid)) {
        mine.add(r.pid);
        grew = true;
      }
  }
  const chromium = rows.filter((r) => mine.has(r.pid) && /chrom/.test(r.cmd));
  const mb = (kb: number) => Math.round(kb / 1024);
  const renderers = chromium.filter((r) => r.cmd.includes('--type=renderer'));
  const renderer = Math.max(0, ...renderers.map((r) => r.kb));
  const browserKb = chromium.filter((r) => !r.cmd.includes('--type=')).reduce((a, r) => a + r.kb, 0);
  const gpu = chromium.filter((r) => r.cmd.includes('--type=gpu-process')).reduce((a, r) => a + r.kb, 0);
  const all = chromium.reduce((a, r) => a + r.kb, 0);
  return { rendererMB: mb(renderer), browserMB: mb(browserKb), gpuMB: mb(gpu), otherMB: mb(all - renderer - browserKb - gpu) };
}

async function workerJsMB(page: Page): Promise<number | null> {
  const bytes = await page
    .evaluate(async () => {
      const measure = (
        performance as unknown as { measureUserAgentSpecificMemory?: () => Promise<{ breakdown: { bytes: number; attribution: { scope: string }[] }[] }> }
      ).measureUserAgentSpecificMemory;
      if (!measure || !crossOriginIsolated) return null;
      const r = await measure.call(performance);
      return r.breakdown.filter((b) => b.attribution.some((a) => a.scope === 'DedicatedWorkerGlobalScope')).reduce((a, b) => a + b.bytes, 0);
    })
    .catch(() => null);
  return bytes === null ? null : Math.round(bytes / 1048576);
}

/**
 * The app (not the bench page) from an empty page through model load, a reload from the store and `screenings`
 * screenings, with each stage's memory; the renderer is the process a mobile browser kills.
 */
async function memoryBreakdown(model: string, screenings: number): Promise<MemoryStage[]> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: chromiumArgs() });
  const stages: MemoryStage[] = [];
  let peak = 0;
  const timer = setInterval(() => (peak = Math.max(peak, processRss().rendererMB)), 100);
  try {
    const context = await browser.newContext();
    await context.addInitScript({ content: COUNT_PAGE_WASM_MEMORIES });
    let page = await context.newPage();
    let cdp = await context.newCDPSession(page);
    const readyAttribute = (name: string) =>
      page
        .getByTestId('model-ready')
        .getAttribute(name, { timeout: 1000 })
        .then((v) => (v === null ? null : Number(v)))
        .catch(() => null);
    const mark = async (stage: string, worker = false) => {
      const now = processRss();
      const { usedSize } = (await cdp.send('Runtime.getHeapUsage')) as { usedSize: number };
      stages.push({
        stage,
        ...now,
        peakRendererMB: Math.max(peak, now.rendererMB),
        pageJsMB: Math.round(usedSize / 1048576),
        workerJsMB: worker ? await workerJsMB(page) : null,
        ortWasmMB: await readyAttribute('data-wasm-mb'),
        pageWasmMB: Math.round(
          (await page.evaluate(() => (globalThis as unknown as { faciesPageWasmBytes?: () => number }).faciesPageWasmBytes?.() ?? 0)) / 1048576,
        ),
      });
      peak = 0;
    };
    await page.goto('about:blank');
    await mark('empty page');
    const ready = async () => {
      await page.getByTestId('model-ready').or(page.getByTestId('model-error')).waitFor({ timeout: 300_000 });
      if (await page.getByTestId('model-error').count()) throw new Error(`memory breakdown: ${model} failed to load`);
    };
    await page.goto(`http://localhost:${port}/?model=${model}&backend=wasm`);
    await ready();
    await mark('model ready (first visit: downloaded, stored)');
    await page.reload();
    await ready();
    // In place, the old page's worker (its WebAssembly memory) is still being torn down in the same renderer.
    await mark('model ready (reload in place: read from the store)');
    // A discarded tab comes back in a new renderer: close the page, let its process go, open the app again.
    await page.close();
    const gone = Date.now() + 10_000;
    while (processRss().rendererMB > 0 && Date.now() < gone) await new Promise((r) => setTimeout(r, 100));
    peak = 0;
    page = await context.newPage();
    cdp = await context.newCDPSession(page);
    await page.goto(`http://localhost:${port}/?model=${model}&backend=wasm`);
    await ready();
    await mark('model ready (reopened, as after a discard)');
    for (let i = 1; i <= screenings; i++) {
      await page.getByTestId('photo-input').setInputFiles(args.photo);
      await page.getByTestId('result').waitFor({ timeout: 300_000 });
      if (i === 1 || i === screenings) await mark(`screening ${i}`, !short && i === screenings);
      await page.evaluate(() => (location.hash = '#/about'));
      await page.evaluate(() => (location.hash = '#/'));
    }
  } finally {
    clearInterval(timer);
    await browser.close();
  }
  return stages;
}

/** The app itself: page load to "ready for photo" (model-ready), the model already in the app's store. */
async function coldStart(browser: Browser, model: string, n: number): Promise<Summary | null> {
  const times: number[] = [];
  const context = await browser.newContext();
  for (let i = 0; i <= n; i++) {
    const page = await context.newPage();
    const t = performance.now();
    await page.goto(`http://localhost:${port}/?model=${model}&backend=wasm`);
    await page.getByTestId('model-ready').or(page.getByTestId('model-error')).waitFor({ timeout: 300_000 });
    if (await page.getByTestId('model-error').count()) throw new Error(`cold start of ${model} failed: ${await page.getByTestId('model-error').innerText()}`);
    if (i > 0) times.push(performance.now() - t); // the first visit downloads and stores the model
    await page.close();
  }
  await context.close();
  return summarize(times);
}

// --- the compute ceiling: this browser's peak WebAssembly SIMD128 throughput, and the IR-100's share of it ---
/** Multiply-adds of one IR-100 image at 112×112, counted as 2 FLOPs each. */
const IR100_GFLOP_PER_IMAGE = 24.2;
const isIr100 = (id: string) => JSON.parse(readFileSync(join(root, 'models', id, 'config.json'), 'utf8')).architecture === 'iresnet100';

/** faciesBench.simdPeak() on a fresh bench page of this browser, before anything else runs in it. */
async function simdPeakIn(browser: Browser): Promise<SimdPeak> {
  const context = await browser.newContext();
  try {
    const page = await benchPage(context, []);
    return await page.evaluate(() => (window as unknown as { faciesBench: FaciesBench }).faciesBench.simdPeak());
  } finally {
    await context.close();
  }
}

function browserVersion(): string {
  try {
    return execSync(`${CHROMIUM} --version 2>/dev/null`, { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

// --- main ---
if (!args['no-build']) {
  execFileSync('npx', ['tsx', 'scripts/prepare-assets.ts'], { cwd: root, stdio: 'inherit' });
  buildBenchPages(dist);
}
if (args['compare-export'])
  for (const m of [...models]) {
    const id = await exportFolder(m);
    if (id) models.splice(models.indexOf(m), 0, id);
  }
const server = await serveBenchPages(port, dist);
const started = new Date();
const browserResults: BrowserResult[] = [];
const nativeResults: NativeResult[] = [];
const coldStarts: Record<string, Summary | null> = {};
const memory: Record<string, MemoryStage[]> = {};
const fixtureDrifts: FixtureDrift[] = [];
/** Made once per normalisation: detection and alignment of the fixture photo do not depend on the model. */
const fixtureInputs = new Map<string, FixtureInputs>();
const notes: string[] = [];
/** One per launch of the CPU browser (WASM). */
const simdPeaks: SimdPeak[] = [];
const log = (s: string) => console.log(`[bench ${((performance.now() / 1000) | 0).toString().padStart(4)} s] ${s}`);

const executablePath = CHROMIUM;
try {
  for (const model of models) {
    const large = isLarge(model);
    const nLoads = short && large ? 1 : loads;
    const nRepeats = short && large ? 1 : repeats;
    const threadCounts = args.threads ? args.threads.split(',').map(Number) : short ? [2] : [1, 2];
    for (const threads of threadCounts) {
      log(`native onnxruntime-node ${model}, ${threads} thread(s)`);
      nativeResults.push(await native(model, threads));
    }
    const cpu = await chromium.launch({ executablePath, args: chromiumArgs() });
    try {
      log('compute ceiling: WebAssembly SIMD128 peak, 1 and 2 workers');
      simdPeaks.push(await simdPeakIn(cpu));
      const dir = join(root, 'models', model);
      if (existsSync(join(dir, EXPORT_FILE))) {
        log(`fixture drift ${model}: model.onnx vs ${EXPORT_FILE}, native`);
        const manifest = validateManifest(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')));
        const key = JSON.stringify(manifest.normalization);
        if (!fixtureInputs.has(key)) fixtureInputs.set(key, await collectFixtureInputs(cpu, port, args.photo, manifest.normalization));
        const got = fixtureInputs.get(key)!;
        const exported = readFileSync(join(dir, EXPORT_FILE));
        const shipped = readFileSync(join(dir, 'model.onnx'));
        fixtureDrifts.push({
          model,
          storage: manifest.weights?.storage ?? 'float32',
          bytes: shipped.byteLength,
          exportBytes: exported.byteLength,
          inputs: got.names,
          noFaceIn: got.skipped,
          maxAbsDelta: await probabilityDrift(exported, shipped, got.inputs, { input: manifest.input.name, output: manifest.output.name }),
        });
      }
      for (const threads of threadCounts) {
        log(`browser WASM ${model}, ${threads} thread(s)`);
        browserResults.push(await browserRun(cpu, model, 'wasm', threads, false, undefined, nLoads, nRepeats));
      }
      if (large) {
        const n = short ? 3 : 100;
        log(`memory by stage ${model}: load, reload, ${n} screenings`);
        memory[model] = await memoryBreakdown(model, n);
      }
      if (!(short && large)) {
        log(`cold start ${model}`);
        coldStarts[model] = await coldStart(cpu, model, short ? 1 : Math.min(loads, 3));
      }
    } finally {
      await cpu.close();
    }
    const gpu = await chromium.launch({ executablePath, args: chromiumArgs({ webgpu: true }) });
    try {
      const probe = await benchPage(await gpu.newContext(), []);
      const adapter = await probe.evaluate(() => (window as unknown as { faciesBench: FaciesBench }).faciesBench.adapterInfo());
      await probe.close();
      const emulated =
        !!adapter && (adapter.fallback || /swiftshader|llvmpipe|software/i.test(`${adapter.vendor} ${adapter.architecture} ${adapter.description}`));
      if (!adapter) notes.push(`${model}: no WebGPU adapter in this browser; WebGPU not measured`);
      else if (emulated && large && !args['webgpu-emulated-full'])
        notes.push(
          `${model}: WebGPU adapter is software-emulated (${adapter.architecture || adapter.vendor}); IR-100 on it takes about a minute per run, skipped (--webgpu-emulated-full runs it)`,
        );
      else {
        log(`browser WebGPU ${model}${emulated ? ' (emulated)' : ''}`);
        browserResults.push(
          await browserRun(gpu, model, 'webgpu', 1, emulated, adapter, emulated ? 1 : nLoads, emulated ? Math.min(nRepeats, short ? 1 : 3) : nRepeats),
        );
      }
    } finally {
      await gpu.close();
    }
  }
} finally {
  await server.close();
}

// --- report ---
const ratios = browserResults
  .filter((b) => b.ep === 'wasm')
  .map((b) => {
    const n = nativeResults.find((x) => x.model === b.model && x.threads === b.threads);
    return {
      model: b.model,
      threads: b.threads,
      inference: ratio(b.stages.inferenceWorkerMs, n?.inferenceMs),
      flipBatch: ratio(b.stages.inferenceFlipBatchMs, n?.inferenceFlipBatchMs),
      session: ratio(b.load.sessionMs, n?.sessionMs),
      photoToResultOverInference: ratio(b.stages.photoToResultMs, b.stages.inferenceMs),
      selfTestDeviation: b.selfTestDeviation,
    };
  });

const row = (label: string, get: (b: BrowserResult) => string) => [label, ...browserResults.map(get)];
const header = ['stage', ...browserResults.map((b) => `${b.model} ${b.ep}${b.ep === 'wasm' ? ` ${b.threads}T` : ''}${b.emulated ? ' (emulated)' : ''}`)];
console.log('\nBrowser (headless Chromium, production build): median (min–max, n)\n');
console.log(
  formatTable(header, [
    row('load: page → model ready', (b) => formatSummary(b.load.wallMs)),
    row('  read/download + hash', (b) => formatSummary(b.load.downloadMs)),
    row('  ORT start (parallel)', (b) => formatSummary(b.load.runtimeStartMs)),
    row('  waited for ORT start', (b) => formatSummary(b.load.runtimeWaitMs)),
    row('  session creation', (b) => formatSummary(b.load.sessionMs)),
    row('  self-test (1st run)', (b) => formatSummary(b.load.selfTestMs)),
    row('  ORT wasm memory: model read', (b) => formatSummary(b.load.wasmMB.modelRead, 'MB')),
    row('    after session creation', (b) => formatSummary(b.load.wasmMB.sessionCreated, 'MB')),
    row('    after the self-test', (b) => formatSummary(b.load.wasmMB.selfTested, 'MB')),
    row('detector start', (b) => formatSummary(b.detector.createMs)),
    row('first detection', (b) => formatSummary(b.detector.firstDetectionMs)),
    row('decode', (b) => formatSummary(b.stages.decodeMs)),
    row('face search', (b) => formatSummary(b.stages.detectMs)),
    row('  detector calls', (b) => formatSummary(b.stages.detectorCalls)),
    row('align + preprocess', (b) => formatSummary(b.stages.alignPreprocessMs)),
    row('inference (worker)', (b) => formatSummary(b.stages.inferenceWorkerMs)),
    row('inference (round trip)', (b) => formatSummary(b.stages.inferenceMs)),
    row('flip-TTA batch of 2', (b) => formatSummary(b.stages.inferenceFlipBatchMs)),
    row('photo → result', (b) => formatSummary(b.stages.photoToResultMs)),
    row('  with a single look', (b) => formatSummary(b.stages.photoToResultSinglePassMs)),
    row('long tasks > 50 ms', (b) => `${b.longTasks.count} (max ${b.longTasks.maxMs} ms)`),
    row('peak JS heap (page)', (b) => `${b.peakJsHeapMB} MB`),
    row('peak browser RSS', (b) => `${b.peakProcessRssMB} MB`),
  ]),
);
console.log('\nNative onnxruntime-node (CPU EP), same model file\n');
console.log(
  formatTable(
    ['model', 'threads', 'session creation', 'inference', 'flip-TTA batch of 2'],
    nativeResults.map((n) => [n.model, String(n.threads), formatSummary(n.sessionMs), formatSummary(n.inferenceMs), formatSummary(n.inferenceFlipBatchMs)]),
  ),
);
const x = (r: number | null) => (r === null ? '—' : `${r.toFixed(2)}×`);
console.log('\nBrowser WASM / native (medians; the figure to compare across machines)\n');
console.log(
  formatTable(
    ['model', 'threads', 'inference', 'flip batch', 'session', 'photo→result / inference', 'self-test |Δp| vs native'],
    ratios.map((r) => [
      r.model,
      String(r.threads),
      x(r.inference),
      x(r.flipBatch),
      x(r.session),
      x(r.photoToResultOverInference),
      r.selfTestDeviation.toExponential(1),
    ]),
  ),
);
// The ceiling: best SIMD128 peak of the launches; the IR-100's achieved GFLOP/s (24.2 GFLOP per image over the
// median inference time in the worker) as a fraction of it at the same thread count, and native's beside it.
const bestPeak = (k: 'gflops1' | 'gflops2') => Math.max(0, ...simdPeaks.map((p) => p[k] ?? 0)) || null;
const simdPeakGflops = { 1: bestPeak('gflops1'), 2: bestPeak('gflops2') };
const peakFor = (threads: number) => (threads <= 1 ? simdPeakGflops[1] : simdPeakGflops[2]);
const gflops = (ms: number | undefined) => (ms ? +(IR100_GFLOP_PER_IMAGE / (ms / 1000)).toFixed(2) : null);
const share = (g: number | null, peak: number | null) => (g !== null && peak ? +(g / peak).toFixed(3) : null);
const computeCeiling = {
  kernel: 'f32x4.mul + f32x4.add on register-resident accumulators (no FMA in SIMD128); FLOPs = iterations × accumulators × 4 lanes × 2',
  gflopPerImage: IR100_GFLOP_PER_IMAGE,
  simdPeakGflops,
  simdPeakRuns: simdPeaks,
  ir100: browserResults
    .filter((b) => b.ep === 'wasm' && isIr100(b.model))
    .map((b) => {
      const n = nativeResults.find((x) => x.model === b.model && x.threads === b.threads);
      const achievedGflops = gflops(b.stages.inferenceWorkerMs?.median);
      const nativeGflops = gflops(n?.inferenceMs?.median);
      return {
        model: b.model,
        threads: b.threads,
        peakGflops: peakFor(b.threads),
        msPerImage: b.stages.inferenceWorkerMs?.median ?? null,
        achievedGflops,
        fractionOfPeak: share(achievedGflops, peakFor(b.threads)),
        // Native onnxruntime uses AVX2/FMA (256-bit, fused): its share of the SIMD128 peak can exceed 1.
        native: { msPerImage: n?.inferenceMs?.median ?? null, achievedGflops: nativeGflops, fractionOfSimd128Peak: share(nativeGflops, peakFor(b.threads)) },
      };
    }),
};
if (simdPeaks.length) {
  const g = (v: number | null) => (v === null ? '—' : v.toFixed(1));
  const pct = (v: number | null) => (v === null ? '—' : `${(v * 100).toFixed(0)}%`);
  console.log(
    `\nCompute ceiling: WebAssembly SIMD128 peak ${g(simdPeakGflops[1])} GFLOP/s (1 worker), ${g(simdPeakGflops[2])} GFLOP/s (2 workers); IR-100 = ${IR100_GFLOP_PER_IMAGE} GFLOP per image\n`,
  );
  if (computeCeiling.ir100.length)
    console.log(
      formatTable(
        ['model', 'threads', 'browser ms', 'browser GFLOP/s', 'of SIMD128 peak', 'native ms', 'native GFLOP/s', 'native / SIMD128 peak'],
        computeCeiling.ir100.map((c) => [
          c.model,
          String(c.threads),
          g(c.msPerImage),
          g(c.achievedGflops),
          pct(c.fractionOfPeak),
          g(c.native.msPerImage),
          g(c.native.achievedGflops),
          pct(c.native.fractionOfSimd128Peak),
        ]),
      ),
    );
}
if (fixtureDrifts.length) {
  console.log("\nOptimised model vs its float32 export (native, fixture photo and variants through the app's alignment)\n");
  console.log(
    formatTable(
      ['model', 'weights', 'download', 'export', 'inputs', 'max |Δp|'],
      fixtureDrifts.map((d) => [
        d.model,
        d.storage,
        `${(d.bytes / 1e6).toFixed(1)} MB`,
        `${(d.exportBytes / 1e6).toFixed(1)} MB`,
        String(d.inputs.length),
        d.maxAbsDelta.toExponential(2),
      ]),
    ),
  );
}
for (const [model, stages] of Object.entries(memory)) {
  const empty = stages[0]!;
  console.log(`\nMemory by stage, ${model} on WASM (RSS per Chromium process and JS heaps, MB)\n`);
  const mbOr = (v: number | null) => (v === null ? '—' : String(v));
  console.log(
    formatTable(
      ['stage', 'renderer', 'peak renderer', 'browser', 'GPU', 'other', 'page JS', 'worker JS', 'ORT wasm', 'MediaPipe wasm'],
      stages.map((m) => [
        m.stage,
        String(m.rendererMB),
        String(m.peakRendererMB),
        String(m.browserMB),
        String(m.gpuMB),
        String(m.otherMB),
        String(m.pageJsMB),
        mbOr(m.workerJsMB),
        mbOr(m.ortWasmMB),
        String(m.pageWasmMB),
      ]),
    ),
  );
  const high = stages.reduce((a, b) => (b.peakRendererMB > a.peakRendererMB ? b : a));
  const browserGrowth = Math.max(...stages.map((m) => m.browserMB)) - empty.browserMB;
  console.log(
    `renderer high-water mark ${high.peakRendererMB} MB during "${high.stage}" (empty page ${empty.rendererMB} MB; target ≤ 700 MB); browser process growth ${browserGrowth} MB (target ≤ 100 MB)`,
  );
}
if (Object.keys(coldStarts).length)
  console.log(
    `\nCold start (app page → ready for photo, WASM): ${Object.entries(coldStarts)
      .map(([m, s]) => `${m} ${formatSummary(s)}`)
      .join('; ')}`,
  );
for (const n of notes) console.log(`note: ${n}`);

const report = {
  format: 'facies-bench/1',
  mode: short ? 'short' : 'full',
  startedAt: started.toISOString(),
  durationS: Math.round((Date.now() - started.getTime()) / 1000),
  machine: {
    cpuModel: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: +(totalmem() / 2 ** 30).toFixed(1),
    freeMemoryGiB: +(freemem() / 2 ** 30).toFixed(1),
    loadAverage1m: loadavg()[0],
    os: `${platform()} ${release()}`,
    node: process.version,
  },
  browser: { name: 'chromium', version: browserVersion(), headless: true },
  photo: args.photo,
  settings: {
    models,
    repeats,
    loads,
    runtimeWarmUp: !args['no-runtime-warm-up'],
    widenFloat16: !args['no-widen-float16'],
    ...(sessionOptions ? { sessionOptions } : {}),
  },
  browserResults,
  nativeResults,
  ratios,
  computeCeiling,
  coldStartMs: coldStarts,
  memory,
  fixtureDrifts,
  notes,
};
const out = resolve(root, args.out ?? `test-results/bench/bench-${report.mode}.json`);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify(report, null, 2) + '\n');
console.log(`\nwrote ${out}`);
process.exit(0);
