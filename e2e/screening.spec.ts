// The core vertical slice with the bundled ResNet-100 demo model, in one page (one model session).
import { test, expect, type Page } from '@playwright/test';
import { readFile } from 'node:fs/promises';
import { CLASS_IDS, fixture, openApp, probabilities, recordRequests, screen } from './app';
import { toNchwFloat32 } from '../src/pipeline/preprocess';
import * as ort from 'onnxruntime-node';
import { meanProbabilities, splitBatch, withMirror } from '../src/pipeline/tta';

test.describe.configure({ mode: 'serial' });

let page: Page;
let requests: ReturnType<typeof recordRequests>;
const consoleErrors: string[] = [];

test.beforeAll(async ({ browser }) => {
  page = await browser.newPage();
  requests = recordRequests(page);
  page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
  page.on('pageerror', (e) => consoleErrors.push(e.message));
  await openApp(page);
});

test.afterAll(async () => {
  await page.close();
});

test('the model starts with the app, on WASM here, cross-origin isolated, with the demonstration notice', async () => {
  expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
  await expect(page.getByTestId('screening-notice')).toContainText('not a diagnosis');
  await expect(page.getByTestId('demo-notice')).toContainText('no clinical meaning');
  const ready = page.getByTestId('model-ready');
  await expect(ready).toContainText('WASM (2 threads)');
  console.log(`IR-100 session creation (browser, WASM): ${Number(await ready.getAttribute('data-session-ms')).toFixed(0)} ms`);
  // ONNX Runtime's WebAssembly memory, counted in the worker: at least the float32 weights it computes with (261 MB).
  const wasmMB = Number(await ready.getAttribute('data-wasm-mb'));
  console.log(`IR-100 ONNX Runtime WebAssembly memory: ${wasmMB} MB`);
  expect(wasmMB).toBeGreaterThan(261);
});

test('astronaut.png: face found and drawn, four probabilities summing to 1, backend and timings reported', async () => {
  await screen(page, fixture('astronaut.png'));
  const result = page.getByTestId('result');
  await expect(result).toHaveAttribute('data-photo', 'astronaut.png', { timeout: 60_000 });
  const probs = await probabilities(page);
  const sum = CLASS_IDS.reduce((s, id) => s + probs[id]!, 0);
  expect(Math.abs(sum - 1)).toBeLessThan(1e-3);
  for (const id of CLASS_IDS) expect(probs[id]).toBeGreaterThanOrEqual(0);
  await expect(result.getByTestId('result-demo-notice')).toBeVisible();

  const backend = page.getByTestId('backend');
  await expect(backend).toHaveAttribute('data-ep', 'wasm');
  await expect(backend).toHaveAttribute('data-threads', '2');

  // The MediaPipe detector accepted the prepared BlazeFace model and found the face where it is.
  const box = page.getByTestId('face-box-chosen');
  await expect(box).toHaveCount(1);
  const [x, y, w, h] = (await box.getAttribute('data-box'))!.split(',').map(Number);
  expect(Math.abs(x! - 177)).toBeLessThan(12);
  expect(Math.abs(y! - 82)).toBeLessThan(12);
  expect(Math.abs(w! - 95)).toBeLessThan(12);
  expect(Math.abs(h! - 95)).toBeLessThan(12);
  expect(Number(await box.getAttribute('data-score'))).toBeGreaterThan(0.8);
  await expect(page.getByTestId('face-overlay').locator('circle')).toHaveCount(4);

  const t = page.getByTestId('timings');
  console.log(
    `astronaut.png: detection ${Number(await t.getAttribute('data-detect-ms')).toFixed(0)} ms, alignment ${Number(await t.getAttribute('data-align-ms')).toFixed(1)} ms, inference ${Number(await t.getAttribute('data-inference-ms')).toFixed(0)} ms`,
  );
});

test('the browser (WASM) gives the same probabilities as onnxruntime-node for the same aligned crop', async () => {
  const crop = await page.evaluate(() => {
    const canvas = document.querySelector('[data-testid="result"] .crop-canvas canvas') as HTMLCanvasElement;
    const img = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
    return { width: img.width, height: img.height, data: Array.from(img.data) };
  });
  expect([crop.width, crop.height]).toEqual([112, 112]);
  const browserProbs = await probabilities(page);
  const manifest = JSON.parse(await readFile('models/demo/manifest.json', 'utf8'));
  const session = await ort.InferenceSession.create('models/demo/model.onnx');
  const input = toNchwFloat32({ width: 112, height: 112, data: Uint8ClampedArray.from(crop.data) }, manifest.normalization);
  const t0 = performance.now();
  // The app reports the flip-TTA mean: the crop and its mirror in one batch.
  const out = await session.run({ [manifest.input.name]: new ort.Tensor('float32', withMirror(input), [2, 3, 112, 112]) });
  console.log(`IR-100 inference (onnxruntime-node, batch of 2): ${(performance.now() - t0).toFixed(0)} ms (first run)`);
  const nodeProbs = meanProbabilities(splitBatch(out[manifest.output.name]!.data as Float32Array, 2));
  await session.release();
  CLASS_IDS.forEach((id, i) => expect(Math.abs(browserProbs[id]! - nodeProbs[i]!)).toBeLessThan(1e-4));
});

test('a cat photo: clear no-face message, nothing crashes', async () => {
  await screen(page, fixture('chelsea.png'));
  await expect(page.getByRole('alert')).toContainText('No face was found');
  await expect(page.getByTestId('result')).toHaveCount(0);
});

test('a text file renamed .jpg: clear unreadable-file message', async () => {
  await screen(page, { name: 'notes.jpg', mimeType: 'image/jpeg', buffer: Buffer.from('This is not a photo, just text.\n') });
  await expect(page.getByRole('alert')).toContainText('not a photo Facies can read');
});

test('after errors the app still screens a photo', async () => {
  await screen(page, fixture('astronaut.png'));
  await expect(page.getByTestId('result')).toHaveAttribute('data-photo', 'astronaut.png', { timeout: 60_000 });
});

test('nothing was requested from any other origin, and nothing was blocked by the CSP', async () => {
  expect(requests.foreign()).toEqual([]);
  expect(consoleErrors.filter((e) => /Content Security Policy|Refused to/i.test(e))).toEqual([]);
});
