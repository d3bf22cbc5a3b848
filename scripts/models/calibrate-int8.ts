// Activation ranges for facies_train.quantize --mode qdq-int8: runs the float32 export, with the tensors the
// quantisation needs exposed as outputs (quantize.py --expose-for-calibration), in onnxruntime-node over real-face
// inputs (the fixture crops, if given) and seeded synthetic ones, and records each tensor's min and max.
//   tsx scripts/models/calibrate-int8.ts <model.export.onnx> <ranges.json> [--inputs fixtures.bin] [--synthetic 16]
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { sha256Hex } from '../../src/model/manifest.ts';
import { driftInputs, readInputs } from '../bench/drift.ts';
import { runKitModule } from './training-kit.ts';


export interface CalibrationRanges {
  format: 'facies-int8-calibration/1';
  /** The export the ranges were measured on; quantize.py refuses ranges from another model. */
  source: { sha256: string; bytes: number };
  inputs: string;
  tensors: Record<string, [number, number]>;
}

/** Runs facies_train.quantize in the training kit; throws with its message when it refuses. */
export function runQuantize(args: string[]): void {
  runKitModule('quantize', args);
}

export async function calibrate(exportPath: string, inputs: Float32Array[], inputsDescription: string, inputName = 'input'): Promise<CalibrationRanges> {
  const source = readFileSync(exportPath);
  const dir = mkdtempSync(join(tmpdir(), 'facies-calibrate-'));
  let session: ort.InferenceSession | null = null;
  try {
    const exposed = join(dir, 'exposed.onnx');
    const report = join(dir, 'exposed.json');
    runQuantize([resolve(exportPath), exposed, '--expose-for-calibration', '--report', report]);
    const names = (JSON.parse(readFileSync(report, 'utf8')) as { tensors: string[] }).tensors;
    session = await ort.InferenceSession.create(exposed, { executionProviders: ['cpu'], graphOptimizationLevel: 'all' });
    const lo = new Map<string, number>(names.map((n) => [n, Infinity]));
    const hi = new Map<string, number>(names.map((n) => [n, -Infinity]));
    for (const x of inputs) {
      const feed = { [inputName]: new ort.Tensor('float32', x, [1, 3, 112, 112]) };
      const out = { ...(await session.run(feed, names.filter((n) => n !== inputName))), ...feed };
      for (const n of names) {
        const data = out[n]!.data as Float32Array;
        let a = lo.get(n)!;
        let b = hi.get(n)!;
        for (let i = 0; i < data.length; i++) {
          const v = data[i]!;
          if (v < a) a = v;
          if (v > b) b = v;
        }
        lo.set(n, a);
        hi.set(n, b);
      }
    }
    return {
      format: 'facies-int8-calibration/1',
      source: { sha256: await sha256Hex(source), bytes: source.byteLength },
      inputs: inputsDescription,
      tensors: Object.fromEntries(names.map((n) => [n, [lo.get(n)!, hi.get(n)!]])),
    };
  } finally {
    await session?.release();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { inputs: { type: 'string' }, synthetic: { type: 'string', default: '16' } } });
  const [exportPath, out] = positionals;
  if (!exportPath || !out) throw new Error('usage: tsx scripts/models/calibrate-int8.ts <model.export.onnx> <ranges.json> [--inputs fixtures.bin] [--synthetic 16]');
  const fixtures = values.inputs ? readInputs(values.inputs) : [];
  const synthetic = driftInputs(Number(values.synthetic));
  const description = `${fixtures.length} fixture crops${values.inputs ? ` (${values.inputs})` : ''} + ${synthetic.length} seeded synthetic inputs (driftInputs)`;
  const ranges = await calibrate(exportPath, [...fixtures, ...synthetic], description);
  writeFileSync(out, `${JSON.stringify(ranges, null, 2)}\n`);
  console.log(`${out}: ranges of ${Object.keys(ranges.tensors).length} tensors over ${description}`);
}
