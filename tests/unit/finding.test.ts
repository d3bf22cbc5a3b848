import { describe, expect, it } from 'vitest';
import { INCONCLUSIVE_BELOW, topFinding } from '../../src/app/guidance/finding';

describe('the finding named on the result', () => {
  it('names the most probable class when it reaches the threshold', () => {
    expect(topFinding([0.1, 0.7, 0.15, 0.05])).toEqual({ index: 1, probability: 0.7, inconclusive: false });
    expect(topFinding([0.05, 0.05, 0.4, 0.5]).inconclusive).toBe(false);
  });

  it('is inconclusive below the threshold or on a tie for first place', () => {
    expect(INCONCLUSIVE_BELOW).toBe(0.5);
    expect(topFinding([0.3, 0.25, 0.25, 0.2])).toEqual({ index: 0, probability: 0.3, inconclusive: true });
    expect(topFinding([0.5, 0.5, 0, 0]).inconclusive).toBe(true);
    expect(topFinding([0.3, 0.25, 0.25, 0.2], 0.25).inconclusive).toBe(false);
  });

  it('refuses probabilities that are not probabilities', () => {
    expect(() => topFinding([])).toThrow(RangeError);
    expect(() => topFinding([Number.NaN, 0.5])).toThrow(RangeError);
    expect(() => topFinding([1.2, -0.2])).toThrow(RangeError);
  });
});
