// The case record: one screening as the clinician files it. Plain data, framework-free.
// The same validator reads records coming back from IndexedDB and from imported archives, so
// a damaged or hostile file can never put a malformed case on the device.
import { FUSION_RULES, TTA_MODES, type FusionRule, type TtaMode } from '../model/manifest';
import { parseProvenance, type Provenance } from '../model/provenance';
import { topClassIndex } from '../pipeline/uncertainty';

export const SEXES = ['female', 'male', 'unknown'] as const;
export type Sex = (typeof SEXES)[number];

/** Confirmed genetic diagnosis, entered at follow-up. 'pending' = not known yet. */
export const DIAGNOSES = ['pending', 'wbs', 'ns', 'algs', 'other', 'none'] as const;
export type Diagnosis = (typeof DIAGNOSES)[number];

/** Limits that keep a record a record (and a hostile import from exhausting the device). */
export const LIMITS = {
  patientRef: 64,
  clinician: 120,
  notes: 10_000,
  diagnosisDetail: 500,
  warning: 120,
  warnings: 32,
  classes: 32,
  modelText: 200,
  cropBytes: 512 * 1024,
  /** All the original photos of one case together. */
  photoBytes: 60 * 1024 * 1024,
  /** Photos of one child in one screening (src/screening/fusion.ts MAX_PHOTOS_PER_CHILD). */
  photos: 5,
  photoName: 200,
} as const;

export interface ModelRef {
  id: string;
  version: string;
  /** SHA-256 of model.onnx, from the manifest the result was computed with. */
  sha256: string;
  name: string;
  demonstration: boolean;
  /** Who vouched for the model when the result was made; absent on cases saved before it was recorded. */
  provenance?: Provenance;
}

export interface CaseResult {
  /** Class ids in the model's output order. */
  classes: string[];
  probabilities: number[];
  /** Quality-gate warnings (codes), and whether the clinician screened despite them. */
  qualityWarnings: string[];
  qualityOverridden: boolean;
  /** Test-time augmentation used (e.g. horizontal flip averaged). */
  tta: boolean;
  /** Which test-time augmentation; absent on cases saved before it was recorded (then tta true = flip). */
  ttaMode?: TtaMode;
  /**
   * A screening from several photos of the child: probabilities above are the fusion of the included photos by
   * `rule`; photos[0] is the case's crop/photo, photos[i ≥ 1] the record's extraPhotos[i − 1]. Absent: one photo.
   */
  fusion?: CaseFusion;
  model: ModelRef;
  backend: { ep: 'webgpu' | 'wasm'; threads: number };
  timings: { decodeMs: number; detectMs: number; alignMs: number; inferenceMs: number; totalMs: number };
}

export interface FusionPhotoResult {
  name: string;
  probabilities: number[];
  qualityWarnings: string[];
  qualityOverridden: boolean;
  /** False when the photo failed the quality gate and was not overridden: shown, but left out of the fusion. */
  included: boolean;
}

export interface CaseFusion {
  rule: FusionRule;
  photos: FusionPhotoResult[];
}

/** Another photo of the same child: its crop (with photo consent) and original (when kept). */
export interface CaseExtraPhoto {
  crop: Uint8Array | null;
  photo: CasePhoto | null;
}

export interface FollowUp {
  diagnosis: Diagnosis;
  /** Gene / variant, free text. */
  detail: string;
  /** ISO date the diagnosis was entered, or '' */
  updatedAt: string;
}

export interface CasePhoto {
  type: string;
  bytes: Uint8Array;
}

export interface CaseRecord {
  id: string;
  /** ISO timestamps. */
  createdAt: string;
  updatedAt: string;
  patientRef: string;
  age: { years: number; months: number } | null;
  sex: Sex;
  photoConsent: boolean;
  /** PNG of the aligned 112×112 crop; absent without photo consent. */
  crop: Uint8Array | null;
  /** The original photo, only when the clinician chose to keep it. */
  photo: CasePhoto | null;
  /** The other photos of a several-photo screening, in result.fusion.photos order from the second; absent: one photo. */
  extraPhotos?: CaseExtraPhoto[];
  result: CaseResult;
  clinician: string;
  notes: string;
  followUp: FollowUp;
}

export class RecordError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
    this.name = 'RecordError';
  }
}

export function newCaseId(): string {
  return crypto.randomUUID();
}

export function topClass(record: Pick<CaseRecord, 'result'>): string {
  return record.result.classes[topClassIndex(record.result.probabilities)] ?? '';
}

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const isPng = (b: Uint8Array) => b.length > 8 && PNG_MAGIC.every((v, i) => b[i] === v);

type Json = unknown;
const isObject = (v: Json): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;
const ID = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Checks an untrusted object (an imported case, or one read back from storage) and returns a typed CaseRecord,
 * or throws RecordError listing every problem. Text is kept exactly as typed: it is always rendered as text.
 */
export function validateCaseRecord(raw: Json): CaseRecord {
  const p: string[] = [];
  if (!isObject(raw)) throw new RecordError(['case is not an object']);
  const str = (v: Json, name: string, max: number, required = false): string => {
    if (typeof v !== 'string') {
      p.push(`${name} must be text`);
      return '';
    }
    if (v.length > max) p.push(`${name} is longer than ${max} characters`);
    if (required && v.trim() === '') p.push(`${name} is empty`);
    return v;
  };
  const num = (v: Json, name: string, min = 0, max = Number.MAX_SAFE_INTEGER): number => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
      p.push(`${name} must be a number from ${min} to ${max}`);
      return 0;
    }
    return v;
  };
  const bytes = (v: Json, name: string, max: number): Uint8Array => {
    if (!(v instanceof Uint8Array)) {
      p.push(`${name} must be bytes`);
      return new Uint8Array();
    }
    if (v.length > max) p.push(`${name} is larger than ${max} bytes`);
    return v;
  };

  const id = typeof raw.id === 'string' && ID.test(raw.id) ? raw.id : (p.push('id must be 1–64 letters, digits, "-" or "_"'), '');
  const date = (v: Json, name: string) =>
    typeof v === 'string' && ISO.test(v) && !Number.isNaN(Date.parse(v)) ? v : (p.push(`${name} must be an ISO date`), '');
  const createdAt = date(raw.createdAt, 'createdAt');
  const updatedAt = date(raw.updatedAt, 'updatedAt');
  const patientRef = str(raw.patientRef, 'patientRef', LIMITS.patientRef);
  let age: CaseRecord['age'] = null;
  if (raw.age !== null) {
    if (!isObject(raw.age)) p.push('age must be {years, months} or null');
    else {
      age = { years: num(raw.age.years, 'age.years', 0, 25), months: num(raw.age.months, 'age.months', 0, 11) };
      if (!Number.isInteger(age.years) || !Number.isInteger(age.months)) p.push('age must be whole years and months');
    }
  }
  const sex = SEXES.includes(raw.sex as Sex) ? (raw.sex as Sex) : (p.push(`sex must be one of ${SEXES.join(', ')}`), 'unknown');
  const photoConsent = typeof raw.photoConsent === 'boolean' ? raw.photoConsent : (p.push('photoConsent must be true or false'), false);
  const crop = raw.crop === null ? null : bytes(raw.crop, 'crop', LIMITS.cropBytes);
  if (crop && !isPng(crop)) p.push('crop must be a PNG image');
  const photoOf = (v: Json, name: string): CasePhoto | null => {
    if (v === null) return null;
    if (!isObject(v)) return (p.push(`${name} must be {type, bytes} or null`), null);
    const ph = { type: str(v.type, `${name}.type`, 100), bytes: bytes(v.bytes, `${name}.bytes`, LIMITS.photoBytes) };
    if (!/^image\/[a-z0-9.+-]+$/.test(ph.type)) p.push(`${name}.type must be an image type`);
    return ph;
  };
  const photo = photoOf(raw.photo, 'photo');
  if (!photoConsent && (crop || photo)) p.push('a face image is stored without photo consent');

  const result = validateResult(raw.result, p, str, num);
  let extraPhotos: CaseExtraPhoto[] | undefined;
  if (raw.extraPhotos !== undefined) {
    if (!Array.isArray(raw.extraPhotos) || raw.extraPhotos.length > LIMITS.photos - 1) p.push(`extraPhotos must list at most ${LIMITS.photos - 1} photos`);
    else
      extraPhotos = raw.extraPhotos.map((e: Json, i) => {
        if (!isObject(e)) return (p.push(`extraPhotos[${i}] must be {crop, photo}`), { crop: null, photo: null });
        const c = e.crop === null ? null : bytes(e.crop, `extraPhotos[${i}].crop`, LIMITS.cropBytes);
        if (c && !isPng(c)) p.push(`extraPhotos[${i}].crop must be a PNG image`);
        return { crop: c, photo: photoOf(e.photo, `extraPhotos[${i}].photo`) };
      });
    if (extraPhotos && !photoConsent && extraPhotos.some((e) => e.crop || e.photo)) p.push('a face image is stored without photo consent');
  }
  const photoTotal = (photo?.bytes.length ?? 0) + (extraPhotos ?? []).reduce((n, e) => n + (e.photo?.bytes.length ?? 0), 0);
  if (photoTotal > LIMITS.photoBytes) p.push(`the original photos together are larger than ${LIMITS.photoBytes} bytes`);
  const photoCount = result?.fusion?.photos.length ?? 1;
  if ((extraPhotos?.length ?? 0) !== photoCount - 1) p.push(`extraPhotos must hold the ${photoCount - 1} photos after the first of result.fusion.photos`);
  const clinician = str(raw.clinician, 'clinician', LIMITS.clinician);
  const notes = str(raw.notes, 'notes', LIMITS.notes);
  let followUp: FollowUp = { diagnosis: 'pending', detail: '', updatedAt: '' };
  if (!isObject(raw.followUp)) p.push('followUp is missing');
  else {
    const d = raw.followUp.diagnosis;
    followUp = {
      diagnosis: DIAGNOSES.includes(d as Diagnosis) ? (d as Diagnosis) : (p.push(`followUp.diagnosis must be one of ${DIAGNOSES.join(', ')}`), 'pending'),
      detail: str(raw.followUp.detail, 'followUp.detail', LIMITS.diagnosisDetail),
      updatedAt: raw.followUp.updatedAt === '' ? '' : date(raw.followUp.updatedAt, 'followUp.updatedAt'),
    };
  }
  if (p.length) throw new RecordError(p);
  return { id, createdAt, updatedAt, patientRef, age, sex, photoConsent, crop, photo, ...(extraPhotos && { extraPhotos }), result, clinician, notes, followUp };
}

function validateResult(
  raw: Json,
  p: string[],
  str: (v: Json, name: string, max: number, required?: boolean) => string,
  num: (v: Json, name: string, min?: number, max?: number) => number,
): CaseResult {
  if (!isObject(raw)) {
    p.push('result is missing');
    return undefined as unknown as CaseResult;
  }
  const classes =
    Array.isArray(raw.classes) &&
    raw.classes.length >= 2 &&
    raw.classes.length <= LIMITS.classes &&
    raw.classes.every((c) => typeof c === 'string' && /^[a-z0-9_]{1,32}$/.test(c))
      ? (raw.classes as string[])
      : (p.push('result.classes must list 2–32 class ids'), []);
  const probs = Array.isArray(raw.probabilities)
    ? raw.probabilities.map((v, i) => num(v, `result.probabilities[${i}]`, 0, 1))
    : (p.push('result.probabilities must be a list'), []);
  if (probs.length !== classes.length) p.push('result.probabilities must have one value per class');
  const warnings =
    Array.isArray(raw.qualityWarnings) && raw.qualityWarnings.length <= LIMITS.warnings
      ? raw.qualityWarnings.map((w, i) => str(w, `result.qualityWarnings[${i}]`, LIMITS.warning))
      : (p.push('result.qualityWarnings must be a list'), []);
  const bool = (v: Json, name: string) => (typeof v === 'boolean' ? v : (p.push(`${name} must be true or false`), false));
  const m = isObject(raw.model) ? raw.model : (p.push('result.model is missing'), {} as Record<string, Json>);
  const model: ModelRef = {
    id: str(m.id, 'result.model.id', LIMITS.modelText, true),
    version: str(m.version, 'result.model.version', LIMITS.modelText, true),
    sha256: typeof m.sha256 === 'string' && /^[0-9a-f]{64}$/.test(m.sha256) ? m.sha256 : (p.push('result.model.sha256 must be 64 hex digits'), ''),
    name: str(m.name, 'result.model.name', LIMITS.modelText),
    demonstration: bool(m.demonstration, 'result.model.demonstration'),
  };
  const provenance = parseProvenance(m.provenance);
  if (m.provenance !== undefined && !provenance) p.push('result.model.provenance is not bundled, unsigned or trusted (publisher, fingerprint)');
  if (provenance) model.provenance = provenance;
  const b = isObject(raw.backend) ? raw.backend : (p.push('result.backend is missing'), {} as Record<string, Json>);
  const ep: 'webgpu' | 'wasm' = b.ep === 'webgpu' || b.ep === 'wasm' ? b.ep : (p.push('result.backend.ep must be webgpu or wasm'), 'wasm');
  const backend = { ep, threads: num(b.threads, 'result.backend.threads', 0, 1024) };
  const t = isObject(raw.timings) ? raw.timings : (p.push('result.timings is missing'), {} as Record<string, Json>);
  const ms = (k: string) => num(t[k], `result.timings.${k}`, 0, 3_600_000);
  const tta = bool(raw.tta, 'result.tta');
  const ttaMode =
    raw.ttaMode === undefined
      ? undefined
      : TTA_MODES.includes(raw.ttaMode as TtaMode)
        ? (raw.ttaMode as TtaMode)
        : (p.push(`result.ttaMode must be one of ${TTA_MODES.join(', ')}`), undefined);
  if (ttaMode && tta !== (ttaMode !== 'none')) p.push('result.tta and result.ttaMode disagree');
  const fusion = raw.fusion === undefined ? undefined : validateFusion(raw.fusion, classes.length, p, str, num);
  return {
    classes,
    probabilities: probs,
    qualityWarnings: warnings,
    qualityOverridden: bool(raw.qualityOverridden, 'result.qualityOverridden'),
    tta,
    ...(ttaMode && { ttaMode }),
    ...(fusion && { fusion }),
    model,
    backend,
    timings: { decodeMs: ms('decodeMs'), detectMs: ms('detectMs'), alignMs: ms('alignMs'), inferenceMs: ms('inferenceMs'), totalMs: ms('totalMs') },
  };
}

function validateFusion(
  raw: Json,
  classCount: number,
  p: string[],
  str: (v: Json, name: string, max: number, required?: boolean) => string,
  num: (v: Json, name: string, min?: number, max?: number) => number,
): CaseFusion | undefined {
  if (!isObject(raw)) return (p.push('result.fusion must be {rule, photos}'), undefined);
  const rule = FUSION_RULES.includes(raw.rule as FusionRule)
    ? (raw.rule as FusionRule)
    : (p.push(`result.fusion.rule must be one of ${FUSION_RULES.join(', ')}`), 'mean-probability');
  if (!Array.isArray(raw.photos) || raw.photos.length < 2 || raw.photos.length > LIMITS.photos)
    return (p.push(`result.fusion.photos must list 2–${LIMITS.photos} photos`), undefined);
  const photos = raw.photos.map((ph: Json, i): FusionPhotoResult => {
    const name = `result.fusion.photos[${i}]`;
    if (!isObject(ph))
      return (p.push(`${name} must be an object`), { name: '', probabilities: [], qualityWarnings: [], qualityOverridden: false, included: false });
    // A photo left out by the quality gate was never run through the model: it may have no probabilities.
    const unscored = ph.included === false && Array.isArray(ph.probabilities) && ph.probabilities.length === 0;
    const probabilities = unscored
      ? []
      : Array.isArray(ph.probabilities) && ph.probabilities.length === classCount
        ? ph.probabilities.map((v, j) => num(v, `${name}.probabilities[${j}]`, 0, 1))
        : (p.push(`${name}.probabilities must have one value per class`), []);
    const qualityWarnings =
      Array.isArray(ph.qualityWarnings) && ph.qualityWarnings.length <= LIMITS.warnings
        ? ph.qualityWarnings.map((w, j) => str(w, `${name}.qualityWarnings[${j}]`, LIMITS.warning))
        : (p.push(`${name}.qualityWarnings must be a list`), []);
    const flag = (v: Json, n: string) => (typeof v === 'boolean' ? v : (p.push(`${name}.${n} must be true or false`), false));
    return {
      name: str(ph.name, `${name}.name`, LIMITS.photoName),
      probabilities,
      qualityWarnings,
      qualityOverridden: flag(ph.qualityOverridden, 'qualityOverridden'),
      included: flag(ph.included, 'included'),
    };
  });
  // The first photo is the one the screening started from: it always had a result.
  if (!photos[0]!.included) p.push('result.fusion.photos[0] must be included');
  return { rule, photos };
}
