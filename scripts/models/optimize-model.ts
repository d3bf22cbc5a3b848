// Turns a model folder's float32 export (model.export.onnx) into the model.onnx the app downloads, with
// facies_train.optimize as the folder's config.json asks ("optimize"), and refuses the result when its probabilities
// move further from the export's than the config allows. Returns the manifest's "weights" record.
import type { StdioOptions } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { selfTestImage, sha256Hex, type ModelManifest, type WeightStorage } from '../../src/model/manifest.ts';
import { toNchwFloat32 } from '../../src/pipeline/preprocess.ts';
import { driftInputs, probabilityDrift } from '../bench/drift.ts';
import { selfTestInputBase64 } from './build-manifest.ts';
import { runKitModule } from './training-kit.ts';

export const EXPORT_FILE = 'model.export.onnx';
export const DRIFT_INPUTS_DESCRIPTION = 'the self-test input and 8 seeded synthetic inputs (noise and gradients), onnxruntime-node CPU';

export interface OptimizeConfig {
  weights: 'float32' | 'float16';
  /** Node-name prefixes whose weights stay float32. */
  keepFloat32?: string[];
  /** The build fails when the optimised probabilities move further than this from the export's. */
  maxProbabilityDrift: number;
}

/** facies_train.optimize from `source` to `target`. */
export function runOptimize(
  source: string,
  target: string,
  o: { weights: OptimizeConfig['weights']; keepFloat32?: readonly string[]; expectSha256?: string },
  stdio?: StdioOptions,
): void {
  const args = [resolve(source), resolve(target), '--weights', o.weights, ...(o.keepFloat32 ?? []).flatMap((k) => ['--keep-float32', k])];
  runKitModule('optimize', o.expectSha256 ? [...args, '--expect-sha256', o.expectSha256] : args, stdio);
}

/** The parts of a model folder's config.json the optimisation reads. */
export interface FolderConfig extends Pick<ModelManifest, 'normalization'> {
  seed?: number;
  input: { name: string };
  output: { name: string };
  optimize: OptimizeConfig;
}

/** What is wrong with a config's "optimize" (empty when it can be used). */
export function optimizeConfigProblems(o: unknown): string[] {
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return ['optimize must be an object'];
  const c = o as Record<string, unknown>;
  const p: string[] = [];
  if (c.weights !== 'float16' && c.weights !== 'float32') p.push('optimize.weights must be "float16" or "float32"');
  if (c.keepFloat32 !== undefined && (!Array.isArray(c.keepFloat32) || c.keepFloat32.some((k) => typeof k !== 'string' || !k.startsWith('/'))))
    p.push('optimize.keepFloat32 must list node-name prefixes, each starting with "/"');
  if (c.keepFloat32 !== undefined && c.weights === 'float32') p.push('optimize.keepFloat32 only applies to float16 weights');
  if (typeof c.maxProbabilityDrift !== 'number' || !(c.maxProbabilityDrift > 0 && c.maxProbabilityDrift <= 0.05))
    p.push('optimize.maxProbabilityDrift must be a number above 0 and at most 0.05');
  return p;
}

export async function optimizeModelFolder(dir: string, config: FolderConfig): Promise<WeightStorage> {
  const problems = optimizeConfigProblems(config.optimize);
  if (problems.length) throw new Error(`${join(dir, 'config.json')}: ${problems.join('; ')}`);
  const options = config.optimize;
  const source = join(dir, EXPORT_FILE);
  const target = join(dir, 'model.onnx');
  const sourceBytes = readFileSync(source);
  const sourceSha = await sha256Hex(sourceBytes);
  const keep = options.keepFloat32 ?? [];
  runOptimize(source, target, { weights: options.weights, keepFloat32: keep, expectSha256: sourceSha }, ['ignore', 'inherit', 'inherit']);
  // The same self-test input build-manifest.ts records, so the manifest's self-test is among the inputs checked here.
  const selfTest = toNchwFloat32(
    selfTestImage({ selfTest: { inputRgbBase64: selfTestInputBase64(config.seed), expected: [], tolerance: 1 } }),
    config.normalization,
  );
  const drift = await probabilityDrift(sourceBytes, readFileSync(target), [selfTest, ...driftInputs(8)], {
    input: config.input.name,
    output: config.output.name,
  });
  if (drift > options.maxProbabilityDrift)
    throw new Error(
      `${target}: optimised probabilities move by ${drift.toExponential(2)} from ${EXPORT_FILE}, more than the ${options.maxProbabilityDrift} its config allows`,
    );
  const storage = options.weights === 'float32' ? 'float32' : keep.length ? 'float16-mixed' : 'float16';
  return {
    storage,
    ...(storage === 'float16-mixed' ? { keptFloat32: keep } : {}),
    source: { sha256: sourceSha, bytes: sourceBytes.byteLength },
    maxProbabilityDrift: Number(drift.toPrecision(3)),
    driftInputs: DRIFT_INPUTS_DESCRIPTION,
  };
}
