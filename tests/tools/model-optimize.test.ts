// The post-export optimisation keeps what the network computes: BN folding is exact (float32 rounding only) and
// float16 weight storage moves the probabilities by less than 1e-3. Real files, real onnxruntime-node.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { driftInputs, probabilityDrift } from '../../scripts/bench/drift';
import { blockPrefixes } from '../../scripts/models/fp16-sensitivity';
import { EXPORT_FILE, optimizeConfigProblems, optimizeModelFolder, runOptimize } from '../../scripts/models/optimize-model';
import { validateManifest } from '../../src/model/manifest';

const root = resolve(import.meta.dirname, '../..');
// test-tiny is itself optimised at build: its float32 export is the source here.
const tinyDir = join(root, 'models/test-tiny');
const tiny = join(tinyDir, existsSync(join(tinyDir, EXPORT_FILE)) ? EXPORT_FILE : 'model.onnx');
const dir = mkdtempSync(join(tmpdir(), 'facies-optimize-'));
const optimize = (weights: 'float16' | 'float32', ...keep: string[]) => {
  const out = join(dir, `${weights}.onnx`);
  runOptimize(tiny, out, { weights, keepFloat32: keep });
  return readFileSync(out);
};

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('model optimisation (test-tiny, same operators as IR-100)', () => {
  const inputs = driftInputs(4);

  it('folds the linear-layer batch norms without changing the probabilities', async () => {
    expect(await probabilityDrift(readFileSync(tiny), optimize('float32'), inputs)).toBeLessThan(1e-5);
  }, 60_000);

  it('stores weights as float16 at about half the size, probabilities within 1e-3', async () => {
    const half = optimize('float16');
    expect(half.byteLength).toBeLessThan(0.55 * readFileSync(tiny).byteLength);
    expect(await probabilityDrift(readFileSync(tiny), half, inputs)).toBeLessThan(1e-3);
  }, 60_000);

  it('keeps named blocks in float32: a larger file, probabilities within 1e-3', async () => {
    const mixed = optimize('float16', '/backbone/layer1/', '/backbone/layer2/');
    expect(mixed.byteLength).toBeGreaterThan(optimize('float16').byteLength);
    expect(await probabilityDrift(readFileSync(tiny), mixed, inputs)).toBeLessThan(1e-3);
  }, 60_000);
});

describe('optimising a model folder (what prepare-assets does with "optimize" in config.json)', () => {
  const config = JSON.parse(readFileSync(join(tinyDir, 'config.json'), 'utf8'));
  const folder = () => {
    const d = mkdtempSync(join(dir, 'folder-'));
    copyFileSync(tiny, join(d, EXPORT_FILE));
    return d;
  };

  it('writes model.onnx and the manifest record: storage, source export, measured drift', async () => {
    const d = folder();
    const weights = await optimizeModelFolder(d, { ...config, optimize: { weights: 'float16', keepFloat32: ['/MatMul'], maxProbabilityDrift: 1e-3 } });
    expect(weights.storage).toBe('float16-mixed');
    expect(weights.keptFloat32).toEqual(['/MatMul']);
    expect(weights.source).toEqual({
      sha256: execFileSync('sha256sum', [join(d, EXPORT_FILE)], { encoding: 'utf8' }).slice(0, 64),
      bytes: readFileSync(tiny).byteLength,
    });
    expect(weights.maxProbabilityDrift).toBeGreaterThan(0);
    expect(weights.maxProbabilityDrift).toBeLessThan(1e-3);
    expect(readFileSync(join(d, 'model.onnx')).byteLength).toBeLessThan(0.6 * weights.source.bytes);
    const manifest = JSON.parse(readFileSync(join(tinyDir, 'manifest.json'), 'utf8'));
    expect(() => validateManifest({ ...manifest, weights })).not.toThrow();
  }, 60_000);

  it('refuses a result further from the export than the config allows', async () => {
    await expect(optimizeModelFolder(folder(), { ...config, optimize: { weights: 'float16', maxProbabilityDrift: 1e-9 } })).rejects.toThrow(
      /more than the 1e-9 its config allows/,
    );
  }, 60_000);
});

describe('optimizeConfigProblems', () => {
  it('accepts the bundled configs and names every mistake', () => {
    for (const id of ['demo', 'test-tiny'])
      expect(optimizeConfigProblems(JSON.parse(readFileSync(join(root, 'models', id, 'config.json'), 'utf8')).optimize)).toEqual([]);
    expect(optimizeConfigProblems({ weights: 'int8', keepFloat32: ['layer1'], maxProbabilityDrift: 0 })).toEqual([
      'optimize.weights must be "float16" or "float32"',
      'optimize.keepFloat32 must list node-name prefixes, each starting with "/"',
      'optimize.maxProbabilityDrift must be a number above 0 and at most 0.05',
    ]);
    expect(optimizeConfigProblems({ weights: 'float32', keepFloat32: ['/MatMul'], maxProbabilityDrift: 1e-3 })).toEqual([
      'optimize.keepFloat32 only applies to float16 weights',
    ]);
    expect(optimizeConfigProblems('float16')).toEqual(['optimize must be an object']);
  });
});

describe('blockPrefixes', () => {
  it('names the stem, each residual block and the head layers, in graph order', () => {
    const names = [
      '/backbone/conv1/Conv',
      '/backbone/prelu/PRelu',
      '/backbone/layer1/layer1.0/bn1/BatchNormalization',
      '/backbone/layer1/layer1.0/conv1/Conv',
      '/backbone/layer1/layer1.1/conv1/Conv',
      '/backbone/layer2/layer2.0/downsample/downsample.0/Conv',
      '/backbone/fc/Gemm',
      '/MatMul',
      'Cast_12',
    ];
    expect(blockPrefixes(names)).toEqual([
      '/backbone/conv1/',
      '/backbone/prelu/',
      '/backbone/layer1/layer1.0/',
      '/backbone/layer1/layer1.1/',
      '/backbone/layer2/layer2.0/',
      '/backbone/fc/',
    ]);
  });
});
