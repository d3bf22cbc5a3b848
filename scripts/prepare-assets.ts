// Prepares everything the app serves that is not committed: self-hosted ORT and MediaPipe runtimes,
// the face detector with its metadata, and the generated models with their manifests.
// Deterministic and incremental: a model is regenerated only when its config or generator changes.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { copyFile, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { buildManifest } from './models/build-manifest.ts';
import { EXPORT_FILE, optimizeModelFolder } from './models/optimize-model.ts';
import { PYTHON } from './models/training-kit.ts';
import { prepareFaceDetector } from './face-detector/prepare.mjs';
import { prepareSamples } from './samples/prepare-samples.ts';

const root = new URL('..', import.meta.url).pathname;
const vendor = join(root, 'public/vendor');

async function copyIfChanged(from: string, to: string) {
  const [a, b] = await Promise.all([stat(from), stat(to).catch(() => null)]);
  if (b && b.size === a.size && b.mtimeMs >= a.mtimeMs) return;
  await copyFile(from, to);
}

async function vendorRuntimes() {
  const ortDist = join(root, 'node_modules/onnxruntime-web/dist');
  await mkdir(join(vendor, 'ort'), { recursive: true });
  // ort.wasm.* loads ort-wasm-simd-threaded.*; ort.webgpu.* loads the .asyncify variant.
  for (const f of ['ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.wasm', 'ort-wasm-simd-threaded.asyncify.mjs', 'ort-wasm-simd-threaded.asyncify.wasm'])
    await copyIfChanged(join(ortDist, f), join(vendor, 'ort', f));
  const mpWasm = join(root, 'node_modules/@mediapipe/tasks-vision/wasm');
  await mkdir(join(vendor, 'mediapipe/wasm'), { recursive: true });
  for (const f of ['vision_wasm_internal.js', 'vision_wasm_internal.wasm', 'vision_wasm_nosimd_internal.js', 'vision_wasm_nosimd_internal.wasm'])
    await copyIfChanged(join(mpWasm, f), join(vendor, 'mediapipe/wasm', f));
  const detector = await prepareFaceDetector({ outDir: join(vendor, 'mediapipe') });
  console.log(`face detector: ${detector.path} (sha256 ${detector.sha256.slice(0, 12)}…)`);
}

/** The generator's inputs: the model's config and the Python files make_demo_model.py runs (not the whole training kit). */
const GENERATOR_SOURCES = [
  'make_demo_model.py',
  'facies_train/__init__.py',
  'facies_train/export.py',
  'facies_train/backbones/__init__.py',
  'facies_train/backbones/iresnet.py',
  'facies_train/optimize.py',
  'facies_train/batchnorm.py',
];

async function generatorFingerprint(modelDir: string): Promise<string> {
  const h = createHash('sha256');
  h.update(await readFile(join(modelDir, 'config.json')));
  for (const f of GENERATOR_SOURCES) h.update(f).update(await readFile(join(root, 'models/training', f)));
  return h.digest('hex');
}

async function prepareModel(id: string) {
  const dir = join(root, 'models', id);
  const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
  const stampPath = join(dir, '.generated');
  const fingerprint = await generatorFingerprint(dir);
  const stamp = existsSync(stampPath) ? await readFile(stampPath, 'utf8') : '';
  const fresh =
    stamp === fingerprint &&
    existsSync(join(dir, 'model.onnx')) &&
    existsSync(join(dir, 'manifest.json')) &&
    (!config.optimize || existsSync(join(dir, EXPORT_FILE)));
  if (fresh) return console.log(`model ${id}: up to date`);
  const t0 = performance.now();
  const arch = config.architecture === 'iresnet-tiny' ? 'tiny' : config.architecture;
  // With "optimize" in the config the float32 export is kept next to the optimised model.onnx, as its reference.
  const exported = join(dir, config.optimize ? EXPORT_FILE : 'model.onnx');
  execFileSync(PYTHON, [join(root, 'models/training/make_demo_model.py'), '--config', join(dir, 'config.json'), '--out', exported, '--arch', arch], {
    stdio: 'inherit',
  });
  if (!config.optimize) rmSync(join(dir, EXPORT_FILE), { force: true });
  const weights = config.optimize ? await optimizeModelFolder(dir, config) : undefined;
  if (weights) console.log(`model ${id}: ${weights.storage} weights, probabilities within ${weights.maxProbabilityDrift} of the float32 export`);
  const manifest = await buildManifest(dir, { ...config, ...(weights ? { weights } : {}) });
  await writeFile(stampPath, fingerprint);
  console.log(`model ${id}: generated in ${((performance.now() - t0) / 1000).toFixed(1)} s, sha256 ${manifest.file.sha256}`);
}

await vendorRuntimes();
await prepareSamples(root);
for (const id of ['demo', 'test-tiny']) await prepareModel(id);
