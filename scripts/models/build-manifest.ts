// Writes manifest.json for a model folder from its config.json and its model.onnx:
// SHA-256 and size of the file, and a self-test vector computed with onnxruntime-node.
// The result is then checked by the same validator the app uses.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { MANIFEST_FORMAT, checkSessionSignature, selfTestImage, sha256Hex, validateManifest, type ModelManifest } from '../../src/model/manifest.ts';
import { toNchwFloat32 } from '../../src/pipeline/preprocess.ts';

export const SELF_TEST_TOLERANCE = 1e-4;

/** Deterministic pseudo-random bytes (mulberry32), so the self-test input is reproducible from the seed. */
export function seededBytes(seed: number, length: number): Uint8Array {
  let a = seed >>> 0;
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((t ^ (t >>> 14)) >>> 0) & 0xff;
  }
  return out;
}

/** The manifest's self-test input for a config's seed: 112×112 RGB bytes, base64. */
export function selfTestInputBase64(seed = 1): string {
  return Buffer.from(seededBytes(seed, 112 * 112 * 3)).toString('base64');
}

export async function runOnnxNode(modelPath: string | Uint8Array, manifest: Pick<ModelManifest, 'input' | 'output' | 'normalization' | 'selfTest'>) {
  const session = await ort.InferenceSession.create(modelPath as string, { executionProviders: ['cpu'] });
  try {
    const tensor = new ort.Tensor('float32', toNchwFloat32(selfTestImage(manifest), manifest.normalization), [1, 3, 112, 112]);
    const out = await session.run({ [manifest.input.name]: tensor });
    const probabilities = Array.from(out[manifest.output.name]!.data as Float32Array);
    const signature = {
      inputs: session.inputMetadata.map((m) => ({ name: m.name, shape: m.isTensor ? m.shape : [] })),
      outputs: session.outputMetadata.map((m) => ({ name: m.name, shape: m.isTensor ? m.shape : [] })),
    };
    return { probabilities, signature };
  } finally {
    await session.release();
  }
}

/**
 * The manifest for a model folder holding config.json and model.onnx (and MODEL_CARD.md, described when present):
 * config fields as written, plus what is computed here — file sizes and hashes, the self-test vector (run with
 * onnxruntime-node) and the output shape — then checked by the same validator and session check the app uses.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- config.json as written by hand: validateManifest checks the manifest made from it
export async function draftManifest(modelDir: string, config?: Record<string, any>): Promise<ModelManifest> {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- config.json as written by hand: validateManifest checks the manifest made from it
  config ??= JSON.parse(await readFile(join(modelDir, 'config.json'), 'utf8')) as Record<string, any>;
  const modelPath = join(modelDir, 'model.onnx');
  const bytes = await readFile(modelPath);
  const card = await readFile(join(modelDir, 'MODEL_CARD.md')).catch(() => null);
  const draft: ModelManifest = {
    format: MANIFEST_FORMAT,
    id: config.id,
    version: config.version,
    name: config.name,
    displayName: config.displayName,
    created: config.created,
    publisher: config.publisher,
    demonstration: config.demonstration === true,
    architecture: config.architecture,
    head: config.head,
    input: config.input,
    normalization: config.normalization,
    alignment: { template: 'arcface-112', points: ['right-eye', 'left-eye', 'nose-tip', 'mouth-centre'] },
    output: { name: config.output?.name, shape: [-1, config.classes?.length] },
    classes: config.classes,
    cosfaceScale: config.cosfaceScale,
    temperature: config.temperature,
    file: { name: 'model.onnx', sha256: await sha256Hex(bytes), bytes: bytes.byteLength },
    ...(card ? { modelCard: { name: 'MODEL_CARD.md' as const, sha256: await sha256Hex(card), bytes: card.byteLength } } : {}),
    ...(config.validation ? { validation: config.validation } : {}),
    ...(config.weights ? { weights: config.weights } : {}),
    ...(config.inference ? { inference: config.inference } : {}),
    clinicalValidation: config.clinicalValidation,
    selfTest: { inputRgbBase64: selfTestInputBase64(config.seed), expected: [], tolerance: config.selfTestTolerance ?? SELF_TEST_TOLERANCE },
  };
  // Config mistakes are reported in the manifest's words before the model runs.
  const classCount = Array.isArray(config.classes) ? config.classes.length : 0;
  draft.selfTest.expected = Array.from({ length: classCount }, () => 1 / classCount);
  validateManifest(draft);
  const { probabilities, signature } = await runOnnxNode(modelPath, draft);
  checkSessionSignature(draft, signature);
  draft.selfTest.expected = probabilities;
  return validateManifest(draft);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- config.json as written by hand: validateManifest checks the manifest made from it
export async function buildManifest(modelDir: string, config?: Record<string, any>): Promise<ModelManifest> {
  const manifest = await draftManifest(modelDir, config);
  await writeFile(join(modelDir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  return manifest;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dir = process.argv[2];
  if (!dir) throw new Error('usage: tsx scripts/models/build-manifest.ts <model folder>');
  const m = await buildManifest(dir);
  console.log(`${dir}/manifest.json: ${m.id} ${m.version}, sha256 ${m.file.sha256}, self-test ${m.selfTest.expected.map((p) => p.toFixed(4)).join(' ')}`);
}
