// Accuracy, per-class recall, precision and F1 — the figures the founding study reported for the model and the
// five pediatricians. A missing answer (e.g. the model found no face) counts as wrong, never as skipped.

import { topClassIndex } from '../pipeline/uncertainty';
import type { FusionInput } from '../screening/fusion';

export interface ClassMetrics {
  id: string;
  /** Photos whose confirmed class is this one. */
  support: number;
  recall: number | null;
  precision: number | null;
  f1: number | null;
}

export interface StudyMetrics {
  total: number;
  correct: number;
  accuracy: number | null;
  /** Answers that could not be given (the model found no face). */
  unanswered: number;
  perClass: ClassMetrics[];
  /** Mean F1 over classes present in the set (support > 0). */
  macroF1: number | null;
}

export function studyMetrics(classIds: readonly string[], truth: readonly string[], answers: readonly (string | null)[]): StudyMetrics {
  if (truth.length !== answers.length) throw new RangeError(`${truth.length} confirmed classes but ${answers.length} answers`);
  const total = truth.length;
  const correct = truth.filter((t, i) => answers[i] === t).length;
  const perClass = classIds.map((id) => {
    const support = truth.filter((t) => t === id).length;
    const predicted = answers.filter((a) => a === id).length;
    const tp = truth.filter((t, i) => t === id && answers[i] === id).length;
    const recall = support ? tp / support : null;
    const precision = predicted ? tp / predicted : null;
    // With no prediction of a present class, precision is undefined but F1 is 0 (no true positives).
    const f1 = support === 0 ? null : tp === 0 ? 0 : (2 * precision! * recall!) / (precision! + recall!);
    return { id, support, recall, precision, f1 };
  });
  const f1s = perClass.filter((c) => c.f1 !== null).map((c) => c.f1!);
  return {
    total,
    correct,
    accuracy: total ? correct / total : null,
    unanswered: answers.filter((a) => a === null).length,
    perClass,
    macroF1: f1s.length ? f1s.reduce((s, x) => s + x, 0) / f1s.length : null,
  };
}

/** One child's answers, from the answers to each of their photos. */
export interface ChildAnswers {
  patient: string;
  truth: string;
  photos: number;
  /** The reader's most frequent answer over the child's photos; null on a tie (no single answer). */
  reader: string | null;
  /** The model's answer from the fusion of its probabilities over the photos it could screen; null when none. */
  model: string | null;
}

/**
 * Groups photo answers by child (photos without a patient id are each their own child). The model's per-child
 * answer fuses the photos it could screen with `fusePhotos` (the rule the model was validated with; null: no answer).
 */
export function childAnswers(
  classIds: readonly string[],
  answers: readonly { patient?: string; photo: string; truth: string; reader: string; probabilities: readonly number[]; embedding?: readonly number[] }[],
  fusePhotos: (photos: FusionInput[]) => number[] | null,
): ChildAnswers[] {
  const groups = new Map<string, (typeof answers)[number][]>();
  for (const a of answers) {
    const key = a.patient ? `patient:${a.patient}` : `photo:${a.photo}`;
    groups.set(key, [...(groups.get(key) ?? []), a]);
  }
  return [...groups.values()].map((photos) => {
    const votes = new Map<string, number>();
    for (const p of photos) votes.set(p.reader, (votes.get(p.reader) ?? 0) + 1);
    const best = Math.max(...votes.values());
    const leaders = [...votes].filter(([, n]) => n === best);
    const scored = photos
      .filter((p) => p.probabilities.length === classIds.length)
      .map((p) => ({ probabilities: p.probabilities, ...(p.embedding && { embedding: p.embedding }) }));
    const fused = scored.length ? fusePhotos(scored) : null;
    const model = fused ? classIds[topClassIndex(fused)]! : null;
    return {
      patient: photos[0]!.patient ?? photos[0]!.photo,
      truth: photos[0]!.truth,
      photos: photos.length,
      reader: leaders.length === 1 ? leaders[0]![0] : null,
      model,
    };
  });
}
