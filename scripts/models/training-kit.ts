// Running the training kit's Python (Debian's python3-torch / python3-onnx live under /usr/bin/python3, not the
// python3 on PATH) from the TypeScript build scripts and tests.
import { execFileSync, type StdioOptions } from 'node:child_process';
import { resolve } from 'node:path';
import { PYTHON } from '../system-tools.ts';

export { PYTHON };
export const TRAINING_KIT = resolve(import.meta.dirname, '../../models/training');

/** `python -m facies_train.<module> ...args` in the kit's folder; throws (with the kit's stderr shown) when it refuses. */
export function runKitModule(module: string, args: readonly string[], stdio: StdioOptions = ['ignore', 'pipe', 'inherit']): void {
  execFileSync(PYTHON, ['-m', `facies_train.${module}`, ...args], { cwd: TRAINING_KIT, stdio });
}
