import { describe, expect, it } from 'vitest';
import { evaluateTargets, frameSize, landmarkErrors, sweepCells, type CellOutcome } from '../../scripts/bench/face-cells';

describe('face-stage sweep', () => {
  it('has unique cells, a short subset, and 4:3 frames of the stated size', () => {
    for (const short of [false, true]) {
      const ids = sweepCells(short).map((c) => c.id);
      expect(new Set(ids).size).toBe(ids.length);
    }
    expect(sweepCells(true).length).toBeLessThan(sweepCells(false).length / 3);
    const { width, height } = frameSize(12);
    expect(width / height).toBeCloseTo(4 / 3, 2);
    expect((width * height) / 1e6).toBeCloseTo(12, 1);
  });

  it('measures the landmark error as the largest eye distance and the mouth distance', () => {
    const truth = [
      { x: 0, y: 0 },
      { x: 10, y: 0 },
      { x: 5, y: 5 },
      { x: 5, y: 10 },
    ];
    const got = [
      { x: 0, y: 1 },
      { x: 13, y: 4 },
      { x: 0, y: 0 },
      { x: 5, y: 11.5 },
    ];
    expect(landmarkErrors(truth, got)).toEqual({ eye: 5, mouth: 1.5 });
  });

  it('names the cells that miss a target', () => {
    const cells = sweepCells(true);
    const ok = (id: string): CellOutcome => ({
      id,
      found: true,
      chosenRight: true,
      faces: 1,
      turn: 0,
      detectorCalls: 5,
      detectMs: 10,
      eyeErrorPx: 0.5,
      mouthErrorPx: 0.5,
      eyesApartPx: 100,
      checks: { 'face-size': 'pass' },
      sharpness: { status: 'pass', value: 1 },
    });
    const blurStatus = (sigma = 0) => (sigma >= 2 ? 'fail' : sigma >= 1 ? 'warn' : 'pass');
    const outcomes = cells.map((c) =>
      c.sweep === 'no-face' ? { ...ok(c.id), found: false } : { ...ok(c.id), sharpness: { status: blurStatus(c.blurCropPx), value: 1 } },
    );
    const blurred = cells.find((c) => c.blurCropPx === 2)!;
    outcomes[cells.indexOf(blurred)] = { ...ok(blurred.id), sharpness: { status: 'warn', value: 1.8 } };
    const missed = Object.fromEntries(evaluateTargets(cells, outcomes).map((t) => [t.name, t.failures]));
    expect(missed['blur σ ≥ 2 crop px fails the gate']).toEqual([blurred.id]);
    expect(missed['no face reported on the no-face photos']).toEqual([]);
    expect(Object.values(missed).flat()).toEqual([blurred.id]);
  });
});
