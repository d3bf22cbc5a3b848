/**
 * When not to name a syndrome. The model's probabilities are softmax(s · cos θ / T), computed in its graph, with T
 * the manifest's calibration temperature (1 = uncalibrated, as in the demonstration model); for a calibrated model a
 * top probability of p means it is right about p of the time on its validation data. A result is "inconclusive"
 * when the top class is not likely enough, or when the runner-up is too close to tell apart.
 */

export interface ConfidenceLimits {
  /** Below this top probability the result is inconclusive. */
  minTopProbability: number;
  /** Below this gap between the top two probabilities the result is inconclusive. */
  minMargin: number;
}

/**
 * Defaults: with four classes chance is 0.25; 0.5 asks the model to favour one class over all the others
 * together. A margin under 0.15 means a small change of photo could swap the top two.
 */
export const DEFAULT_CONFIDENCE_LIMITS: ConfidenceLimits = Object.freeze({ minTopProbability: 0.5, minMargin: 0.15 });

export type Confidence =
  | { conclusive: true; top: number; runnerUp: number; margin: number }
  | { conclusive: false; reason: 'low-probability' | 'close-call'; top: number; runnerUp: number; margin: number };

/** `top` and `runnerUp` are class indices. */
export function assessConfidence(probabilities: readonly number[], limits: ConfidenceLimits = DEFAULT_CONFIDENCE_LIMITS): Confidence {
  if (probabilities.length < 2) throw new RangeError('need at least two class probabilities');
  const order = probabilities.map((p, i) => [p, i] as const).sort((a, b) => b[0] - a[0]);
  const [[p1, top], [p2, runnerUp]] = order as [readonly [number, number], readonly [number, number]];
  const margin = p1 - p2;
  if (p1 < limits.minTopProbability) return { conclusive: false, reason: 'low-probability', top, runnerUp, margin };
  if (margin < limits.minMargin) return { conclusive: false, reason: 'close-call', top, runnerUp, margin };
  return { conclusive: true, top, runnerUp, margin };
}

/** The clinician's limits from settings, kept within sensible bounds (a stored value may be anything). */
export function confidenceLimits(minTopProbability: number, minMargin: number): ConfidenceLimits {
  const clamp = (v: number, lo: number, hi: number, fallback: number) => (Number.isFinite(v) ? Math.min(hi, Math.max(lo, v)) : fallback);
  return {
    minTopProbability: clamp(minTopProbability, 0, 0.99, DEFAULT_CONFIDENCE_LIMITS.minTopProbability),
    minMargin: clamp(minMargin, 0, 0.99, DEFAULT_CONFIDENCE_LIMITS.minMargin),
  };
}

/** Index of the highest probability. */
export function topClassIndex(probabilities: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < probabilities.length; i++) if (probabilities[i]! > probabilities[best]!) best = i;
  return best;
}
