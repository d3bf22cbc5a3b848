import { describe, expect, it } from 'vitest';
import { liveGuidance, type LiveFace } from './live-guidance';

/** A frontal face centred at (cx, cy) with eyes `iod` px apart, optionally rolled. */
function face(cx: number, cy: number, iod: number, roll = 0): LiveFace {
  const r = (roll * Math.PI) / 180;
  const at = (x: number, y: number) => ({ x: cx + x * Math.cos(r) - y * Math.sin(r), y: cy + x * Math.sin(r) + y * Math.cos(r) });
  const keypoints = [
    at(-iod / 2, -0.3 * iod),
    at(iod / 2, -0.3 * iod),
    at(0, 0.3 * iod),
    at(0, 0.8 * iod),
    at(-1.2 * iod, 0.1 * iod),
    at(1.2 * iod, 0.1 * iod),
  ];
  return { box: { x: cx - 1.3 * iod, y: cy - 1.2 * iod, width: 2.6 * iod, height: 2.6 * iod }, keypoints };
}
const frame = { width: 640, height: 480 };
const failing = (g: ReturnType<typeof liveGuidance>) => g.checks.filter((c) => !c.ok).map((c) => c.id);

describe('live camera guidance', () => {
  it('a centred, large, frontal, sharp face is ready', () => {
    const g = liveGuidance([face(320, 240, 70)], frame, 1.0);
    expect(failing(g)).toEqual([]);
    expect(g.ready).toBe(true);
  });
  it('names what is wrong', () => {
    expect(failing(liveGuidance([], frame))).toEqual(['one-face', 'centred', 'large-enough', 'frontal', 'sharp']);
    expect(failing(liveGuidance([face(320, 240, 70), face(100, 100, 40)], frame, 1.0))).toContain('one-face');
    expect(failing(liveGuidance([face(520, 240, 70)], frame, 1.0))).toEqual(['centred']);
    expect(failing(liveGuidance([face(320, 240, 20)], frame, 1.0))).toEqual(['large-enough']);
    expect(failing(liveGuidance([face(320, 240, 70, 25)], frame, 1.0))).toEqual(['frontal']);
    expect(failing(liveGuidance([face(320, 240, 70)], frame, 3))).toEqual(['sharp']);
  });
});
