// The model contract: what every model folder (manifest.json + model.onnx) must declare.
// One implementation, used by the app, the build scripts and the tests.

export const MANIFEST_FORMAT = 'facies-model-manifest/1';

export type LocalizedText = { en: string } & Record<string, string>;

export interface ClassSpec {
  id: string;
  displayName: LocalizedText;
}

export interface TensorSpec {
  name: string;
  /** -1 marks a dynamic (batch) dimension. */
  shape: number[];
}

export interface SelfTest {
  /** 112×112 RGB, row-major HWC, one byte per channel, base64. Normalised by the manifest's normalisation. */
  inputRgbBase64: string;
  /** Expected probabilities, in class order. */
  expected: number[];
  /** Maximum absolute difference accepted per probability. */
  tolerance: number;
}

export interface ClinicalValidation {
  status: 'none' | 'internal' | 'external';
  summary: string;
}

export interface ModelManifest {
  format: typeof MANIFEST_FORMAT;
  id: string;
  version: string;
  name: string;
  /** True for the bundled, untrained demonstration model. */
  demonstration: boolean;
  architecture: string;
  head: 'cosface' | 'arcface';
  input: TensorSpec & { layout: 'NCHW'; colorSpace: 'RGB' };
  normalization: { mean: [number, number, number]; std: [number, number, number] };
  alignment: { template: 'arcface-112'; points: ['right-eye', 'left-eye', 'nose-tip', 'mouth-centre'] };
  output: TensorSpec;
  classes: ClassSpec[];
  cosfaceScale: number;
  temperature: number;
  file: { name: 'model.onnx'; sha256: string; bytes: number };
  clinicalValidation: ClinicalValidation;
  selfTest: SelfTest;
}

export class ManifestError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid model manifest: ${problems.join('; ')}`);
    this.name = 'ManifestError';
  }
}

type Json = unknown;

const isObject = (v: Json): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isFiniteNumber = (v: Json): v is number => typeof v === 'number' && Number.isFinite(v);
const isNonEmptyString = (v: Json): v is string => typeof v === 'string' && v.trim().length > 0;

/** Checks a parsed manifest.json and returns it typed, or throws ManifestError listing every problem. */
export function validateManifest(raw: Json): ModelManifest {
  const p: string[] = [];
  if (!isObject(raw)) throw new ManifestError(['manifest is not a JSON object']);
  const m = raw;
  if (m.format !== MANIFEST_FORMAT) p.push(`format must be "${MANIFEST_FORMAT}"`);
  for (const key of ['id', 'version', 'name', 'architecture'] as const) {
    if (!isNonEmptyString(m[key])) p.push(`${key} must be a non-empty string`);
  }
  if (typeof m.id === 'string' && !/^[a-z0-9][a-z0-9._-]{0,63}$/.test(m.id)) p.push('id may only contain a-z, 0-9, ".", "_" and "-"');
  if (typeof m.demonstration !== 'boolean') p.push('demonstration must be true or false');
  if (m.head !== 'cosface' && m.head !== 'arcface') p.push('head must be "cosface" or "arcface"');

  const input = m.input;
  if (!isObject(input)) p.push('input is missing');
  else {
    if (!isNonEmptyString(input.name)) p.push('input.name must be a non-empty string');
    const shape = input.shape;
    if (!Array.isArray(shape) || shape.length !== 4 || shape[1] !== 3 || shape[2] !== 112 || shape[3] !== 112 || !(shape[0] === -1 || (Number.isInteger(shape[0]) && (shape[0] as number) > 0)))
      p.push('input.shape must be [N, 3, 112, 112] (N = -1 for a dynamic batch)');
    if (input.layout !== 'NCHW') p.push('input.layout must be "NCHW"');
    if (input.colorSpace !== 'RGB') p.push('input.colorSpace must be "RGB"');
  }

  const norm = m.normalization;
  if (!isObject(norm) || !isTriple(norm.mean) || !isTriple(norm.std) || (norm.std as number[]).some((s) => s <= 0))
    p.push('normalization must have mean and std, three positive numbers each');

  const al = m.alignment;
  if (!isObject(al) || al.template !== 'arcface-112') p.push('alignment.template must be "arcface-112"');
  else if (JSON.stringify(al.points) !== JSON.stringify(['right-eye', 'left-eye', 'nose-tip', 'mouth-centre']))
    p.push('alignment.points must be ["right-eye", "left-eye", "nose-tip", "mouth-centre"]');

  const classes = m.classes;
  let classCount = 0;
  if (!Array.isArray(classes) || classes.length < 2) p.push('classes must list at least two classes');
  else {
    classCount = classes.length;
    const seen = new Set<string>();
    classes.forEach((c: Json, i) => {
      if (!isObject(c) || !isNonEmptyString(c.id) || !/^[a-z0-9_]+$/.test(c.id)) p.push(`classes[${i}].id must be lowercase letters, digits or "_"`);
      else if (seen.has(c.id)) p.push(`classes[${i}].id "${c.id}" is duplicated`);
      else seen.add(c.id);
      if (!isObject(c) || !isObject(c.displayName) || !isNonEmptyString(c.displayName.en)) p.push(`classes[${i}].displayName.en is missing`);
    });
  }

  const out = m.output;
  if (!isObject(out) || !isNonEmptyString(out.name)) p.push('output.name must be a non-empty string');
  else if (!Array.isArray(out.shape) || out.shape.length !== 2 || out.shape[1] !== classCount)
    p.push(`output.shape must be [N, ${classCount || 'number of classes'}]`);

  if (!isFiniteNumber(m.cosfaceScale) || m.cosfaceScale <= 0) p.push('cosfaceScale must be a positive number');
  if (!isFiniteNumber(m.temperature) || m.temperature <= 0) p.push('temperature must be a positive number');

  const file = m.file;
  if (!isObject(file) || file.name !== 'model.onnx') p.push('file.name must be "model.onnx"');
  else {
    if (typeof file.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(file.sha256)) p.push('file.sha256 must be 64 lowercase hex digits');
    if (!Number.isInteger(file.bytes) || (file.bytes as number) <= 0) p.push('file.bytes must be a positive integer');
  }

  const cv = m.clinicalValidation;
  if (!isObject(cv) || !['none', 'internal', 'external'].includes(cv.status as string) || !isNonEmptyString(cv.summary))
    p.push('clinicalValidation must have status ("none", "internal" or "external") and a summary');
  if (m.demonstration === true && isObject(cv) && cv.status !== 'none') p.push('a demonstration model cannot claim clinical validation');

  const st = m.selfTest;
  if (!isObject(st)) p.push('selfTest is missing');
  else {
    if (typeof st.inputRgbBase64 !== 'string' || base64ByteLength(st.inputRgbBase64) !== 112 * 112 * 3)
      p.push('selfTest.inputRgbBase64 must encode 112×112×3 bytes');
    if (!Array.isArray(st.expected) || st.expected.length !== classCount || !st.expected.every(isFiniteNumber))
      p.push(`selfTest.expected must list ${classCount || 'one'} probabilit${classCount === 1 ? 'y' : 'ies'} per class`);
    else if (Math.abs((st.expected as number[]).reduce((a, b) => a + b, 0) - 1) > 1e-3) p.push('selfTest.expected must sum to 1');
    if (!isFiniteNumber(st.tolerance) || st.tolerance <= 0 || st.tolerance > 0.05) p.push('selfTest.tolerance must be in (0, 0.05]');
  }

  if (p.length) throw new ManifestError(p);
  return raw as unknown as ModelManifest;
}

function isTriple(v: Json): v is [number, number, number] {
  return Array.isArray(v) && v.length === 3 && v.every(isFiniteNumber);
}

function base64ByteLength(b64: string): number {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 !== 0) return -1;
  const pad = b64.endsWith('==') ? 2 : b64.endsWith('=') ? 1 : 0;
  return (b64.length / 4) * 3 - pad;
}

export async function sha256Hex(bytes: ArrayBuffer | Uint8Array): Promise<string> {
  const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  const digest = await crypto.subtle.digest('SHA-256', view as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Refuses model bytes that are not the file the manifest describes. */
export async function verifyModelBytes(manifest: ModelManifest, bytes: ArrayBuffer | Uint8Array): Promise<void> {
  const length = bytes.byteLength;
  if (length !== manifest.file.bytes)
    throw new ManifestError([`model.onnx is ${length} bytes but the manifest declares ${manifest.file.bytes}: the file is incomplete or not the one this manifest describes`]);
  const actual = await sha256Hex(bytes);
  if (actual !== manifest.file.sha256)
    throw new ManifestError([`model.onnx SHA-256 is ${actual} but the manifest declares ${manifest.file.sha256}: the file was altered or corrupted`]);
}

/** What a loaded ONNX session says about its own inputs and outputs. */
export interface SessionSignature {
  inputs: { name: string; shape: ReadonlyArray<number | string> }[];
  outputs: { name: string; shape: ReadonlyArray<number | string> }[];
}

/** Refuses a session whose graph does not have the input and output the manifest declares. */
export function checkSessionSignature(manifest: ModelManifest, sig: SessionSignature): void {
  const p: string[] = [];
  const input = sig.inputs.find((i) => i.name === manifest.input.name);
  if (!input) p.push(`the model has no input named "${manifest.input.name}" (it has ${sig.inputs.map((i) => `"${i.name}"`).join(', ')})`);
  else if (!shapesCompatible(manifest.input.shape, input.shape)) p.push(`input "${input.name}" has shape [${input.shape.join(', ')}], manifest says [${manifest.input.shape.join(', ')}]`);
  const output = sig.outputs.find((o) => o.name === manifest.output.name);
  if (!output) p.push(`the model has no output named "${manifest.output.name}" (it has ${sig.outputs.map((o) => `"${o.name}"`).join(', ')})`);
  else if (!shapesCompatible(manifest.output.shape, output.shape))
    p.push(`output "${output.name}" has shape [${output.shape.join(', ')}], manifest says [${manifest.output.shape.join(', ')}] (${manifest.classes.length} classes)`);
  if (p.length) throw new ManifestError(p);
}

function shapesCompatible(declared: number[], actual: ReadonlyArray<number | string>): boolean {
  if (actual.length === 0) return true; // shape not recorded in the graph: nothing to compare
  if (declared.length !== actual.length) return false;
  return declared.every((d, i) => {
    const a = actual[i];
    if (d === -1) return typeof a === 'string' || a === -1 || (typeof a === 'number' && a > 0);
    return a === d;
  });
}

/** Largest absolute difference between the self-test's expected probabilities and what this device computed. */
export function selfTestDeviation(manifest: ModelManifest, probabilities: ArrayLike<number>): number {
  const expected = manifest.selfTest.expected;
  if (probabilities.length !== expected.length) return Infinity;
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(probabilities[i]! - expected[i]!));
  return Number.isNaN(worst) ? Infinity : worst;
}

/** The self-test input as a 112×112 RGBA image, ready for the same preprocessing as a face crop. */
export function selfTestImage(manifest: Pick<ModelManifest, 'selfTest'>): { width: number; height: number; data: Uint8ClampedArray } {
  const bin = atob(manifest.selfTest.inputRgbBase64);
  const data = new Uint8ClampedArray(112 * 112 * 4);
  for (let i = 0, j = 0; i < bin.length; i += 3, j += 4) {
    data[j] = bin.charCodeAt(i);
    data[j + 1] = bin.charCodeAt(i + 1);
    data[j + 2] = bin.charCodeAt(i + 2);
    data[j + 3] = 255;
  }
  return { width: 112, height: 112, data };
}
