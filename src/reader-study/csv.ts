// The reader study's CSV export: one row per photo, then the summary for the reader and for the model.
import type { StudyMetrics } from './metrics';

export interface StudyAnswer {
  photo: string;
  truth: string;
  reader: string;
  model: string | null;
  /** The model's probabilities in class order; empty when it could not screen the photo. */
  probabilities: number[];
  readerMs: number;
  /** The child the photo shows, when the answer key gives one. */
  patient?: string;
  /** The model's embedding of the photo (mean-embedding models; not exported). */
  embedding?: number[];
}

/** Quotes a cell; a leading = + - @ is neutralised so a spreadsheet never runs it as a formula. */
export function csvCell(value: string | number | null): string {
  if (value === null) return '';
  let s = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n;]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

const num = (x: number | null) => (x === null ? null : Number(x.toFixed(4)));

export function studyCsv(opts: {
  reader: string;
  date: string;
  modelName: string;
  classIds: readonly string[];
  answers: readonly StudyAnswer[];
  readerMetrics: StudyMetrics;
  modelMetrics: StudyMetrics;
  /** Scored per child (the answer key gave patient ids): how many children, and the reader's and model's figures. */
  perChild?: { children: number; reader: StudyMetrics; model: StudyMetrics };
}): string {
  const child = opts.perChild;
  const { classIds } = opts;
  const rows: (string | number | null)[][] = [
    ['reader', opts.reader],
    ['date', opts.date],
    ['model', opts.modelName],
    [],
    [
      'photo',
      'confirmed',
      'reader_answer',
      'reader_correct',
      'model_answer',
      'model_correct',
      ...classIds.map((c) => `model_p_${c}`),
      'reader_seconds',
      'patient_id',
    ],
    ...opts.answers.map((a) => [
      a.photo,
      a.truth,
      a.reader,
      a.reader === a.truth ? 1 : 0,
      a.model ?? 'no_face',
      a.model === a.truth ? 1 : 0,
      ...classIds.map((_, i) => (a.probabilities.length ? num(a.probabilities[i]!) : null)),
      Number((a.readerMs / 1000).toFixed(1)),
      a.patient ?? null,
    ]),
    [],
    ['metric', 'reader', 'model'],
    ['accuracy', num(opts.readerMetrics.accuracy), num(opts.modelMetrics.accuracy)],
    ['macro_f1', num(opts.readerMetrics.macroF1), num(opts.modelMetrics.macroF1)],
    ...classIds.flatMap((c, i) => [
      [`recall_${c}`, num(opts.readerMetrics.perClass[i]!.recall), num(opts.modelMetrics.perClass[i]!.recall)],
      [`f1_${c}`, num(opts.readerMetrics.perClass[i]!.f1), num(opts.modelMetrics.perClass[i]!.f1)],
    ]),
    ...(child
      ? [
          [],
          ['per_child', 'reader', 'model'],
          ['children', child.children, child.children],
          ['child_accuracy', num(child.reader.accuracy), num(child.model.accuracy)],
          ['child_macro_f1', num(child.reader.macroF1), num(child.model.macroF1)],
          ...classIds.map((c, i) => [`child_recall_${c}`, num(child.reader.perClass[i]!.recall), num(child.model.perClass[i]!.recall)]),
        ]
      : []),
  ];
  // A byte-order mark so spreadsheet programs read the (possibly Chinese) reader name as UTF-8.
  return '\uFEFF' + rows.map((r) => r.map(csvCell).join(',')).join('\r\n') + '\r\n';
}
