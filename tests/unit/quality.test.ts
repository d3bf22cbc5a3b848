import { describe, expect, it } from 'vitest';
import type { Point, RgbaImage } from '../../src/pipeline/image';
import {
  assessQuality,
  checkBrightness,
  checkClipping,
  checkCutOff,
  checkFaceCount,
  checkFaceSize,
  checkOcclusion,
  checkRoll,
  checkSharpness,
  checkYaw,
  exposure,
  HEAD_MODEL,
  laplacianVariance,
  outsideFraction,
  QUALITY_LIMITS,
  rollDegrees,
  yawDegrees,
} from '../../src/pipeline/quality';
import { estimateSimilarity, ARCFACE_TEMPLATE_112_BLAZEFACE } from '../../src/pipeline/align';

/** A deterministic textured 112×112 "face": smooth shading plus fine pseudo-random detail (skin, lashes, edges). */
function texturedImage(size = 112, seed = 7): RgbaImage {
  const data = new Uint8ClampedArray(size * size * 4);
  let s = seed;
  const rand = () => ((s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const v = 130 + 40 * Math.sin(x / 9) * Math.cos(y / 11) + (rand() - 0.5) * 60 + ((x >> 3) + (y >> 3)) % 2 * 20;
      const i = (y * size + x) * 4;
      data[i] = v + 20;
      data[i + 1] = v;
      data[i + 2] = v - 15;
      data[i + 3] = 255;
    }
  }
  return { width: size, height: size, data };
}

/** Separable box blur of radius r, repeated (≈ Gaussian). */
function blur(img: RgbaImage, r: number, passes = 3): RgbaImage {
  let src = new Float32Array(img.data);
  const { width: w, height: h } = img;
  for (let p = 0; p < passes; p++) {
    for (const horizontal of [true, false]) {
      const dst = new Float32Array(src.length);
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          for (let c = 0; c < 4; c++) {
            let sum = 0;
            let n = 0;
            for (let k = -r; k <= r; k++) {
              const xx = horizontal ? Math.min(w - 1, Math.max(0, x + k)) : x;
              const yy = horizontal ? y : Math.min(h - 1, Math.max(0, y + k));
              sum += src[(yy * w + xx) * 4 + c]!;
              n++;
            }
            dst[(y * w + x) * 4 + c] = sum / n;
          }
        }
      }
      src = dst;
    }
  }
  return { width: w, height: h, data: new Uint8ClampedArray(src) };
}

const scaleBrightness = (img: RgbaImage, f: number): RgbaImage => ({
  ...img,
  data: img.data.map((v, i) => (i % 4 === 3 ? v : v * f)),
});

/** BlazeFace-order keypoints (right eye, left eye, nose, mouth, right ear, left ear) of the head model turned by yaw°, rolled by roll°. */
function headKeypoints({ yaw = 0, roll = 0, iod = 60, cx = 300, cy = 300 } = {}): Point[] {
  const E = iod;
  const model: [number, number, number][] = [
    [-E / 2, 0, 0],
    [E / 2, 0, 0],
    [0, 0.6 * E, HEAD_MODEL.noseDepth * E],
    [0, 1.1 * E, 0.3 * E],
    [-HEAD_MODEL.earHalfWidth * E, 0.4 * E, -HEAD_MODEL.earDepth * E],
    [HEAD_MODEL.earHalfWidth * E, 0.4 * E, -HEAD_MODEL.earDepth * E],
  ];
  const a = (yaw * Math.PI) / 180;
  const r = (roll * Math.PI) / 180;
  return model.map(([x, y, z]) => {
    const xt = x * Math.cos(a) + z * Math.sin(a); // turn about the vertical axis (orthographic camera)
    return { x: cx + xt * Math.cos(r) - y * Math.sin(r), y: cy + xt * Math.sin(r) + y * Math.cos(r) };
  });
}

describe('sharpness (variance of the Laplacian)', () => {
  const sharp = texturedImage();
  it('a blurred copy scores lower than the sharp one, and fails the gate when blurred enough', () => {
    const lightly = blur(sharp, 1, 1);
    const heavily = blur(sharp, 2, 3);
    const [s0, s1, s2] = [sharp, lightly, heavily].map((i) => laplacianVariance(i));
    expect(s1).toBeLessThan(s0!);
    expect(s2).toBeLessThan(s1!);
    expect(checkSharpness(sharp).status).toBe('pass');
    expect(checkSharpness(heavily).status).toBe('fail');
  });
  it('judges focus, not light: a darkened copy is as sharp as the original', async () => {
    const { sharpness } = await import('../../src/pipeline/quality');
    const dark = scaleBrightness(sharp, 0.25);
    expect(laplacianVariance(dark)).toBeLessThan(laplacianVariance(sharp) / 10);
    expect(Math.abs(sharpness(dark) / sharpness(sharp) - 1)).toBeLessThan(0.1);
    expect(checkSharpness(dark).status).toBe('pass');
  });
  it('a flat image has zero Laplacian variance', () => {
    const flat: RgbaImage = { width: 20, height: 20, data: new Uint8ClampedArray(1600).fill(128) };
    expect(laplacianVariance(flat)).toBe(0);
  });
});

describe('exposure', () => {
  const img = texturedImage();
  it('the textured image is well exposed', () => {
    const e = exposure(img);
    expect(checkBrightness(e.meanLuma).status).toBe('pass');
    expect(checkClipping(e.clippedFraction).status).toBe('pass');
  });
  it('a darkened copy fails exposure as too dark', () => {
    const e = exposure(scaleBrightness(img, 0.2));
    const c = checkBrightness(e.meanLuma);
    expect(c.status).toBe('fail');
    expect(c.side).toBe('low');
  });
  it('a brightened copy is too bright and its highlights clip', () => {
    const e = exposure(scaleBrightness(img, 2.2));
    const c = checkBrightness(e.meanLuma);
    expect(c.status).toBe('fail');
    expect(c.side).toBe('high');
    expect(checkClipping(e.clippedFraction).status).toBe('fail');
  });
  it('boundaries: warn between the warn and fail limits', () => {
    const b = QUALITY_LIMITS.brightness;
    expect(checkBrightness((b.warnLow + b.failLow) / 2).status).toBe('warn');
    expect(checkBrightness((b.warnHigh + b.failHigh) / 2).status).toBe('warn');
    expect(checkClipping(0.1).status).toBe('warn');
  });
});

describe('pose', () => {
  it('a rotated copy reports the roll angle within 2°', () => {
    for (const roll of [-40, -12, 0, 7, 45]) expect(Math.abs(rollDegrees(headKeypoints({ roll })) - roll)).toBeLessThan(2);
    expect(checkRoll(headKeypoints({ roll: 7 })).status).toBe('pass');
    expect(checkRoll(headKeypoints({ roll: 20 })).status).toBe('warn');
    expect(checkRoll(headKeypoints({ roll: 45 })).status).toBe('fail');
  });
  it('a frontal face has ~0° yaw, also when rolled', () => {
    expect(Math.abs(yawDegrees(headKeypoints()))).toBeLessThan(0.5);
    expect(Math.abs(yawDegrees(headKeypoints({ roll: 30 })))).toBeLessThan(0.5);
    expect(checkYaw(headKeypoints()).status).toBe('pass');
  });
  it('keypoints of a turned face give a yaw beyond the limit, with its sign', () => {
    for (const yaw of [-40, 40]) {
      const k = headKeypoints({ yaw, roll: 10 });
      expect(Math.abs(yawDegrees(k) - yaw)).toBeLessThan(2);
      expect(checkYaw(k).status).toBe('fail');
    }
    expect(checkYaw(headKeypoints({ yaw: 20 })).status).toBe('warn');
  });
  it('yaw from the nose alone when the ears are missing', () => {
    expect(Math.abs(yawDegrees(headKeypoints({ yaw: 25 }).slice(0, 4)) - 25)).toBeLessThan(1);
  });
});

describe('face count, size, cut-off and occlusion hints', () => {
  it('several faces warn unless the clinician picked one', () => {
    expect(checkFaceCount(1, false).status).toBe('pass');
    expect(checkFaceCount(3, false).status).toBe('warn');
    expect(checkFaceCount(3, true).status).toBe('pass');
  });
  it('inter-ocular distance: small faces warn, tiny faces fail', () => {
    expect(checkFaceSize(headKeypoints({ iod: 80 })).status).toBe('pass');
    expect(checkFaceSize(headKeypoints({ iod: 30 })).status).toBe('warn');
    const tiny = checkFaceSize(headKeypoints({ iod: 12 }));
    expect(tiny.status).toBe('fail');
    expect(tiny.value).toBeCloseTo(12, 6);
  });
  it('the part of the face outside the photo is measured from the alignment transform', () => {
    const k = headKeypoints({ iod: 60, cx: 300, cy: 300 });
    const inside = estimateSimilarity(k.slice(0, 4), ARCFACE_TEMPLATE_112_BLAZEFACE).matrix;
    expect(outsideFraction(inside, { width: 600, height: 600 })).toBe(0);
    // The same face with the photo's edge through its nose.
    const cut = outsideFraction(inside, { width: 300, height: 600 });
    expect(cut).toBeGreaterThan(0.3);
    expect(checkCutOff(cut).status).toBe('fail');
  });
  it('a low detector score warns about occlusion but never fails', () => {
    expect(checkOcclusion(0.95).status).toBe('pass');
    expect(checkOcclusion(0.55).status).toBe('warn');
  });
  it('assessQuality reports the worst status', () => {
    const k = headKeypoints({ iod: 60 });
    const cropTransform = estimateSimilarity(k.slice(0, 4), ARCFACE_TEMPLATE_112_BLAZEFACE).matrix;
    const base = { faceCount: 1, pickedByUser: false, keypoints: k, detectionScore: 0.93, photo: { width: 600, height: 600 }, crop: texturedImage(), cropTransform };
    const good = assessQuality(base);
    expect(good.overall).toBe('pass');
    expect(good.checks.map((c) => c.id)).toEqual(['face-count', 'face-size', 'roll', 'yaw', 'sharpness', 'brightness', 'clipping', 'cut-off', 'occlusion']);
    expect(assessQuality({ ...base, faceCount: 2 }).overall).toBe('warn');
    expect(assessQuality({ ...base, crop: scaleBrightness(texturedImage(), 0.2) }).overall).toBe('fail');
  });
});
