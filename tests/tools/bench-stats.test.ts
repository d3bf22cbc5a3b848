import { describe, expect, it } from 'vitest';
import { formatSummary, formatTable, maxAbsDifference, ratio, summarize } from '../../scripts/bench/stats';

describe('benchmark statistics', () => {
  it('summarises repeated runs as median and range, ignoring non-finite samples', () => {
    expect(summarize([5, 1, 3])).toEqual({ median: 3, min: 1, max: 5, n: 3 });
    expect(summarize([4, 1, 3, 2, NaN])).toEqual({ median: 2.5, min: 1, max: 4, n: 4 });
    expect(summarize([])).toBeNull();
  });

  it('gives the browser/native ratio of medians, or nothing when a side is missing', () => {
    expect(ratio(summarize([700, 600, 650]), summarize([100, 130, 120]))).toBeCloseTo(650 / 120);
    expect(ratio(summarize([1]), null)).toBeNull();
  });

  it('prints milliseconds, switching to seconds for long stages', () => {
    expect(formatSummary(summarize([612, 598, 650]))).toBe('612 ms (598–650, n=3)');
    expect(formatSummary(summarize([12_500]))).toBe('12.5 s');
    expect(formatSummary(null)).toBe('—');
  });

  it('aligns table columns', () => {
    const lines = formatTable(
      ['stage', 'wasm'],
      [
        ['inference', '612 ms'],
        ['decode', '8 ms'],
      ],
    ).split('\n');
    expect(lines.map((l) => l.length)).toEqual([lines[0]!.length, lines[0]!.length, lines[0]!.length, lines[0]!.length]);
    expect(lines[3]).toBe('decode       8 ms');
  });

  it('measures probability drift as the largest absolute difference', () => {
    expect(maxAbsDifference([0.1, 0.2, 0.7], [0.1005, 0.2, 0.6995])).toBeCloseTo(5e-4);
    expect(maxAbsDifference([1], [0.5, 0.5])).toBe(Infinity);
  });
});
