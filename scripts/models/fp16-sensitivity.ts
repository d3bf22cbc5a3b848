// Which weights to keep in float32 when a model is stored as float16: rounding error made early in a deep network
// is carried through every later layer, so the first blocks cost the most accuracy per byte. This keeps the first
// 0, 1, 2, … blocks (network order, plus the class-centre MatMul) in float32 and prints the download size and the
// probability drift from the float32 export for each, so a model builder can pick the config's "keepFloat32".
//
//   npx tsx scripts/models/fp16-sensitivity.ts <model.export.onnx> [--inputs fixtures.bin] [--max-blocks 12]
//   (fixtures.bin: real-face inputs from scripts/bench/fixtures.ts; default: seeded synthetic inputs)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { driftInputs, probabilityDrift, readInputs } from '../bench/drift.ts';
import { formatTable } from '../bench/stats.ts';
import { runOptimize } from './optimize-model.ts';
import { PYTHON } from './training-kit.ts';

/** Node-name prefixes of the network's blocks, in graph order: "/backbone/conv1/", "/backbone/layer1/layer1.0/", … */
export function blockPrefixes(nodeNames: readonly string[]): string[] {
  const out: string[] = [];
  for (const name of nodeNames) {
    const parts = name.split('/').filter(Boolean);
    if (parts.length < 3) continue; // graph-level nodes (/MatMul, /Softmax)
    const prefix = /^layer\d+$/.test(parts[1]!) && parts.length >= 4 ? `/${parts.slice(0, 3).join('/')}/` : `/${parts.slice(0, 2).join('/')}/`;
    if (!out.includes(prefix)) out.push(prefix);
  }
  return out;
}

function nodeNames(model: string): string[] {
  const code = 'import onnx,sys\nfor n in onnx.load(sys.argv[1], load_external_data=False).graph.node: print(n.name)';
  return execFileSync(PYTHON, ['-c', code, model], { encoding: 'utf8', maxBuffer: 1 << 26 })
    .split('\n')
    .filter(Boolean);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { inputs: { type: 'string' }, 'max-blocks': { type: 'string', default: '12' } },
  });
  const source = positionals[0];
  if (!source) throw new Error('usage: tsx scripts/models/fp16-sensitivity.ts <model.export.onnx> [--inputs fixtures.bin] [--max-blocks N]');
  const inputs = values.inputs ? readInputs(values.inputs) : driftInputs(8);
  // No rows for the stem PReLU (no weights stored as float16) nor the head (fc is 25 MB: keeping it float32 undoes the point).
  const blocks = blockPrefixes(nodeNames(source)).filter((p) => !/\/(fc|features|bn2|prelu)\/$/.test(p));
  const dir = mkdtempSync(join(tmpdir(), 'facies-fp16-'));
  const reference = readFileSync(source);
  const rows: string[][] = [];
  try {
    const candidates = [[], ['/MatMul'], ...blocks.slice(0, Number(values['max-blocks'])).map((_, k) => ['/MatMul', ...blocks.slice(0, k + 1)])];
    for (const keep of candidates) {
      const out = join(dir, 'candidate.onnx');
      runOptimize(source, out, { weights: 'float16', keepFloat32: keep }, 'ignore');
      const bytes = readFileSync(out);
      const drift = await probabilityDrift(reference, bytes, inputs);
      rows.push([keep.length ? keep[keep.length - 1]! : '(none)', (bytes.byteLength / 1e6).toFixed(2), drift.toExponential(2)]);
      console.log(rows[rows.length - 1]!.join('  '));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(
    `\n${inputs.length} ${values.inputs ? 'fixture' : 'synthetic'} inputs; each row keeps in float32 everything up to and including the block named\n`,
  );
  console.log(formatTable(['kept in float32 up to', 'download MB', 'max |Δp| vs export'], rows));
}
