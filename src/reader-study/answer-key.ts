// A reader-study set is a folder (or a multi-file selection) of consented photos plus an answer key: a CSV file
// named labels.csv with one "photo path, class[, patient_id]" row per photo, the path relative to the key's folder (a
// bare file name does for a flat folder, or where it names one photo only). With a patient_id (a third column, or a
// column of that name in a header row), photos of one child are grouped and scored per child too. Framework-free.

export interface StudyPhoto<F> {
  file: F;
  name: string;
  /** Class id of the confirmed diagnosis. */
  truth: string;
  /** The child the photo shows, when the key gives one. */
  patient?: string;
}

export type AnswerKeyProblem =
  | { code: 'no-key' }
  | { code: 'no-photos' }
  | { code: 'bad-row'; line: number; text: string }
  | { code: 'unknown-class'; line: number; label: string }
  | { code: 'duplicate'; line: number; name: string }
  /** A bare file name that several photos in different folders have: the row must give the folder. */
  | { code: 'ambiguous'; line: number; name: string; count: number }
  /** Photos of one child labelled with different classes: the child has one diagnosis. */
  | { code: 'patient-mixed-labels'; patient: string }
  | { code: 'photo-without-label'; name: string }
  | { code: 'label-without-photo'; name: string };

export class AnswerKeyError extends Error {
  constructor(readonly problems: AnswerKeyProblem[]) {
    super(problems.map((p) => p.code).join(', '));
  }
}

export const ANSWER_KEY_NAME = 'labels.csv';
const PHOTO = /\.(jpe?g|png|webp|heic|heif|bmp|gif)$/i;

/** Accepts the class id, its short name (WBS, NS, ALGS, non-GS) or its English display name, in any case. */
export function classForLabel(label: string, classes: readonly { id: string; displayName: { en: string } }[]): string | null {
  const norm = (s: string) => s.toLowerCase().replace(/[\s_–—-]+/g, '');
  const l = norm(label);
  if (!l) return null;
  const aliases: Record<string, string> = { nongs: 'non_gs', nonsyndromic: 'non_gs', none: 'non_gs', williams: 'wbs', noonan: 'ns', alagille: 'algs' };
  for (const c of classes) if (norm(c.id) === l || norm(c.displayName.en) === l) return c.id;
  const alias = aliases[l];
  return alias && classes.some((c) => c.id === alias) ? alias : null;
}

/** Splits one CSV line (RFC 4180 quoting). */
export function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',' || ch === ';' || ch === '\t') {
      out.push(cell.trim());
      cell = '';
    } else cell += ch;
  }
  out.push(cell.trim());
  return out;
}

const baseName = (path: string) => path.split('/').pop()!;
/** One spelling of a path: forward slashes, no leading "./", NFC (macOS and Windows spell accents differently). */
const normalPath = (path: string) =>
  path
    .replace(/\\/g, '/')
    .replace(/^(\.\/)+/, '')
    .replace(/\/{2,}/g, '/')
    .normalize('NFC');

/**
 * Pairs photos with the answer key by path. Every photo needs exactly one label and every label a photo: a study
 * where either is missing, or where a label could mean two photos, would report accuracy on a different set than
 * the clinician thinks. `keyPath` is the answer key's path in the selection (photo paths are taken relative to its
 * folder).
 */
export function buildStudySet<F>(
  files: readonly { file: F; name: string }[],
  keyText: string | null,
  classes: readonly { id: string; displayName: { en: string } }[],
  keyPath = ANSWER_KEY_NAME,
): StudyPhoto<F>[] {
  const photos = files.filter((f) => PHOTO.test(f.name));
  const problems: AnswerKeyProblem[] = [];
  if (keyText === null) problems.push({ code: 'no-key' });
  if (photos.length === 0) problems.push({ code: 'no-photos' });
  if (problems.length) throw new AnswerKeyError(problems);

  const key = normalPath(keyPath);
  const folder = key.includes('/') ? key.slice(0, key.lastIndexOf('/') + 1) : '';
  const entries = photos.map((p) => {
    const full = normalPath(p.name);
    return { photo: p, full, relative: folder && full.startsWith(folder) ? full.slice(folder.length) : full };
  });
  const byRelative = new Map(entries.map((e) => [e.relative, e]));
  const byFull = new Map(entries.map((e) => [e.full, e]));
  const byBase = new Map<string, typeof entries>();
  for (const e of entries) byBase.set(baseName(e.relative), [...(byBase.get(baseName(e.relative)) ?? []), e]);

  const labels = new Map<(typeof entries)[number], string>();
  const patients = new Map<(typeof entries)[number], string>();
  let patientColumn = 2;
  const unmatched: string[] = [];
  keyText!
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .forEach((raw, i) => {
      const line = i + 1;
      if (!raw.trim() || raw.trim().startsWith('#')) return;
      const cells = splitCsvLine(raw);
      if (cells.length < 2 || !cells[0]) return void problems.push({ code: 'bad-row', line, text: raw.slice(0, 80) });
      const [name, label] = [normalPath(cells[0]), cells[1]!];
      const id = classForLabel(label, classes);
      if (!id) {
        // A header row ("file,label[,patient_id]") is allowed on the first line; it may put patient_id elsewhere.
        if (line === 1 && !PHOTO.test(name)) {
          const named = cells.findIndex((c) => /^patient[\s_-]?id$/i.test(c));
          if (named >= 0) patientColumn = named;
          return;
        }
        return void problems.push({ code: 'unknown-class', line, label });
      }
      let entry = byRelative.get(name) ?? byFull.get(name);
      if (!entry && !name.includes('/')) {
        const same = byBase.get(name) ?? [];
        if (same.length > 1) return void problems.push({ code: 'ambiguous', line, name, count: same.length });
        entry = same[0];
      }
      if (!entry) return void unmatched.push(name);
      if (labels.has(entry)) return void problems.push({ code: 'duplicate', line, name });
      labels.set(entry, id);
      const patient = cells[patientColumn]?.trim();
      if (patient) patients.set(entry, patient);
    });

  for (const e of entries) if (!labels.has(e)) problems.push({ code: 'photo-without-label', name: e.relative });
  const patientTruth = new Map<string, string>();
  for (const [e, patient] of patients) {
    const known = patientTruth.get(patient);
    if (known === undefined) patientTruth.set(patient, labels.get(e)!);
    else if (known !== labels.get(e) && known !== '') {
      problems.push({ code: 'patient-mixed-labels', patient });
      patientTruth.set(patient, '');
    }
  }
  for (const n of unmatched) problems.push({ code: 'label-without-photo', name: n });
  if (problems.length) throw new AnswerKeyError(problems);
  return entries.map((e) => ({ file: e.photo.file, name: e.relative, truth: labels.get(e)!, ...(patients.has(e) && { patient: patients.get(e)! }) }));
}

/** Fisher–Yates with an injected random source, so a test can fix the order. */
export function shuffled<T>(items: readonly T[], random: () => number = Math.random): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
