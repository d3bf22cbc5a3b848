// The post-export optimisation keeps what the network computes: BN folding is exact (float32 rounding only) and
// float16 weight storage moves the probabilities by less than 1e-3. Real files, real onnxruntime-node.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { driftInputs, probabilityDrift } from '../../scripts/bench/drift';

const root = resolve(import.meta.dirname, '../..');
const tiny = join(root, 'models/test-tiny/model.onnx');
const dir = mkdtempSync(join(tmpdir(), 'facies-optimize-'));
const optimize = (weights: string) => {
  const out = join(dir, `${weights}.onnx`);
  execFileSync(process.env.FACIES_PYTHON ?? '/usr/bin/python3', ['-m', 'facies_train.optimize', tiny, out, '--weights', weights], { cwd: join(root, 'models/training') });
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
});
