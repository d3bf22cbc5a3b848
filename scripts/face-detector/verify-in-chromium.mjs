// @ts-check
/**
 * Manual end-to-end check: the prepared BlazeFace model loads in MediaPipe
 * Tasks FaceDetector (CPU delegate, IMAGE mode) in a real Chromium, finds the
 * face in astronaut.png and nothing in chelsea.png (a cat).
 *
 *   npx tsx scripts/face-detector/verify-in-chromium.mjs [preparedModel.tflite]
 *
 * Without an argument the model is prepared into a temporary folder.
 * Environment: CHROMIUM_PATH (see scripts/system-tools.ts), FACIES_FIXTURES_DIR
 * (default <repo>/tests/fixtures/faces). Exits non-zero on any mismatch.
 * Every request to a host other than the local server is blocked and listed.
 */
import { createServer } from 'node:http';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from '@playwright/test';
import { prepareFaceDetector } from './prepare.mjs';
import { CHROMIUM } from '../system-tools.ts';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const TASKS_VISION_DIR = path.join(REPO_ROOT, 'node_modules', '@mediapipe', 'tasks-vision');
const FIXTURES_DIR = process.env.FACIES_FIXTURES_DIR ?? path.resolve(REPO_ROOT, 'tests', 'fixtures', 'faces');
const CHROMIUM_PATH = CHROMIUM;

/** Expected results (512x512 images; box in pixels, keypoints normalised). */
const EXPECT = {
  'astronaut.png': { faces: 1, score: 0.92, scoreTol: 0.04, box: [177, 82, 95, 95], boxTol: 8, keypoints: 6 },
  'chelsea.png': { faces: 0 },
};

/** @type {Record<string, string>} */
const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.tflite': 'application/octet-stream',
  '.png': 'image/png',
};

const PAGE = `<!doctype html><meta charset="utf-8"><title>face detector check</title>
<meta http-equiv="Content-Security-Policy" content="default-src 'self'; script-src 'self' 'unsafe-inline' 'wasm-unsafe-eval'; connect-src 'self'; img-src 'self' blob: data:; worker-src 'self' blob:">
<p>face detector check</p>`;

async function main() {
  let modelPath = process.argv[2];
  /** @type {string | null} */
  let tempDir = null;
  if (!modelPath) {
    tempDir = await mkdtemp(path.join(tmpdir(), 'facies-face-detector-'));
    modelPath = (await prepareFaceDetector({ outDir: tempDir })).path;
  }

  /** @type {Record<string, string>} */
  const routes = {
    '/': '',
    '/vision_bundle.mjs': path.join(TASKS_VISION_DIR, 'vision_bundle.mjs'),
    '/face_detection_short_range.tflite': path.resolve(modelPath),
  };
  for (const name of Object.keys(EXPECT)) routes[`/fixtures/${name}`] = path.join(FIXTURES_DIR, name);

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    let file = routes[url.pathname];
    if (file === undefined && /^\/wasm\/[\w.-]+$/.test(url.pathname)) {
      file = path.join(TASKS_VISION_DIR, 'wasm', path.basename(url.pathname));
    }
    try {
      if (file === undefined) throw Object.assign(new Error('not found'), { code: 'ENOENT' });
      const body = file === '' ? Buffer.from(PAGE) : await readFile(file);
      res.writeHead(200, {
        'content-type': MIME[file === '' ? '.html' : path.extname(file)] ?? 'application/octet-stream',
        'cache-control': 'no-store',
      });
      res.end(body);
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('server did not start');
  const origin = `http://127.0.0.1:${address.port}`;

  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: ['--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  /** @type {string[]} */
  const blocked = [];
  /** @type {string[]} */
  const consoleLines = [];
  let failed = false;
  try {
    const page = await browser.newPage();
    await page.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith(`${origin}/`) || url.startsWith('blob:') || url.startsWith('data:')) return route.continue();
      blocked.push(`${route.request().method()} ${url}`);
      return route.abort('blockedbyclient');
    });
    page.on('console', (msg) => consoleLines.push(`[${msg.type()}] ${msg.text()}`));
    page.on('pageerror', (err) => consoleLines.push(`[pageerror] ${err.message}`));
    await page.goto(`${origin}/`);

    const result = await page.evaluate(
      async ({ images }) => {
        const t0 = performance.now();
        const bundle = '/vision_bundle.mjs'; // served by this script's page server, not a module of the repository
        const vision = await import(bundle);
        const fileset = await vision.FilesetResolver.forVisionTasks('/wasm');
        const detector = await vision.FaceDetector.createFromOptions(fileset, {
          baseOptions: { modelAssetPath: '/face_detection_short_range.tflite', delegate: 'CPU' },
          runningMode: 'IMAGE',
        });
        const createMs = performance.now() - t0;
        /** @type {Record<string, any>} */
        const out = {};
        for (const name of images) {
          const img = new Image();
          img.src = `/fixtures/${name}`;
          await img.decode();
          const t1 = performance.now();
          const first = detector.detect(img);
          const firstMs = performance.now() - t1;
          const warm = [];
          for (let i = 0; i < 10; i++) {
            const t2 = performance.now();
            detector.detect(img);
            warm.push(performance.now() - t2);
          }
          warm.sort((a, b) => a - b);
          out[name] = {
            width: img.naturalWidth,
            height: img.naturalHeight,
            firstMs,
            warmMedianMs: warm[5],
            detections: first.detections.map((/** @type {any} */ d) => ({
              score: d.categories[0]?.score,
              box: d.boundingBox && [d.boundingBox.originX, d.boundingBox.originY, d.boundingBox.width, d.boundingBox.height],
              keypoints: (d.keypoints ?? []).map((/** @type {any} */ k) => [k.x, k.y]),
            })),
          };
        }
        detector.close();
        return { createMs, images: out };
      },
      { images: Object.keys(EXPECT) },
    );

    console.log(`FaceDetector.createFromOptions: ${result.createMs.toFixed(0)} ms (includes WASM compile)`);
    for (const [name, r] of Object.entries(result.images)) {
      console.log(
        `${name} (${r.width}x${r.height}): ${r.detections.length} face(s); first detect ${r.firstMs.toFixed(1)} ms, ` +
          `warm median ${r.warmMedianMs.toFixed(1)} ms`,
      );
      for (const d of r.detections) {
        console.log(`  score ${d.score.toFixed(4)} box (x ${d.box[0]}, y ${d.box[1]}, ${d.box[2]}x${d.box[3]})`);
        console.log(`  keypoints ${d.keypoints.map((/** @type {number[]} */ k) => `(${k[0].toFixed(4)}, ${k[1].toFixed(4)})`).join(' ')}`);
      }
      const e = EXPECT[/** @type {keyof typeof EXPECT} */ (name)];
      /** @type {string[]} */
      const problems = [];
      if (r.detections.length !== e.faces) problems.push(`expected ${e.faces} face(s), got ${r.detections.length}`);
      if ('score' in e && r.detections.length === 1) {
        const d = r.detections[0];
        if (Math.abs(d.score - e.score) > e.scoreTol) problems.push(`score ${d.score} not within ${e.scoreTol} of ${e.score}`);
        if (!d.box || d.box.some((/** @type {number} */ v, /** @type {number} */ i) => Math.abs(v - e.box[i]) > e.boxTol)) {
          problems.push(`box ${JSON.stringify(d.box)} not within ${e.boxTol}px of ${JSON.stringify(e.box)}`);
        }
        if (d.keypoints.length !== e.keypoints) problems.push(`expected ${e.keypoints} keypoints, got ${d.keypoints.length}`);
      }
      if (problems.length) {
        failed = true;
        console.log(`  FAIL: ${problems.join('; ')}`);
      } else {
        console.log('  OK');
      }
    }
  } catch (err) {
    failed = true;
    console.error(`FAIL: ${/** @type {Error} */ (err).message}`);
  } finally {
    await browser.close();
    server.close();
    if (tempDir) await rm(tempDir, { recursive: true, force: true });
  }
  if (blocked.length) {
    console.log(`blocked ${blocked.length} request(s) to other hosts at the network layer:`);
    for (const b of [...new Set(blocked)]) console.log(`  ${b}`);
  } else {
    console.log('no request to another host reached the network layer');
  }
  const cspBlocked = consoleLines.filter((l) => /Content Security Policy/.test(l));
  if (cspBlocked.length) {
    console.log(`the page's CSP (connect-src 'self') refused ${cspBlocked.length} console-reported connection attempt(s):`);
    for (const l of cspBlocked) console.log(`  ${l}`);
  }
  // MediaPipe logs INFO lines through console.error; list the rest.
  const errors = consoleLines.filter((l) => /^\[(error|pageerror)\]/.test(l) && !cspBlocked.includes(l) && !/^\[error\] INFO: /.test(l));
  if (errors.length) {
    console.log('other console errors:');
    for (const l of errors) console.log(`  ${l}`);
  }
  if (failed) {
    console.log('RESULT: FAIL');
    process.exit(1);
  }
  console.log('RESULT: OK');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
