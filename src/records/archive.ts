// Moving cases between devices: the JSON form of a case (shared by both archive versions; archive-stream.ts writes
// and reads backups), the version-1 reader, and a CSV (one row per case) for spreadsheets and audits.
import { fromBase64, toBase64 } from '../encoding/base64';
import { type CasePhoto, type CaseRecord, RecordError, topClass, validateCaseRecord } from './case-record';

/** The single-document archive of Facies before streaming backups (archive-stream.ts): still read, no longer written. */
export const ARCHIVE_FORMAT = 'facies-cases/1';
/** A version-1 archive larger than this is refused before reading: it is parsed as one string (V8 caps strings near 512 Mi). */
export const MAX_ARCHIVE_BYTES = 256 * 1024 * 1024;

const photoToJson = (ph: CasePhoto | null) => (ph ? { type: ph.type, base64: toBase64(ph.bytes) } : null);

export function caseToJson(r: CaseRecord): Record<string, unknown> {
  return {
    ...r,
    crop: r.crop ? toBase64(r.crop) : null,
    photo: photoToJson(r.photo),
    ...(r.extraPhotos && { extraPhotos: r.extraPhotos.map((e) => ({ crop: e.crop ? toBase64(e.crop) : null, photo: photoToJson(e.photo) })) }),
  };
}

export type ArchiveProblem =
  | { kind: 'too-large' }
  /** The file ends before its closing line: a download or copy that did not finish. */
  | { kind: 'truncated' }
  | { kind: 'needs-passphrase' }
  | { kind: 'wrong-passphrase' }
  | { kind: 'not-json' }
  | { kind: 'not-an-archive' }
  | { kind: 'newer-format'; format: string }
  | { kind: 'no-cases' };

export class ArchiveError extends Error {
  constructor(readonly problem: ArchiveProblem) {
    super(problem.kind);
    this.name = 'ArchiveError';
  }
}

export interface ParsedArchive {
  cases: CaseRecord[];
  /** Entries that were refused, with why (the rest can still be imported). */
  rejected: { index: number; id: string; problems: string[] }[];
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function decodeBytes(v: unknown): unknown {
  return typeof v === 'string' && v.length % 4 === 0 && BASE64.test(v) ? fromBase64(v) : v;
}

/** One archived case as written by caseToJson, checked in full: throws RecordError with every problem found. */
export function caseFromJson(entry: unknown): CaseRecord {
  const e = (typeof entry === 'object' && entry !== null ? entry : {}) as Record<string, unknown>;
  const photoFromJson = (v: unknown) =>
    v && typeof v === 'object' ? { type: (v as Record<string, unknown>).type, bytes: decodeBytes((v as Record<string, unknown>).base64) } : v;
  const extras = Array.isArray(e.extraPhotos)
    ? e.extraPhotos.map((x: unknown) =>
        x && typeof x === 'object' ? { crop: decodeBytes((x as Record<string, unknown>).crop), photo: photoFromJson((x as Record<string, unknown>).photo) } : x,
      )
    : e.extraPhotos;
  return validateCaseRecord({ ...e, crop: decodeBytes(e.crop), photo: photoFromJson(e.photo), ...(extras !== undefined && { extraPhotos: extras }) });
}

/** The id an entry claims (for messages about an entry that was refused). */
export const claimedId = (entry: unknown) => {
  const id = (entry as Record<string, unknown> | null)?.id;
  return typeof id === 'string' ? id.slice(0, 64) : '';
};

/**
 * Parses a version-1 archive (one JSON document; Facies before streaming backups). Throws ArchiveError for a file
 * that is not a Facies archive at all.
 */
export function parseArchive(text: string): ParsedArchive {
  if (text.length > MAX_ARCHIVE_BYTES) throw new ArchiveError({ kind: 'too-large' });
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new ArchiveError({ kind: 'not-json' });
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ArchiveError({ kind: 'not-an-archive' });
  const a = raw as Record<string, unknown>;
  if (typeof a.format === 'string' && /^facies-cases\/\d+$/.test(a.format) && a.format !== ARCHIVE_FORMAT)
    throw new ArchiveError({ kind: 'newer-format', format: a.format });
  if (a.format !== ARCHIVE_FORMAT || !Array.isArray(a.cases)) throw new ArchiveError({ kind: 'not-an-archive' });
  if (a.cases.length === 0) throw new ArchiveError({ kind: 'no-cases' });
  const out: ParsedArchive = { cases: [], rejected: [] };
  const seen = new Set<string>();
  a.cases.forEach((entry, index) => {
    try {
      const record = caseFromJson(entry);
      if (seen.has(record.id)) throw new RecordError(['the same case id appears twice in the file']);
      seen.add(record.id);
      out.cases.push(record);
    } catch (err) {
      out.rejected.push({ index, id: claimedId(entry), problems: err instanceof RecordError ? err.problems : [String(err)] });
    }
  });
  return out;
}

// CSV ----------------------------------------------------------------------------------------------------------------

/**
 * One cell, RFC 4180 quoted. Text a spreadsheet would run as a formula (=, +, -, @, tab, CR) gets a leading
 * apostrophe (OWASP CSV injection advice): a patient reference must never execute in the ward's spreadsheet.
 */
export function csvCell(value: string | number | boolean | null): string {
  if (value === null) return '';
  let s = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One row per case. Probability columns for every class any of the cases has (models may differ). */
export function exportCsv(cases: CaseRecord[]): string {
  const classIds: string[] = [];
  for (const c of cases) for (const id of c.result.classes) if (!classIds.includes(id)) classIds.push(id);
  const header = [
    'case_id',
    'created_at',
    'updated_at',
    'patient_ref',
    'age_years',
    'age_months',
    'sex',
    'photo_consent',
    'crop_stored',
    'photo_stored',
    'top_class',
    ...classIds.map((c) => `p_${c}`),
    'quality_warnings',
    'quality_overridden',
    'tta',
    'model_id',
    'model_version',
    'model_sha256',
    'model_demonstration',
    'backend',
    'backend_threads',
    'inference_ms',
    'total_ms',
    'clinician',
    'notes',
    'confirmed_diagnosis',
    'diagnosis_detail',
    'diagnosis_updated_at',
    // Several-photo screenings: the p_ columns are the fused result; each photo's own probabilities, in class order.
    'tta_mode',
    'photos',
    'photos_included',
    'fusion_rule',
    'photo_probabilities',
  ];
  const rows = cases.map((c) => {
    const r = c.result;
    return [
      c.id,
      c.createdAt,
      c.updatedAt,
      c.patientRef,
      c.age?.years ?? null,
      c.age?.months ?? null,
      c.sex,
      c.photoConsent,
      c.crop !== null,
      c.photo !== null,
      topClass(c),
      ...classIds.map((id) => (r.classes.includes(id) ? r.probabilities[r.classes.indexOf(id)]! : null)),
      r.qualityWarnings.join(';'),
      r.qualityOverridden,
      r.tta,
      r.model.id,
      r.model.version,
      r.model.sha256,
      r.model.demonstration,
      r.backend.ep,
      r.backend.threads,
      Math.round(r.timings.inferenceMs),
      Math.round(r.timings.totalMs),
      c.clinician,
      c.notes,
      c.followUp.diagnosis,
      c.followUp.detail,
      c.followUp.updatedAt,
      r.ttaMode ?? (r.tta ? 'flip' : 'none'),
      r.fusion?.photos.length ?? 1,
      r.fusion?.photos.filter((ph) => ph.included).length ?? 1,
      r.fusion?.rule ?? null,
      r.fusion
        ? r.fusion.photos
            .map(
              (ph) =>
                (ph.included ? '' : '(left out)') + (ph.included || !ph.probabilities.length ? '' : ' ') + ph.probabilities.map((v) => v.toFixed(4)).join('|'),
            )
            .join('; ')
        : null,
    ];
  });
  // BOM: spreadsheet programs then read Chinese text as UTF-8.
  return '\uFEFF' + [header, ...rows].map((row) => row.map(csvCell).join(',')).join('\r\n') + '\r\n';
}
