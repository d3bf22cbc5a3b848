// onnxruntime-node probabilities for a float32 NCHW input file (written by the training kit's parity test):
//   npx tsx models/training/aligner/ort-run.ts <model.onnx> <input.f32> <batch>   → JSON [[p…], …]
import { readFile } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';

const [modelPath, inputPath, batchArg] = process.argv.slice(2);
if (!modelPath || !inputPath || !batchArg) throw new Error('usage: ort-run.ts <model.onnx> <input.f32> <batch>');
const n = Number(batchArg);
const buf = await readFile(inputPath);
const data = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
if (data.length !== n * 3 * 112 * 112) throw new Error(`${inputPath} holds ${data.length} floats, expected ${n}×3×112×112`);
const session = await ort.InferenceSession.create(modelPath, { executionProviders: ['cpu'] });
const out = await session.run({ [session.inputNames[0]!]: new ort.Tensor('float32', data, [n, 3, 112, 112]) });
const probs = out[session.outputNames[0]!]!.data as Float32Array;
const k = probs.length / n;
console.log(JSON.stringify(Array.from({ length: n }, (_, i) => Array.from(probs.subarray(i * k, (i + 1) * k)))));
await session.release();
