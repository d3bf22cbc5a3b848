// Int8 quantisation (facies_train.quantize, explored for WASM speed, not shipped): calibration ranges from the
// float32 export, and what onnxruntime really does with each mode. ORT's optimised graph is saved and read back,
// so the test fails if the QDQ graph stops being fused into integer kernels. Real files, real onnxruntime-node.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { driftInputs, probabilityDrift } from '../../scripts/bench/drift';
import { maxAbsDifference } from '../../scripts/bench/stats';
import { calibrate, runQuantize, type CalibrationRanges } from '../../scripts/models/calibrate-int8';
import { EXPORT_FILE } from '../../scripts/models/optimize-model';
import { PYTHON } from '../../scripts/models/training-kit';
import { sha256Hex } from '../../src/model/manifest';

const root = resolve(import.meta.dirname, '../..');
const tinyDir = join(root, 'models/test-tiny');
const tiny = join(tinyDir, existsSync(join(tinyDir, EXPORT_FILE)) ? EXPORT_FILE : 'model.onnx');
const dir = mkdtempSync(join(tmpdir(), 'facies-quantize-'));
// Calibrated on one set of seeded inputs, judged on another.
const heldOut = driftInputs(8, 101);
// No x86 AVX2 int16 saturation in the integer products (WASM's kernels widen to int16 first): the drift the app would see.
const exactIntegerProducts = { extra: { session: { x64quantprecision: '1' } } } as ort.InferenceSession.SessionOptions;

let savedCount = 0;
/** Op types of the graph onnxruntime runs after its optimisations (saved with optimizedModelFilePath). */
async function optimisedOps(model: string, options: ort.InferenceSession.SessionOptions = {}): Promise<string[]> {
  const saved = join(dir, `${basename(model)}.${savedCount++}.optimised.onnx`); // never next to the model: it may be in the repo
  const session = await ort.InferenceSession.create(model, { graphOptimizationLevel: 'all', optimizedModelFilePath: saved, ...options });
  await session.release();
  const script = 'import json, sys, onnx; print(json.dumps([n.op_type for n in onnx.load(sys.argv[1]).graph.node]))';
  return JSON.parse(execFileSync(PYTHON, ['-c', script, saved], { encoding: 'utf8' })) as string[];
}

const count = (ops: string[], op: string) => ops.filter((o) => o === op).length;

let ranges: CalibrationRanges;
let sourceConvs: number;
beforeAll(async () => {
  ranges = await calibrate(tiny, driftInputs(8), '8 seeded synthetic inputs');
  sourceConvs = count(await optimisedOps(tiny, { graphOptimizationLevel: 'disabled' }), 'Conv');
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('int8 calibration (test-tiny)', () => {
  it('records a min ≤ max for every tensor qdq-int8 needs, tied to the export it ran', async () => {
    expect(ranges.source.sha256).toBe(await sha256Hex(readFileSync(tiny)));
    const entries = Object.entries(ranges.tensors);
    // Each Conv's output plus the inputs of the Convs and the fc Gemm (shared inputs counted once).
    expect(entries.length).toBeGreaterThan(sourceConvs);
    for (const [, [lo, hi]] of entries) expect(lo).toBeLessThanOrEqual(hi);
    expect(ranges.tensors.input![0]).toBeGreaterThanOrEqual(-1);
    expect(ranges.tensors.input![1]).toBeLessThanOrEqual(1);
  });
});

describe('int8 quantisation in onnxruntime (test-tiny, same operators as IR-100)', () => {
  it('weights-int8: a quarter of the size, but ORT dequantises the weights and computes in float', async () => {
    const out = join(dir, 'weights-int8.onnx');
    runQuantize([tiny, out, '--mode', 'weights-int8']);
    expect(readFileSync(out).byteLength).toBeLessThan(0.3 * readFileSync(tiny).byteLength);
    const ops = await optimisedOps(out);
    expect(count(ops, 'DequantizeLinear')).toBe(sourceConvs + 1);
    expect(ops.filter((o) => o.startsWith('QLinear') || o.endsWith('Integer'))).toEqual([]);
    expect(await probabilityDrift(readFileSync(tiny), readFileSync(out), heldOut)).toBeLessThan(0.05);
  }, 60_000);

  it('qdq-int8: every Conv becomes QLinearConv and the fc a QGemm; probabilities within 0.1', async () => {
    const rangesFile = join(dir, 'ranges.json');
    const out = join(dir, 'qdq-int8.onnx');
    writeFileSync(rangesFile, JSON.stringify(ranges));
    runQuantize([tiny, out, '--mode', 'qdq-int8', '--calibration', rangesFile]);
    const ops = await optimisedOps(out);
    expect(count(ops, 'QLinearConv') + count(ops, 'ConvInteger')).toBe(sourceConvs);
    expect(count(ops, 'Conv') + count(ops, 'FusedConv')).toBe(0);
    expect(count(ops, 'QGemm')).toBe(1);
    // Loose: int8 activations after every convolution move a random-weight network's probabilities by a few
    // hundredths (s = 64 sharpens the softmax); a wrong bias or activation scale moves them by far more.
    const drift = await exactDrift(out);
    expect(drift).toBeGreaterThan(0);
    expect(drift).toBeLessThan(0.1);
  }, 60_000);

  it('refuses ranges measured on another model', () => {
    const rangesFile = join(dir, 'other.json');
    writeFileSync(rangesFile, JSON.stringify({ ...ranges, source: { sha256: '0'.repeat(64), bytes: 1 } }));
    expect(() => runQuantize([tiny, join(dir, 'refused.onnx'), '--mode', 'qdq-int8', '--calibration', rangesFile])).toThrow();
    expect(existsSync(join(dir, 'refused.onnx'))).toBe(false);
  });
});

/** Largest |Δp| from the export over the held-out inputs, with exact integer products. */
async function exactDrift(model: string): Promise<number> {
  const [a, b] = await Promise.all([ort.InferenceSession.create(tiny), ort.InferenceSession.create(model, exactIntegerProducts)]);
  let worst = 0;
  try {
    for (const x of heldOut) {
      const feed = { input: new ort.Tensor('float32', x, [1, 3, 112, 112]) };
      const [pa, pb] = [await a.run(feed), await b.run(feed)];
      worst = Math.max(worst, maxAbsDifference(Array.from(pa.probabilities!.data as Float32Array), Array.from(pb.probabilities!.data as Float32Array)));
    }
  } finally {
    await Promise.all([a.release(), b.release()]);
  }
  return worst;
}
