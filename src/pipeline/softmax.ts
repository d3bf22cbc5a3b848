/**
 * Turning classifier logits into probabilities.
 *
 * For a CosFace/ArcFace head the logits are `s · cos θ` (s = 64 in training); at
 * inference there is no margin and the probabilities are `softmax(s · cos θ)`.
 * A temperature T > 1 softens them (calibration): `softmax(z / T)`.
 */

/**
 * Numerically stable softmax: `p_i = exp((z_i − max z) / T) / Σ_j exp((z_j − max z) / T)`,
 * computed in float64. Subtracting the maximum keeps every exponent ≤ 0, so large
 * logits (e.g. [1000, 1001]) do not overflow. An empty input gives an empty output.
 *
 * @param temperature T, finite and > 0 (default 1).
 * @throws RangeError for a non-finite logit or an invalid temperature.
 */
export function softmax(logits: ArrayLike<number>, temperature = 1): Float64Array {
  if (!(temperature > 0) || !Number.isFinite(temperature)) {
    throw new RangeError(`temperature must be finite and > 0, got ${temperature}`);
  }
  const n = logits.length;
  const out = new Float64Array(n);
  if (n === 0) return out;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const z = logits[i] as number;
    if (!Number.isFinite(z)) throw new RangeError(`logit ${i} is not finite (${z})`);
    if (z > max) max = z;
  }
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const e = Math.exp(((logits[i] as number) - max) / temperature);
    out[i] = e;
    sum += e;
  }
  // sum ≥ 1 because the maximum contributes exp(0) = 1.
  for (let i = 0; i < n; i++) out[i] = (out[i] as number) / sum;
  return out;
}

/**
 * Index of the largest value; the first one on ties. NaN never wins.
 * Returns −1 for an empty input or one that is all NaN.
 */
export function argmax(values: ArrayLike<number>): number {
  let best = -1;
  let bestValue = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (v > bestValue || (best === -1 && v === -Infinity)) {
      best = i;
      bestValue = v;
    }
  }
  return best;
}
