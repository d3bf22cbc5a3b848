// What the result screen names as the finding: the most probable class, or "inconclusive" when no class is
// probable enough to name. Framework-free for unit tests.

/** Below this top probability the result is called inconclusive (issue 7's thresholds may replace it). */
export const INCONCLUSIVE_BELOW = 0.5;

export interface Finding {
  /** Index of the most probable class in the manifest's class list. */
  index: number;
  probability: number;
  inconclusive: boolean;
}

export function topFinding(probabilities: readonly number[], minProbability = INCONCLUSIVE_BELOW): Finding {
  if (probabilities.length === 0 || probabilities.some((p) => !Number.isFinite(p) || p < 0 || p > 1))
    throw new RangeError(`probabilities must be numbers in [0, 1], got [${probabilities.join(', ')}]`);
  let index = 0;
  for (let i = 1; i < probabilities.length; i++) if (probabilities[i]! > probabilities[index]!) index = i;
  const probability = probabilities[index]!;
  // A tie for first place names no class either.
  const tied = probabilities.some((p, i) => i !== index && p === probability);
  return { index, probability, inconclusive: probability < minProbability || tied };
}

/** Class ids with reviewed "what to consider next" suggestions (guidance namespace), in display order. */
export const GUIDED_SYNDROMES = ['wbs', 'ns', 'algs'] as const;
