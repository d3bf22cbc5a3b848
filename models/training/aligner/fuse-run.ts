// A packaged model run the way the app runs it, for the training kit's fusion test: the app's manifest validator,
// its session core (onnxruntime-node instead of onnxruntime-web) and its fusion of one child's photos by the
// manifest's rule.
//   npx tsx models/training/aligner/fuse-run.ts <package dir> <input.f32> <photos>
//   → JSON { probabilities: [[p…]…], embeddings: [[e…]…] | null, fused: [p…], rule }
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ortNode from 'onnxruntime-node';
import { openModelSession, type OrtModule } from '../../../src/inference/session-core';
import { DEFAULT_INFERENCE, validateManifest } from '../../../src/model/manifest';
import { embeddingHead, fuse } from '../../../src/screening/fusion';

const [dir, inputPath, photosArg] = process.argv.slice(2);
if (!dir || !inputPath || !photosArg) throw new Error('usage: fuse-run.ts <package dir> <input.f32> <photos>');
const n = Number(photosArg);
const manifest = validateManifest(JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')));
const buf = await readFile(inputPath);
const input = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
const session = await openModelSession(ortNode as unknown as OrtModule, new Uint8Array(await readFile(join(dir, 'model.onnx'))), manifest, {
  executionProviders: ['cpu'],
});
try {
  const out = await session.classify(input, n);
  const rows = (a: Float32Array) => Array.from({ length: n }, (_, i) => Array.from(a.subarray((i * a.length) / n, ((i + 1) * a.length) / n)));
  const probabilities = rows(out.probabilities);
  const embeddings = out.embeddings ? rows(out.embeddings) : null;
  const rule = manifest.inference?.fusion ?? DEFAULT_INFERENCE.fusion;
  const photos = probabilities.map((p, i) => ({ probabilities: p, ...(embeddings && { embedding: embeddings[i]! }) }));
  console.log(JSON.stringify({ probabilities, embeddings, fused: fuse(photos, rule, embeddingHead(manifest)), rule }));
} finally {
  await session.release();
}
