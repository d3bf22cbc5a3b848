import { describe, expect, it } from 'vitest';
import type { Point, RgbaImage } from './image';
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
  blurSigma,
  FEATURELESS_BLUR_PX,
  laplacianVariance,
  outsideFraction,
  QUALITY_LIMITS,
  rollDegrees,
  yawDegrees,
} from './quality';
import { estimateSimilarity, ARCFACE_TEMPLATE_112_BLAZEFACE } from './align';

/** A deterministic textured 112×112 "face": smooth shading plus fine pseudo-random detail (skin, lashes, edges). */
function texturedImage(size = 112, seed = 7): RgbaImage {
  const data = new Uint8ClampedArray(size * size * 4);
  let s = seed;
  const rand = () => (s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const v = 130 + 40 * Math.sin(x / 9) * Math.cos(y / 11) + (rand() - 0.5) * 60 + (((x >> 3) + (y >> 3)) % 2) * 20;
      const i = (y * size + x) * 4;
      data[i] = v + 20;
      data[i + 1] = v;
      data[i + 2] = v - 15;
      data[i + 3] = 255;
    }
  }
  return { width: size, height: size, data };
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

/** Exact separable Gaussian blur of σ pixels (edges clamped), on all four channels. */
function gaussian(img: RgbaImage, sigma: number): RgbaImage {
  const radius = Math.ceil(4 * sigma);
  const w = Array.from({ length: 2 * radius + 1 }, (_, i) => Math.exp(-((i - radius) ** 2) / (2 * sigma * sigma)));
  const total = w.reduce((a, v) => a + v, 0);
  const { width, height } = img;
  const pass = (src: Float32Array, horizontal: boolean) => {
    const dst = new Float32Array(src.length);
    for (let y = 0; y < height; y++)
      for (let x = 0; x < width; x++)
        for (let c = 0; c < 4; c++) {
          let acc = 0;
          for (let k = -radius; k <= radius; k++) {
            const xx = horizontal ? Math.min(width - 1, Math.max(0, x + k)) : x;
            const yy = horizontal ? y : Math.min(height - 1, Math.max(0, y + k));
            acc += w[k + radius]! * src[(yy * width + xx) * 4 + c]!;
          }
          dst[(y * width + x) * 4 + c] = acc / total;
        }
    return dst;
  };
  return { width, height, data: new Uint8ClampedArray(pass(pass(new Float32Array(img.data), true), false)) };
}

/**
 * A grey texture with the power spectrum of natural images (∝ 1/f²): random plane waves, frequencies uniform over
 * the band up to Nyquist, amplitude ∝ 1/f.
 */
function naturalTexture(size = 112, seed = 11, waves = 1500): RgbaImage {
  let s = seed;
  const rand = () => (s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const g = new Float32Array(size * size);
  for (let n = 0; n < waves;) {
    const kx = (rand() * 2 - 1) * Math.PI;
    const ky = (rand() * 2 - 1) * Math.PI;
    const k = Math.hypot(kx, ky);
    if (k < 0.05 || k > Math.PI) continue;
    n++;
    const amp = 1.2 / k;
    const phase = rand() * 2 * Math.PI;
    for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) g[y * size + x] = g[y * size + x]! + amp * Math.cos(kx * x + ky * y + phase);
  }
  const data = new Uint8ClampedArray(size * size * 4);
  g.forEach((v, i) => data.set([128 + v, 118 + v, 108 + v, 255], i * 4));
  return { width: size, height: size, data };
}

describe('sharpness (blur at crop scale)', () => {
  const sharp = naturalTexture();
  const base = blurSigma(sharp);

  it('reads the blur added to a natural texture as √(σ₀² + σ²), within 0.25 px', () => {
    expect(base).toBeLessThan(0.4); // a synthetic texture has no optics: sharper than any photo
    for (const sigma of [1, 1.5, 2, 3]) expect(Math.abs(blurSigma(gaussian(sharp, sigma)) - Math.hypot(base, sigma))).toBeLessThan(0.25);
  });

  it('as sharp as a real photo (≈ 1 px of optics and resampling) passes; 1 px more blur warns, 2 px more fails', () => {
    const photoSharp = gaussian(sharp, 1);
    expect(checkSharpness(sharp).status).toBe('pass');
    expect(checkSharpness(photoSharp).status).toBe('pass');
    expect(checkSharpness(gaussian(photoSharp, 1)).status).toBe('warn');
    expect(checkSharpness(gaussian(photoSharp, 2)).status).toBe('fail');
  });

  it('judges focus, not light or contrast: darker and flatter copies read the same blur', () => {
    for (const f of [0.25, 0.5, 1.3]) expect(Math.abs(blurSigma(scaleBrightness(sharp, f)) - base)).toBeLessThan(0.1);
    expect(checkSharpness(scaleBrightness(sharp, 0.25)).status).toBe('pass');
  });

  it('a flat image has no detail to judge and fails', () => {
    const flat: RgbaImage = { width: 112, height: 112, data: new Uint8ClampedArray(112 * 112 * 4).fill(128) };
    expect(blurSigma(flat)).toBe(FEATURELESS_BLUR_PX);
    expect(checkSharpness(flat).status).toBe('fail');
    expect(laplacianVariance(new Float32Array(400).fill(3), 20, 20)).toBe(0);
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
    // Alignment levels a tilted face: roll is never a reason to refuse, only a hint past 30°.
    expect(checkRoll(headKeypoints({ roll: 7 })).status).toBe('pass');
    expect(checkRoll(headKeypoints({ roll: 25 })).status).toBe('pass');
    expect(checkRoll(headKeypoints({ roll: 40 })).status).toBe('warn');
    expect(checkRoll(headKeypoints({ roll: -44 })).status).toBe('warn');
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
    const base = {
      faceCount: 1,
      pickedByUser: false,
      keypoints: k,
      detectionScore: 0.93,
      photo: { width: 600, height: 600 },
      crop: texturedImage(),
      cropTransform,
    };
    const good = assessQuality(base);
    expect(good.overall).toBe('pass');
    expect(good.checks.map((c) => c.id)).toEqual(['face-count', 'face-size', 'roll', 'yaw', 'sharpness', 'brightness', 'clipping', 'cut-off', 'occlusion']);
    expect(assessQuality({ ...base, faceCount: 2 }).overall).toBe('warn');
    expect(assessQuality({ ...base, crop: scaleBrightness(texturedImage(), 0.2) }).overall).toBe('fail');
  });
});
