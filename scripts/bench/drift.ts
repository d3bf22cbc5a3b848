// How far an optimised model's probabilities move from its float32 export, in native onnxruntime-node:
// the manifest's self-test input plus seeded synthetic faces-sized images, batch 1 and a flip-TTA batch of 2.
//   tsx scripts/bench/drift.ts <reference.onnx> <candidate.onnx> [--manifest models/demo/manifest.json]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { seededBytes } from '../models/build-manifest.ts';
import { maxAbsDifference } from './stats.ts';

const SIZE = 112 * 112 * 3;

/** Normalised NCHW inputs: seeded noise and seeded smooth gradients (closer to photo statistics). */
export function driftInputs(count: number, seed = 7): Float32Array[] {
  const out: Float32Array[] = [];
  for (let k = 0; k < count; k++) {
    const bytes = seededBytes(seed + k, SIZE);
    const x = new Float32Array(SIZE);
    for (let c = 0; c < 3; c++)
      for (let i = 0; i < 112 * 112; i++) {
        const v = k % 2 === 0 ? bytes[i * 3 + c]! : ((i % 112) * 2 + ((i / 112) | 0) + bytes[c]! + (bytes[i * 3 + c]! >> 3)) % 256;
        x[c * 112 * 112 + i] = (v - 127.5) / 127.5;
      }
    out.push(x);
  }
  return out;
}

export async function probabilityDrift(
  reference: string | Uint8Array,
  candidate: string | Uint8Array,
  inputs: Float32Array[],
  names = { input: 'input', output: 'probabilities' },
) {
  const open = (m: string | Uint8Array) => (typeof m === 'string' ? ort.InferenceSession.create(m) : ort.InferenceSession.create(m));
  const [a, b] = await Promise.all([open(reference), open(candidate)]);
  let worst = 0;
  try {
    for (const x of inputs) {
      const feed = { [names.input]: new ort.Tensor('float32', x, [1, 3, 112, 112]) };
      const [pa, pb] = await Promise.all([a.run(feed), b.run(feed)]);
      worst = Math.max(worst, maxAbsDifference(Array.from(pa[names.output]!.data as Float32Array), Array.from(pb[names.output]!.data as Float32Array)));
    }
  } finally {
    await Promise.all([a.release(), b.release()]);
  }
  return worst;
}

/** Float32 NCHW inputs written by scripts/bench/fixtures.ts ([n, 3, 112, 112], concatenated). */
export function readInputs(path: string): Float32Array[] {
  const b = readFileSync(path);
  const all = new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
  if (all.length % SIZE) throw new Error(`${path}: ${all.length} floats is not a whole number of 3×112×112 inputs`);
  return Array.from({ length: all.length / SIZE }, (_, k) => all.subarray(k * SIZE, (k + 1) * SIZE));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { inputs: { type: 'string' } } });
  const [ref, cand] = positionals;
  if (!ref || !cand) throw new Error('usage: tsx scripts/bench/drift.ts <reference.onnx> <candidate.onnx> [--inputs fixtures.bin]');
  const inputs = values.inputs ? readInputs(values.inputs) : driftInputs(Number(process.env.DRIFT_INPUTS ?? 8));
  const drift = await probabilityDrift(readFileSync(ref), readFileSync(cand), inputs);
  console.log(`max |Δp| over ${inputs.length} ${values.inputs ? 'fixture' : 'synthetic'} inputs: ${drift.toExponential(2)}`);
}
