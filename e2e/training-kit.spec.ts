// Training kit → app: crops made by the batch aligner are the app's crops, and a model trained by the kit (on
// synthetic data: no clinical meaning) and packed by it as a signed .facies-model.zip imports through the Models
// screen, becomes the active model and gives the probabilities PyTorch and onnxruntime-node give for the same crop.
// One page, the tiny IResNet.
import { test, expect, type Page } from '@playwright/test';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import * as ort from 'onnxruntime-node';
import { CLASS_IDS, FIXTURES, fixture, openApp, probabilities, screen } from './app';
import { alignBatch, type BatchRow } from '../models/training/aligner/align-batch';
import { toNchwFloat32 } from '../src/pipeline/preprocess';
import { mirrorNchw } from '../src/pipeline/tta';
import { PYTHON } from '../scripts/system-tools';

test.describe.configure({ mode: 'serial' });

const REPO = resolve(import.meta.dirname, '..');
const TRAINING = join(REPO, 'models', 'training');
const MODEL_ID = 'e2e-training-kit';
const MODEL_NAME = 'Training-kit test model (synthetic data)';
const python = (...args: string[]) => execFileSync(PYTHON, ['-m', ...args], { cwd: TRAINING, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });

// Made in beforeAll, not at load: Playwright also loads this file just to list its tests.
let tmp = '';
let MODEL_DIR = ''; // the kit's model folder, from which it packs the .facies-model.zip
let PACKAGE = '';
let PUBLISHER_KEY = ''; // .key.pem / .pub.pem
let page: Page;
let fingerprint = '';
let rows: BatchRow[];
let appCrop: { width: number; height: number; data: number[] };

test.beforeAll(async ({ browser }, info) => {
  info.setTimeout(900_000);
  tmp = mkdtempSync(join(tmpdir(), 'facies-training-kit-'));
  [MODEL_DIR, PACKAGE, PUBLISHER_KEY] = [join(tmp, 'model'), join(tmp, `${MODEL_ID}.facies-model.zip`), join(tmp, 'kit-publisher')];
  const t0 = performance.now();
  // The hospital's publisher key, as the README's walkthrough makes it (the kit signs the package with it); made
  // while the aligner runs.
  const keygen = promisify(execFile)(join(REPO, 'node_modules/.bin/tsx'), [join(REPO, 'scripts/model-keygen.ts'), PUBLISHER_KEY], {
    cwd: REPO,
    encoding: 'utf8',
  });
  rows = await alignBatch(FIXTURES, join(tmp, 'aligned'), { log: () => {} });
  fingerprint = /fingerprint: ([0-9a-f ]+)/.exec((await keygen).stdout)![1]!.replace(/ /g, '');
  const t1 = performance.now();
  // Synthetic crops, 2-fold cross-validation for the package's validation report, then the model to ship.
  python('facies_train.synthetic', '--out', join(tmp, 'data'), '--patients', '3,3,3,4', '--photos', '3');
  const common = [
    '--config',
    'configs/synthetic_tiny.py',
    '--manifest',
    join(tmp, 'data', 'manifest.csv'),
    '--out',
    join(tmp, 'run'),
    '--epochs',
    '3',
    '--folds',
    '2',
  ];
  python('facies_train.train', ...common);
  python('facies_train.train', ...common, '--final');
  const t2 = performance.now();
  python(
    'facies_train.package',
    '--checkpoint',
    join(tmp, 'run', 'final', 'checkpoint.pt'),
    '--report',
    join(tmp, 'run', 'cv_report.json'),
    '--id',
    MODEL_ID,
    '--version',
    '0.0.1',
    '--name',
    MODEL_NAME,
    '--name-zh',
    '训练工具测试模型（合成数据）',
    '--publisher',
    'Facies CI',
    '--data',
    'Synthetic striped crops made by the test; not clinical photos.',
    '--summary',
    'Trained on synthetic data: its outputs carry no clinical meaning.',
    '--out',
    MODEL_DIR,
    '--zip',
    PACKAGE,
    '--sign-key',
    `${PUBLISHER_KEY}.key.pem`,
  );
  console.log(
    `batch aligner: ${rows.length} photos in ${((t1 - t0) / 1000).toFixed(1)} s; training (CV + final, tiny): ${((t2 - t1) / 1000).toFixed(0)} s; packaging: ${((performance.now() - t2) / 1000).toFixed(0)} s`,
  );
  page = await browser.newPage();
  await openApp(page, '?model=test-tiny&backend=wasm');
});

test.afterAll(async () => {
  await page?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

test('the batch aligner reports every fixture photo: a crop for each face, no-face for the others', () => {
  const byPhoto = Object.fromEntries(rows.map((r) => [r.photo, r]));
  expect(byPhoto['astronaut.png']).toMatchObject({ status: 'ok', faces: 1, crop: 'crops/astronaut.png', quality: { overall: 'pass' } });
  expect(byPhoto['chelsea.png']!.status).toBe('no-face');
  expect(byPhoto['coffee.png']!.status).toBe('no-face');
  // camera.png: a real face in profile behind a camcorder, found and aligned (the gate judges it, not the aligner).
  expect(byPhoto['camera.png']).toMatchObject({ status: 'ok', faces: 1, crop: 'crops/camera.png' });
  const csv = readFileSync(join(tmp, 'aligned', 'alignment.csv'), 'utf8')
    .trim()
    .split('\n');
  expect(csv).toHaveLength(5);
  expect(csv[1]).toMatch(/^astronaut\.png,crops\/astronaut\.png,ok,/);
});

test("the kit's signed .facies-model.zip imports through the Models screen (trusted publisher, hash, self-test on WASM) and is made active", async () => {
  await page.getByTestId('nav-models').click();
  await page.getByTestId('trusted-key-label').fill('Training-kit test publisher');
  await page.getByTestId('trusted-key-pem').fill(readFileSync(`${PUBLISHER_KEY}.pub.pem`, 'utf8'));
  await page.getByTestId('trusted-key-add').click();
  await expect(page.getByTestId('trusted-key')).toHaveAttribute('data-fingerprint', fingerprint);
  await page.getByTestId('package-input').setInputFiles(PACKAGE);
  await expect(page.getByTestId('import-done').or(page.getByTestId('import-refused'))).toBeVisible({ timeout: 120_000 });
  await expect(page.getByTestId('import-done')).toContainText('passed its self-test');
  const row = page.locator(`[data-testid="model-row"][data-model-id="${MODEL_ID}"]`);
  await expect(row).toHaveAttribute('data-version', '0.0.1');
  await expect(row.getByTestId('model-signature')).toHaveAttribute('data-status', 'trusted');
  await page.getByTestId('import-activate').click();
  await expect(page.getByTestId(`in-use-${MODEL_ID}`)).toBeVisible({ timeout: 120_000 });
  await expect(page.getByTestId('model-ready')).toContainText(MODEL_NAME);
  await expect(page.getByTestId('model-error')).toHaveCount(0);
  await page.getByTestId('nav-screening').click();
});

test("the app's crop of astronaut.png equals the batch aligner's (mean absolute difference < 1 grey level)", async () => {
  await screen(page, fixture('astronaut.png'));
  await expect(page.getByTestId('result')).toHaveAttribute('data-photo', 'astronaut.png', { timeout: 60_000 });
  // Screened by the imported model, not the test-tiny the page opened with.
  await expect(page.getByTestId('result-model')).toHaveAttribute('data-model-id', MODEL_ID);
  appCrop = await page.evaluate(() => {
    const canvas = document.querySelector('[data-testid="result"] .crop-canvas canvas') as HTMLCanvasElement;
    const img = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
    return { width: img.width, height: img.height, data: Array.from(img.data) };
  });
  const kitCrop = await page.evaluate(
    async (b64) => {
      // An <img> (CSP img-src allows data:), since the app refuses fetch() to anything but its own origin.
      const img = new Image();
      img.src = `data:image/png;base64,${b64}`;
      await img.decode();
      const ctx = new OffscreenCanvas(img.naturalWidth, img.naturalHeight).getContext('2d')!;
      ctx.drawImage(img, 0, 0);
      return Array.from(ctx.getImageData(0, 0, img.naturalWidth, img.naturalHeight).data);
    },
    readFileSync(join(tmp, 'aligned', 'crops', 'astronaut.png')).toString('base64'),
  );
  expect([appCrop.width, appCrop.height]).toEqual([112, 112]);
  let sum = 0,
    worst = 0,
    n = 0;
  for (let i = 0; i < kitCrop.length; i++) {
    if (i % 4 === 3) continue; // alpha
    const d = Math.abs(kitCrop[i]! - appCrop.data[i]!);
    sum += d;
    n++;
    worst = Math.max(worst, d);
  }
  console.log(`astronaut.png crop, batch aligner vs app: mean absolute difference ${(sum / n).toFixed(4)}, max ${worst} grey levels`);
  expect(sum / n).toBeLessThan(1);
});

test("PyTorch, onnxruntime-node and the browser (WASM) agree within 1e-4 on the app's crop", async () => {
  const browserProbs = await probabilities(page);
  // The app's crop as PNG (lossless) for PyTorch; the app's own preprocessing for onnxruntime-node.
  const png = join(tmp, 'app-crop.png');
  writeFileSync(
    png,
    Buffer.from(
      (await page.evaluate(() => (document.querySelector('[data-testid="result"] .crop-canvas canvas') as HTMLCanvasElement).toDataURL('image/png'))).split(
        ',',
      )[1]!,
      'base64',
    ),
  );
  const torchOut = JSON.parse(python('facies_train.predict', '--checkpoint', join(tmp, 'run', 'final', 'checkpoint.pt'), png));
  // The folder the package was packed from: the app checked the imported model.onnx against this manifest's SHA-256.
  const manifest = JSON.parse(readFileSync(join(MODEL_DIR, 'manifest.json'), 'utf8'));
  const crop = { width: 112, height: 112, data: Uint8ClampedArray.from(appCrop.data) };
  const session = await ort.InferenceSession.create(join(MODEL_DIR, 'model.onnx'));
  const node: number[][] = [];
  const input = toNchwFloat32(crop, manifest.normalization);
  for (const x of [input, mirrorNchw(input)]) {
    const out = await session.run({ [manifest.input.name]: new ort.Tensor('float32', x, [1, 3, 112, 112]) });
    node.push(Array.from(out[manifest.output.name]!.data as Float32Array));
  }
  await session.release();
  // The app averages the crop and its mirror (flip test-time augmentation, on by default in a fresh browser).
  await expect(page.getByTestId('tta')).toHaveAttribute('data-mode', 'flip');
  const torchTta: number[] = torchOut.flip_tta[png];
  const torchCrop: number[] = torchOut.probabilities[png];
  let worstNode = 0,
    worstBrowser = 0;
  CLASS_IDS.forEach((id, i) => {
    const nodeTta = (node[0]![i]! + node[1]![i]!) / 2;
    worstNode = Math.max(worstNode, Math.abs(node[0]![i]! - torchCrop[i]!), Math.abs(nodeTta - torchTta[i]!));
    worstBrowser = Math.max(worstBrowser, Math.abs(browserProbs[id]! - torchTta[i]!));
  });
  console.log(
    `parity on astronaut.png: |PyTorch − onnxruntime-node| ≤ ${worstNode.toExponential(2)}, |PyTorch − browser WASM| ≤ ${worstBrowser.toExponential(2)}; PyTorch ${torchTta.map((p) => p.toFixed(5)).join(' ')}`,
  );
  expect(worstNode).toBeLessThan(1e-4);
  expect(worstBrowser).toBeLessThan(1e-4);
});
