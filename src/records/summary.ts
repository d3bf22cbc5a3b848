// History filters and this device's own accuracy figures: what the model said (top class) against the
// confirmed genetic diagnosis entered at follow-up.
import { type CaseRecord, type Diagnosis, topClass } from './case-record';

export interface CaseFilter {
  /** Part of the patient reference, any case. */
  search: string;
  /** Inclusive dates, YYYY-MM-DD in local time, or ''. */
  from: string;
  to: string;
  topClass: string;
  /** `${modelId} ${version}`, or ''. */
  model: string;
  diagnosis: Diagnosis | '';
}

export const NO_FILTER: CaseFilter = { search: '', from: '', to: '', topClass: '', model: '', diagnosis: '' };

export const modelKey = (c: CaseRecord) => `${c.result.model.id} ${c.result.model.version}`;

/** Local calendar day of an ISO timestamp (what "from"/"to" date inputs mean to the clinician). */
function localDay(iso: string): string {
  const d = new Date(iso);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

export function filterCases(cases: CaseRecord[], f: CaseFilter): CaseRecord[] {
  const q = f.search.trim().toLocaleLowerCase();
  return cases.filter((c) => {
    if (q && !c.patientRef.toLocaleLowerCase().includes(q)) return false;
    const day = localDay(c.createdAt);
    if (f.from && day < f.from) return false;
    if (f.to && day > f.to) return false;
    if (f.topClass && topClass(c) !== f.topClass) return false;
    if (f.model && modelKey(c) !== f.model) return false;
    if (f.diagnosis && c.followUp.diagnosis !== f.diagnosis) return false;
    return true;
  });
}

/** The model class a confirmed diagnosis corresponds to. 'none' (no syndrome) is the non-syndromic class. */
const DIAGNOSIS_CLASS: Partial<Record<Diagnosis, string>> = { wbs: 'wbs', ns: 'ns', algs: 'algs', none: 'non_gs' };

export interface Summary {
  total: number;
  byTopClass: Record<string, number>;
  /** Cases with a confirmed diagnosis that maps to a model class ('other' and 'pending' are left out). */
  confirmed: number;
  classes: string[];
  /** matrix[i][j]: confirmed class i, model's top class j. */
  matrix: number[][];
  /** Per confirmed class: correct / confirmed, or null without confirmed cases. */
  sensitivity: (number | null)[];
  /** Confirmed cases the model classified correctly, over all confirmed. */
  accuracy: number | null;
}

/** Figures over the given cases, for one class list (the model's classes, in order). */
export function summarize(cases: CaseRecord[], classes: string[]): Summary {
  const byTopClass: Record<string, number> = Object.fromEntries(classes.map((c) => [c, 0]));
  const matrix = classes.map(() => classes.map(() => 0));
  let confirmed = 0;
  let correct = 0;
  for (const c of cases) {
    const predicted = topClass(c);
    byTopClass[predicted] = (byTopClass[predicted] ?? 0) + 1;
    const truth = DIAGNOSIS_CLASS[c.followUp.diagnosis];
    const i = truth ? classes.indexOf(truth) : -1;
    const j = classes.indexOf(predicted);
    if (i < 0 || j < 0) continue;
    matrix[i]![j]!++;
    confirmed++;
    if (i === j) correct++;
  }
  const sensitivity = matrix.map((row, i) => {
    const n = row.reduce((a, b) => a + b, 0);
    return n ? row[i]! / n : null;
  });
  return { total: cases.length, byTopClass, confirmed, classes, matrix, sensitivity, accuracy: confirmed ? correct / confirmed : null };
}
