// Node glue for the model-package CLI: files as ByteSources, argument parsing, the self-test on onnxruntime-node.
import { open, readFile } from 'node:fs/promises';
import { checkSessionSignature, selfTestDeviation, type ModelManifest } from '../../src/model/manifest.ts';
import { readPublicKey, type TrustedKey } from '../../src/model/package/signature.ts';
import type { ByteSource } from '../../src/model/package/zip.ts';
import { runOnnxNode } from '../models/build-manifest.ts';

export async function fileSource(path: string): Promise<ByteSource & { close(): Promise<void> }> {
  const fh = await open(path, 'r');
  const { size } = await fh.stat();
  return {
    size,
    read: async (offset, length) => {
      const b = Buffer.alloc(length);
      const { bytesRead } = await fh.read(b, 0, length, offset);
      return new Uint8Array(b.buffer, b.byteOffset, bytesRead);
    },
    close: () => fh.close(),
  };
}

/** `--flag value` options (repeatable) and positional arguments. */
export function parseArgs(argv: string[], flags: string[], switches: string[] = []) {
  const options: Record<string, string[]> = {};
  const on = new Set<string>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (switches.includes(a)) on.add(a);
    else if (flags.includes(a)) {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      (options[a] ??= []).push(v);
    } else if (a.startsWith('--')) throw new UsageError(`unknown option ${a}`);
    else positional.push(a);
  }
  return { options, on, positional };
}

export class UsageError extends Error {}

export async function readTrustedKeys(paths: string[]): Promise<TrustedKey[]> {
  return Promise.all(paths.map(async (p) => readPublicKey(await readFile(p, 'utf8'), p)));
}

/** The app's self-test (same input, preprocessing, tolerance and graph check), on onnxruntime-node's CPU backend. */
export async function selfTestOnNode(manifest: ModelManifest, model: Uint8Array): Promise<number> {
  const { probabilities, signature } = await runOnnxNode(model, manifest);
  checkSessionSignature(manifest, signature);
  return selfTestDeviation(manifest, probabilities);
}
