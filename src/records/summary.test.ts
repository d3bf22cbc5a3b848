import { describe, expect, it } from 'vitest';
import { NO_FILTER, filterCases, summarize } from './summary';
import type { Diagnosis } from './case-record';
import { sampleCase } from '../../tests/unit/records-fixtures';

const CLASSES = ['wbs', 'ns', 'algs', 'non_gs'];
const withTop = (id: string, top: number, diagnosis: Diagnosis, createdAt = '2026-03-04T10:20:30.000Z') => {
  const probabilities = [0.1, 0.1, 0.1, 0.1];
  probabilities[top] = 0.7;
  return sampleCase({
    id,
    createdAt,
    patientRef: `ref-${id}`,
    result: { ...sampleCase().result, probabilities },
    followUp: { diagnosis, detail: '', updatedAt: '' },
  });
};

describe('summary of this device’s cases', () => {
  it('counts top classes, builds the confusion matrix and per-class sensitivity from confirmed diagnoses only', () => {
    const cases = [
      withTop('1', 0, 'wbs'),
      withTop('2', 0, 'wbs'),
      withTop('3', 1, 'wbs'),
      withTop('4', 1, 'ns'),
      withTop('5', 3, 'none'),
      withTop('6', 2, 'pending'),
      withTop('7', 0, 'other'),
    ];
    const s = summarize(cases, CLASSES);
    expect(s.total).toBe(7);
    expect(s.byTopClass).toEqual({ wbs: 3, ns: 2, algs: 1, non_gs: 1 });
    expect(s.confirmed).toBe(5);
    expect(s.matrix).toEqual([
      [2, 1, 0, 0],
      [0, 1, 0, 0],
      [0, 0, 0, 0],
      [0, 0, 0, 1],
    ]);
    expect(s.sensitivity).toEqual([2 / 3, 1, null, 1]);
    expect(s.accuracy).toBeCloseTo(4 / 5);
  });

  it('has no accuracy figures without confirmed diagnoses', () => {
    const s = summarize([withTop('1', 0, 'pending')], CLASSES);
    expect(s.confirmed).toBe(0);
    expect(s.accuracy).toBeNull();
    expect(s.sensitivity).toEqual([null, null, null, null]);
  });
});

describe('history filters', () => {
  const cases = [
    withTop('a1', 0, 'wbs', '2026-01-10T12:00:00.000Z'),
    withTop('b2', 1, 'pending', '2026-02-10T12:00:00.000Z'),
    withTop('c3', 1, 'ns', '2026-03-10T12:00:00.000Z'),
  ];
  const ids = (f: Partial<typeof NO_FILTER>) => filterCases(cases, { ...NO_FILTER, ...f }).map((c) => c.id);
  it('searches the patient reference, case-insensitively', () => {
    expect(ids({ search: 'REF-B' })).toEqual(['b2']);
    expect(ids({})).toEqual(['a1', 'b2', 'c3']);
  });
  it('filters by date range, top class, model version and confirmed diagnosis', () => {
    expect(ids({ from: '2026-02-01', to: '2026-02-28' })).toEqual(['b2']);
    expect(ids({ topClass: 'ns' })).toEqual(['b2', 'c3']);
    expect(ids({ diagnosis: 'ns' })).toEqual(['c3']);
    expect(ids({ model: 'demo 1.0.0' })).toEqual(['a1', 'b2', 'c3']);
    expect(ids({ model: 'demo 2.0.0' })).toEqual([]);
  });
});
