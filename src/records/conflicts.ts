// An imported case whose id is already on this device: what differs, which copy is newer by the clock (parsed
// instants, not strings: "…:30Z" and "…:30.5Z" sort wrongly as text), and whether a timestamp is in the future
// (a device with a wrong clock would otherwise win every comparison). Framework-free.
import type { CaseRecord } from './case-record';

/** A timestamp further ahead of this device's clock than this is called suspicious (clocks drift a little). */
export const FUTURE_TOLERANCE_MS = 5 * 60_000;

export type DifferenceField =
  'patientRef' | 'age' | 'sex' | 'clinician' | 'notes' | 'diagnosis' | 'diagnosisDetail' | 'photoConsent' | 'crop' | 'photo' | 'result';

export interface CaseDifference {
  field: DifferenceField;
  /** Short text of each side, for display ('' when empty). */
  local: string;
  incoming: string;
}

export interface Conflict {
  id: string;
  localUpdatedAt: string;
  fileUpdatedAt: string;
  /** Null when the copy on this device cannot be read (damaged): it is still kept if replaced. */
  differences: CaseDifference[] | null;
  newer: 'file' | 'local' | 'same';
  suspicious: ('file-future' | 'local-future')[];
}

export type DuplicateChoice = 'skip' | 'newer';

const TEXT = 160;
const short = (s: string) => (s.length > TEXT ? `${s.slice(0, TEXT - 1)}…` : s);
const sameBytes = (a: Uint8Array | null | undefined, b: Uint8Array | null | undefined) => {
  if (!a || !b) return !a === !b;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
};
const resultText = (r: CaseRecord['result']) => `${r.model.id} ${r.model.version}: ${r.probabilities.map((p) => p.toFixed(3)).join(' ')}`;

export function caseDifferences(local: CaseRecord, incoming: CaseRecord): CaseDifference[] {
  const out: CaseDifference[] = [];
  const text = (field: DifferenceField, a: string, b: string) => a !== b && out.push({ field, local: short(a), incoming: short(b) });
  text('patientRef', local.patientRef, incoming.patientRef);
  text('age', local.age ? `${local.age.years}y ${local.age.months}m` : '', incoming.age ? `${incoming.age.years}y ${incoming.age.months}m` : '');
  text('sex', local.sex, incoming.sex);
  text('clinician', local.clinician, incoming.clinician);
  text('notes', local.notes, incoming.notes);
  text('diagnosis', local.followUp.diagnosis, incoming.followUp.diagnosis);
  text('diagnosisDetail', local.followUp.detail, incoming.followUp.detail);
  text('photoConsent', String(local.photoConsent), String(incoming.photoConsent));
  if (!sameBytes(local.crop, incoming.crop)) out.push({ field: 'crop', local: local.crop ? 'stored' : '', incoming: incoming.crop ? 'stored' : '' });
  if (!sameBytes(local.photo?.bytes, incoming.photo?.bytes))
    out.push({ field: 'photo', local: local.photo ? 'stored' : '', incoming: incoming.photo ? 'stored' : '' });
  const extras = (r: CaseRecord) => r.extraPhotos ?? [];
  const sameExtras =
    extras(local).length === extras(incoming).length &&
    extras(local).every((e, i) => sameBytes(e.crop, extras(incoming)[i]!.crop) && sameBytes(e.photo?.bytes, extras(incoming)[i]!.photo?.bytes));
  if (!sameExtras) out.push({ field: 'photo', local: `${extras(local).length + 1}`, incoming: `${extras(incoming).length + 1}` });
  text('result', resultText(local.result), resultText(incoming.result));
  return out;
}

/**
 * The conflict between the copy here (`local`, null when it cannot be read; `localUpdatedAt` is stored in clear) and
 * the copy in the file. Null when the two are the same case, unchanged: nothing to decide.
 */
export function describeConflict(local: CaseRecord | null, localUpdatedAt: string, incoming: CaseRecord, now = Date.now()): Conflict | null {
  const differences = local ? caseDifferences(local, incoming) : null;
  const a = Date.parse(localUpdatedAt);
  const b = Date.parse(incoming.updatedAt);
  if (differences?.length === 0 && a === b) return null;
  const suspicious: Conflict['suspicious'] = [];
  if (b > now + FUTURE_TOLERANCE_MS) suspicious.push('file-future');
  if (a > now + FUTURE_TOLERANCE_MS) suspicious.push('local-future');
  return { id: incoming.id, localUpdatedAt, fileUpdatedAt: incoming.updatedAt, differences, newer: b > a ? 'file' : b < a ? 'local' : 'same', suspicious };
}

/**
 * Whether the file's copy replaces the one here unless the clinician decides otherwise: never with 'skip'; with
 * 'newer' only when the file's copy is newer and its timestamp is not in the future (a wrong clock must not win).
 */
export function replacedByDefault(c: Conflict, choice: DuplicateChoice): boolean {
  return choice === 'newer' && c.newer === 'file' && !c.suspicious.includes('file-future');
}
