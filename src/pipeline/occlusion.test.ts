import { describe, expect, it } from 'vitest';
import { greyFill, occludeInto, occlusionGrid, patchOrigin, sensitivityMap } from './occlusion';
import { ARCFACE_NORMALIZATION } from './preprocess';

describe('occlusion sensitivity', () => {
  it('the default grid is 7 × 7 patches of 28 px every 14 px, covering the crop', () => {
    const g = occlusionGrid();
    expect(g.cells).toBe(7);
    expect(patchOrigin(g, 48)).toEqual({ x: 84, y: 84 });
    expect(84 + g.patch).toBe(112);
    expect(occlusionGrid(16, 8).cells).toBe(13);
    expect(() => occlusionGrid(0, 4)).toThrow(RangeError);
  });
  it('fills exactly the patch with normalised grey in every channel', () => {
    const g = occlusionGrid();
    const crop = new Float32Array(3 * 112 * 112).fill(0.5);
    const out = new Float32Array(2 * crop.length).fill(9);
    const fill = greyFill(ARCFACE_NORMALIZATION);
    expect(fill[0]).toBeCloseTo(0.5 / 127.5, 6);
    occludeInto(out, crop.length, crop, g, 8, fill); // row 1, column 1: x, y ∈ [14, 42)
    expect(out[0]).toBe(9); // item 0 untouched
    const at = (c: number, x: number, y: number) => out[crop.length + c * 12544 + y * 112 + x]!;
    for (const c of [0, 1, 2]) {
      expect(at(c, 14, 14)).toBeCloseTo(fill[c]!, 6);
      expect(at(c, 41, 41)).toBeCloseTo(fill[c]!, 6);
      expect(at(c, 13, 20)).toBe(0.5);
      expect(at(c, 42, 20)).toBe(0.5);
      expect(at(c, 20, 42)).toBe(0.5);
    }
  });
  it('maps per-position drops to pixels by averaging the patches that cover each pixel', () => {
    const g = occlusionGrid();
    const drops = new Float32Array(49);
    drops[0] = 0.4; // top-left patch covers [0, 28)²; its neighbours start at 14
    const map = sensitivityMap(drops, g);
    expect(map[0]).toBeCloseTo(0.4); // only patch 0 covers (0, 0)
    expect(map[20 * 112 + 20]).toBeCloseTo(0.1); // four patches cover (20, 20)
    expect(map[50 * 112 + 50]).toBe(0);
    expect(() => sensitivityMap(new Float32Array(3), g)).toThrow(RangeError);
  });
});

describe('heatmap colours', () => {
  it('red for drops, blue for rises, transparent for no change, opacity by magnitude', async () => {
    const { heatmapRgba, maxAbs } = await import('./occlusion');
    const map = Float32Array.of(0.2, -0.1, 0, 0.4);
    expect(maxAbs(map)).toBeCloseTo(0.4);
    const px = heatmapRgba(map, maxAbs(map));
    expect(px[0]).toBeGreaterThan(px[2]!); // red
    expect(px[3]).toBe(128);
    expect(px[6]).toBeGreaterThan(px[4]!); // blue
    expect(px[7]).toBe(64);
    expect(px[11]).toBe(0);
    expect(px[15]).toBe(255);
  });
});
