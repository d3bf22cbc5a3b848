// The model contract: what every model folder (manifest.json + model.onnx) must declare.
// One implementation, used by the app, the build scripts and the tests.

import manifestSchema from '../../models/schema/manifest.schema.json' with { type: 'json' };
import { ALIGNED_CROP_SIZE } from '../pipeline/align';
import { assertSupportedSchema, schemaProblems, type Schema } from './package/json-schema';
import { createSHA256 } from 'hash-wasm';

export const MANIFEST_FORMAT = 'facies-model-manifest/1';

/** English and Simplified Chinese are required; other languages may be added. */
export type LocalizedText = { en: string; 'zh-CN': string } & Record<string, string>;

export interface ClassSpec {
  id: string;
  displayName: LocalizedText;
}

export interface TensorSpec {
  name: string;
  /** -1 marks a dynamic (batch) dimension. */
  shape: number[];
}

export interface FileSpec<Name extends string = string> {
  name: Name;
  sha256: string;
  bytes: number;
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
  /** none: never validated clinically; internal: on the developer's own patients; external: by an independent site. */
  status: 'none' | 'internal' | 'external';
  summary: string;
  /** Who validated it (required unless status is none). */
  by?: string;
  /** On what patients (required unless status is none). */
  dataset?: string;
  date?: string;
}

/** Mean and standard deviation across folds. */
export interface Spread {
  mean: number;
  sd: number;
}

export interface ClassMetrics {
  /** Absent when the class was never predicted in any fold: precision is undefined there, not 0. */
  precision?: Spread;
  /** Recall = sensitivity. */
  recall: Spread;
  f1: Spread;
  /** Folds in which the class was never predicted: precision undefined there and left out of its mean. */
  precisionUndefinedFolds?: number;
}

/** Test-time passes: none = [crop]; flip = [crop, mirror]; flip-grey = [crop, mirror, grey(crop), grey(mirror)], grey = ITU-R BT.601 luma replicated to RGB. */
export type TtaMode = 'none' | 'flip' | 'flip-grey';
/** How several photos of one child become one result. */
export type FusionRule = 'mean-probability' | 'mean-log-probability' | 'mean-embedding';
export const TTA_MODES: readonly TtaMode[] = ['none', 'flip', 'flip-grey'];
export const FUSION_RULES: readonly FusionRule[] = ['mean-probability', 'mean-log-probability', 'mean-embedding'];

/** How the published figures were obtained, so how the app must run the model. */
export interface InferenceSpec {
  tta: TtaMode;
  fusion: FusionRule;
  /**
   * Required iff fusion is 'mean-embedding': the ONNX output holding the L2-normalised embedding [N, dimension], and the
   * head's L2-normalised class weights, float32 row-major K×dimension, base64 (the app computes
   * softmax(cosfaceScale·cos / temperature) of the mean embedding, re-normalised).
   */
  embedding?: { output: string; dimension: number; classWeightsBase64: string };
}

/** What a manifest without an inference block means: today's behaviour. */
export const DEFAULT_INFERENCE: Readonly<InferenceSpec> = Object.freeze({ tta: 'flip', fusion: 'mean-probability' });

/** The app's inconclusive rule applied to the held-out results: how many it names, and how often those are right. */
export interface InconclusiveFigures {
  minTopProbability: number;
  minMargin: number;
  /** Share of cases the rule names (conclusive), mean ± SD over folds. */
  coverage: Spread;
  /** Accuracy on the cases it names. */
  accuracyConclusive: Spread;
}

/** One level (patients) under one fusion rule: mean ± SD over folds, confusion matrix pooled over folds. */
export interface LevelFigures {
  accuracy: Spread;
  macroF1: Spread;
  /** Mean of the per-class recalls. */
  balancedAccuracy: Spread;
  perClass: Record<string, ClassMetrics>;
  /** Rows: true class, columns: predicted class; counts of patients. */
  confusionMatrix: number[][];
  inconclusive?: InconclusiveFigures;
}

/** Pooled estimate and percentile bootstrap interval. */
export interface Interval {
  estimate: number;
  low: number;
  high: number;
}

export interface BootstrapIntervals {
  accuracy: Interval;
  macroF1: Interval;
  /** Per class id. */
  recall: Record<string, Interval>;
}

/** One subgroup (e.g. attribute "age_band", group "2-6"); tooFew: fewer patients than subgroups.minPatients, so no figures. */
export interface SubgroupCell {
  attribute: string;
  group: string;
  patients: number;
  photos: number;
  tooFew: boolean;
  accuracy?: number;
  macroF1?: number;
  balancedAccuracy?: number;
}

/** The same cross-validation evaluated another way: another TTA, or the study's photo-level split. */
export interface ValidationComparison {
  tta: TtaMode;
  split: 'patient' | 'photo';
  accuracy: Spread;
  macroF1: Spread;
  balancedAccuracy?: Spread;
}

/** How the publisher measured the model before release (e.g. patient-level 5-fold cross-validation). */
export interface ValidationReport {
  protocol: string;
  folds: number;
  dataset: {
    perClass: Record<string, number>;
    patients?: number;
    ageRangeYears?: [number, number];
    ethnicity?: string;
    sites?: string[];
    description?: string;
  };
  perClass: Record<string, ClassMetrics>;
  accuracy: Spread;
  macroF1: Spread;
  /** Rows: true class, columns: predicted class, both in class order; summed over the folds' held-out sets. */
  confusionMatrix: number[][];
  /** Mean of the per-class recalls. */
  balancedAccuracy?: Spread;
  /** patient (default): folds grouped by patient; photo: the study's photo-level split (a child's photos in training and test). */
  split?: 'patient' | 'photo';
  /**
   * same-folds: the configuration was chosen on the folds these figures come from (optimistic); nested: chosen in inner
   * folds, scored on outer folds; held-out: scored on a locked held-out set.
   */
  estimate?: 'same-folds' | 'nested' | 'held-out';
  /** The TTA the figures were computed with; must be the manifest's inference.tta. */
  tta?: TtaMode;
  /** The inconclusive rule on the photo-level results. */
  inconclusive?: InconclusiveFigures;
  /** Repeated cross-validation: mean ± SD across the repeats' means. */
  repeats?: { count: number; seeds: number[]; accuracy: Spread; macroF1: Spread };
  /** Per child, each fusion rule over the same folds; fusion is the rule picked by CV macro-F1 (ties: the simplest). */
  patientLevel?: { fusion: FusionRule; rules: Partial<Record<FusionRule, LevelFigures>> };
  /** Percentile intervals from resampling patients (seeded) over the pooled held-out results. */
  bootstrap?: { resamples: number; seed: number; confidence: number; photo: BootstrapIntervals; patient?: BootstrapIntervals };
  /** Per patient under the chosen fusion rule, pooled over folds. */
  subgroups?: { minPatients: number; cells: SubgroupCell[] };
  comparisons?: ValidationComparison[];
}

export interface WeightStorage {
  storage: 'float32' | 'float16' | 'float16-mixed';
  /** Node-name prefixes whose weights stay float32. */
  keptFloat32?: string[];
  /** The float32 export the file was made from. */
  source: { sha256: string; bytes: number };
  /** Largest |Δp| between the file and its export, measured in onnxruntime-node when it was made. */
  maxProbabilityDrift: number;
  driftInputs?: string;
}

export interface ModelManifest {
  format: typeof MANIFEST_FORMAT;
  id: string;
  version: string;
  /** Short English name, kept in records and logs. */
  name: string;
  displayName: LocalizedText;
  /** ISO 8601 date the model was trained. */
  created: string;
  publisher: { name: string; contact?: string };
  /** True for the bundled, untrained demonstration model. */
  demonstration: boolean;
  architecture: string;
  head: 'cosface' | 'arcface';
  input: TensorSpec & { layout: 'NCHW'; colorSpace: 'RGB' };
  normalization: { mean: [number, number, number]; std: [number, number, number] };
  alignment: { template: 'arcface-112'; points: ['right-eye', 'left-eye', 'nose-tip', 'mouth-centre'] };
  output: TensorSpec;
  classes: ClassSpec[];
  /** Inference scale s of the CosFace/ArcFace head. */
  cosfaceScale: number;
  /** Calibration temperature (1 = uncalibrated). */
  temperature: number;
  file: FileSpec<'model.onnx'>;
  /** MODEL_CARD.md; present in model packages. */
  modelCard?: FileSpec<'MODEL_CARD.md'>;
  /** Required for every model that is not a demonstration. */
  validation?: ValidationReport;
  /** How the weights are stored, when model.onnx was optimised from a float32 export. */
  weights?: WeightStorage;
  /** How the app must run the model (TTA, fusion of several photos). Absent = DEFAULT_INFERENCE. */
  inference?: InferenceSpec;
  clinicalValidation: ClinicalValidation;
  selfTest: SelfTest;
}

export class ManifestError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid model manifest: ${problems.join('; ')}`);
    this.name = 'ManifestError';
  }
}

assertSupportedSchema(manifestSchema);

/**
 * Checks a parsed manifest.json against models/schema/manifest.schema.json, then the cross-field rules a schema
 * cannot express; returns it typed, or throws ManifestError listing every problem.
 */
export function validateManifest(raw: unknown): ModelManifest {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ManifestError(['manifest is not a JSON object']);
  const structural = schemaProblems(manifestSchema as Schema, raw);
  if (structural.length) throw new ManifestError(structural);
  const m = raw as ModelManifest;
  const p: string[] = [];
  const k = m.classes.length;
  const ids = m.classes.map((c) => c.id);
  ids.forEach((id, i) => ids.indexOf(id) !== i && p.push(`classes[${i}].id "${id}" is duplicated`));
  if (m.output.shape[1] !== k) p.push(`output.shape must be [N, ${k}]: the manifest lists ${k} classes but the output has ${m.output.shape[1]}`);
  if (m.output.shape[0] === 0 || m.output.shape[0]! < -1 || m.input.shape[0] === 0) p.push('the batch dimension must be -1 (dynamic) or a positive number');
  if (base64ByteLength(m.selfTest.inputRgbBase64) !== ALIGNED_CROP_SIZE * ALIGNED_CROP_SIZE * 3)
    p.push(`selfTest.inputRgbBase64 must encode ${ALIGNED_CROP_SIZE}×${ALIGNED_CROP_SIZE}×3 bytes`);
  if (m.selfTest.expected.length !== k) p.push(`selfTest.expected must list ${k} probabilities, one per class (found ${m.selfTest.expected.length})`);
  else if (Math.abs(m.selfTest.expected.reduce((a, b) => a + b, 0) - 1) > 1e-3) p.push('selfTest.expected must sum to 1');

  const cv = m.clinicalValidation;
  if (m.demonstration && cv.status !== 'none') p.push('a demonstration model cannot claim clinical validation');
  if (cv.status !== 'none' && (!cv.by || !cv.dataset))
    p.push(`clinicalValidation.by and clinicalValidation.dataset must say who validated the model and on what patients (status "${cv.status}")`);
  if (m.demonstration && m.validation) p.push('a demonstration model cannot carry a validation report');
  if (!m.demonstration && !m.validation) p.push('validation is missing: a model that is not a demonstration must carry its validation report');
  if (m.validation) p.push(...validationReportProblems(m.validation, ids));
  p.push(...inferenceProblems(m));
  const kept = m.weights?.keptFloat32?.length ?? 0;
  if (m.weights?.storage === 'float16-mixed' && kept === 0)
    p.push('weights.keptFloat32 must name the nodes kept in float32 when weights.storage is "float16-mixed"');
  if (m.weights && m.weights.storage !== 'float16-mixed' && kept > 0)
    p.push(`weights.keptFloat32 is only for weights.storage "float16-mixed" (found "${m.weights.storage}")`);

  if (p.length) throw new ManifestError(p);
  return m;
}

function validationReportProblems(v: ValidationReport, ids: string[]): string[] {
  const p: string[] = [];
  const sameClasses = (keys: string[]) => keys.length === ids.length && ids.every((id) => keys.includes(id));
  if (!sameClasses(Object.keys(v.dataset.perClass))) p.push(`validation.dataset.perClass must give a count for each class: ${ids.join(', ')}`);
  if (!sameClasses(Object.keys(v.perClass))) p.push(`validation.perClass must give metrics for each class: ${ids.join(', ')}`);
  const cm = v.confusionMatrix;
  if (cm.length !== ids.length || cm.some((row) => row.length !== ids.length))
    p.push(`validation.confusionMatrix must be ${ids.length}×${ids.length} (true class × predicted class)`);
  else
    ids.forEach((id, i) => {
      const rowTotal = cm[i]!.reduce((a, b) => a + b, 0);
      const count = v.dataset.perClass[id];
      if (count !== undefined && rowTotal !== count)
        p.push(`validation.confusionMatrix row "${id}" sums to ${rowTotal}, but the dataset has ${count} ${id} cases`);
    });
  const age = v.dataset.ageRangeYears;
  if (age && age[0] > age[1]) p.push('validation.dataset.ageRangeYears must be [youngest, oldest]');
  return p;
}

function inferenceProblems(m: ModelManifest): string[] {
  const p: string[] = [];
  const inf = m.inference ?? DEFAULT_INFERENCE;
  const emb = inf.embedding;
  if (inf.fusion === 'mean-embedding' && !emb)
    p.push('inference.embedding must name the embedding output and the class weights when inference.fusion is "mean-embedding"');
  if (inf.fusion !== 'mean-embedding' && emb) p.push(`inference.embedding is only for inference.fusion "mean-embedding" (found "${inf.fusion}")`);
  if (emb) {
    const bytes = m.classes.length * emb.dimension * 4;
    if (base64ByteLength(emb.classWeightsBase64) !== bytes)
      p.push(`inference.embedding.classWeightsBase64 must encode ${m.classes.length}×${emb.dimension} float32 values (${bytes} bytes)`);
    if (emb.output === m.output.name) p.push('inference.embedding.output must be a second output, not the probabilities output');
  }
  const v = m.validation;
  // The figures must describe the inference the app runs; otherwise the result screen would quote the wrong numbers.
  if (v?.tta && v.tta !== inf.tta)
    p.push(`validation.tta is "${v.tta}" but the app would run "${inf.tta}" (inference.tta): the figures must come from the same TTA`);
  if (v?.patientLevel && v.patientLevel.fusion !== inf.fusion)
    p.push(`validation.patientLevel.fusion is "${v.patientLevel.fusion}" but inference.fusion is "${inf.fusion}"`);
  if (v?.patientLevel && !v.patientLevel.rules[v.patientLevel.fusion])
    p.push(`validation.patientLevel.rules must give the figures of the chosen rule "${v.patientLevel.fusion}"`);
  return p;
}

/** A manifest text in the reader's language, falling back to English. */
export const localized = (text: LocalizedText, language: string): string => text[language] ?? text.en;

function base64ByteLength(b64: string): number {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 !== 0) return -1;
  const pad = b64.endsWith('==') ? 2 : b64.endsWith('=') ? 1 : 0;
  return (b64.length / 4) * 3 - pad;
}

const HASH_SLICE_BYTES = 8 << 20;

/**
 * SHA-256, fed in 8 MiB slices to a WebAssembly hasher (hash-wasm) rather than to WebCrypto: crypto.subtle.digest
 * first copies its whole input (for a model, another 131 MB in the tab), and the browser's handle on that input keeps
 * the caller's buffer alive until a garbage collection, even once the app has freed it (freeNow): measured in
 * Chromium, a freed model file stayed resident ~20 s after the model was ready.
 */
export async function sha256Hex(bytes: ArrayBuffer | Uint8Array): Promise<string> {
  const hasher = await sha256Hasher();
  hasher.update(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes));
  return hasher.hex();
}

export interface Sha256Hasher {
  /** Adds bytes (read at once, in slices: nothing is kept). */
  update(bytes: Uint8Array): void;
  hex(): string;
}

/** An incremental SHA-256 (see sha256Hex): the model store hashes a model chunk by chunk while it reads it. */
export async function sha256Hasher(): Promise<Sha256Hasher> {
  const hasher = await createSHA256();
  return {
    update(bytes) {
      for (let at = 0; at < bytes.length; at += HASH_SLICE_BYTES) hasher.update(bytes.subarray(at, at + HASH_SLICE_BYTES));
    },
    hex: () => hasher.digest('hex'),
  };
}

/**
 * Buffers verifyModelBytes has checked, with the SHA-256 they matched: the model store does not hash the same buffer
 * a second time when a package import hands it over (131 MB: 0.2 s in Node here, 0.65 s measured in the browser
 * earlier; more on a tablet). Keyed by the buffer
 * object, so a copy is hashed again.
 */
const verifiedBuffers = new WeakMap<ArrayBuffer | Uint8Array, string>();

/** Whether verifyModelBytes has checked this very buffer against this SHA-256. */
export function wasVerified(bytes: ArrayBuffer | Uint8Array, sha256: string): boolean {
  return verifiedBuffers.get(bytes) === sha256;
}

/** Refuses model bytes that are not the file the manifest describes. */
export async function verifyModelBytes(manifest: ModelManifest, bytes: ArrayBuffer | Uint8Array): Promise<void> {
  const length = bytes.byteLength;
  if (length !== manifest.file.bytes)
    throw new ManifestError([
      `model.onnx is ${length} bytes but the manifest declares ${manifest.file.bytes}: the file is incomplete or not the one this manifest describes`,
    ]);
  const actual = await sha256Hex(bytes);
  if (actual !== manifest.file.sha256)
    throw new ManifestError([`model.onnx SHA-256 is ${actual} but the manifest declares ${manifest.file.sha256}: the file was altered or corrupted`]);
  verifiedBuffers.set(bytes, actual);
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
  else if (!shapesCompatible(manifest.input.shape, input.shape))
    p.push(`input "${input.name}" has shape [${input.shape.join(', ')}], manifest says [${manifest.input.shape.join(', ')}]`);
  const output = sig.outputs.find((o) => o.name === manifest.output.name);
  if (!output) p.push(`the model has no output named "${manifest.output.name}" (it has ${sig.outputs.map((o) => `"${o.name}"`).join(', ')})`);
  else if (!shapesCompatible(manifest.output.shape, output.shape))
    p.push(
      `output "${output.name}" has shape [${output.shape.join(', ')}], manifest says [${manifest.output.shape.join(', ')}] (${manifest.classes.length} classes)`,
    );
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
  const data = new Uint8ClampedArray(ALIGNED_CROP_SIZE * ALIGNED_CROP_SIZE * 4);
  for (let i = 0, j = 0; i < bin.length; i += 3, j += 4) {
    data[j] = bin.charCodeAt(i);
    data[j + 1] = bin.charCodeAt(i + 1);
    data[j + 2] = bin.charCodeAt(i + 2);
    data[j + 3] = 255;
  }
  return { width: ALIGNED_CROP_SIZE, height: ALIGNED_CROP_SIZE, data };
}
