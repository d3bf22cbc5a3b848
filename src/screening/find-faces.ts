// The face search over a decoded photo: draws the views that src/pipeline/face-search.ts lays out, runs the face
// finder on each, and maps what it finds back to the photo. See that module for the passes and why.
import {
  CONFIDENT_SCORE,
  SEARCH,
  candidateView,
  eyeLineRoll,
  faceInPhoto,
  meanFace,
  mirroredView,
  unmirrorKeypoints,
  rankFaces,
  sameFaceInView,
  suppressOverlaps,
  tileViews,
  turnForRoll,
  wholePhotoView,
  type DetectedFace,
  type FaceView,
  type QuarterTurn,
} from '../pipeline/face-search';
import { invertSimilarity, planWarp, reducedRegion, warpFromReduced, warpWithPlan, type Matrix2x3, type WarpPlan } from '../pipeline/align';
import type { RgbaImage } from '../pipeline/image';
import type { FaceFinder } from './face-finder';
import { readPixels } from './pixels';

export interface FaceSearchOptions {
  /** Re-detect each candidate in its own upright view, align from there, and drop candidates not found again (default on). */
  refine?: boolean;
  /** Search tiles, the zoomed-out photo and the quarter turns when the whole photo shows no confident face (default on). */
  extraPasses?: boolean;
}

export interface FaceSearch {
  /** Faces in stored-photo coordinates, in the order they are offered ({@link rankFaces}). */
  faces: DetectedFace[];
  /** The clockwise quarter turn that makes the first face upright (0 when it already is). */
  turn: QuarterTurn;
  /** Which passes ran (for the benchmark and the logs): views looked at and detector calls. */
  passes: { whole: number; zoomOut: number; tiles: number; turned: number; refine: number };
  detectMs: number;
}

/**
 * Renders views of the photo for the detector, with the app's own resampling (src/pipeline/align.ts warp plans)
 * rather than the canvas's, whose filtering differs between Chromium and WebKit enough to move BlazeFace's keypoints
 * and so the crop: the same photo gives the same faces, crop and probabilities on every engine. A view that shows
 * the photo no larger than the whole-photo view does is rendered from that view (already reduced) rather than from
 * the full photo. Outside the photo a view is mid-grey: BlazeFace sees an ordinary background, not a black frame.
 */
class ViewPainter {
  private readonly canvases = new Map<string, OffscreenCanvas>();
  private overview: { view: FaceView; image: RgbaImage; scale: number } | null = null;
  constructor(private readonly source: ImageBitmap) {}

  render(view: FaceView): RgbaImage {
    if (view === this.overview?.view) return this.overview.image;
    const scale = Math.hypot(view.matrix[0], view.matrix[3]);
    if (this.overview && scale <= this.overview.scale) {
      // photo → view = (overview → view) ∘ (photo → overview), in pixel-centre coordinates
      const plan = planWarp(centred(compose(view.matrix, invertSimilarity(this.overview.view.matrix))), view.width, view.height);
      return onGrey(warpWithPlan(plan, this.overview.image));
    }
    return onGrey(warpPhoto(this.source, planWarp(centred(view.matrix), view.width, view.height)));
  }

  paint(view: FaceView): OffscreenCanvas {
    const image = this.render(view);
    const key = `${view.width}x${view.height}`;
    let canvas = this.canvases.get(key);
    if (!canvas) this.canvases.set(key, (canvas = new OffscreenCanvas(view.width, view.height)));
    canvas.getContext('2d')!.putImageData(new ImageData(image.data as Uint8ClampedArray<ArrayBuffer>, image.width, image.height), 0, 0);
    return canvas;
  }

  /** Renders this view (the whole photo) once and keeps it as the source of smaller views. */
  keepAsOverview(view: FaceView): void {
    this.overview = null;
    this.overview = { view, image: this.render(view), scale: Math.hypot(view.matrix[0], view.matrix[3]) };
  }
}

/** An edge-coordinate map (as views are) as a pixel-centre one (as warps are): p ↦ M(p + ½) − ½. */
function centred(m: Matrix2x3): Matrix2x3 {
  return [m[0], m[1], m[2] + 0.5 * (m[0] + m[1]) - 0.5, m[3], m[4], m[5] + 0.5 * (m[3] + m[4]) - 0.5];
}

/** Composites an image with transparent parts (outside the photo) over mid-grey. */
function onGrey(image: RgbaImage): RgbaImage {
  const d = image.data;
  for (let i = 0; i < d.length; i += 4) {
    const uncovered = 255 - d[i + 3]!;
    if (uncovered === 0) continue;
    const grey = (128 * uncovered) / 255;
    d[i] = d[i]! + grey;
    d[i + 1] = d[i + 1]! + grey;
    d[i + 2] = d[i + 2]! + grey;
    d[i + 3] = 255;
  }
  return image;
}

/** Pixels read per piece of a large photo (16 MB of RGBA): a 16 MP photo is reduced in strips, never held whole. */
const STRIP_PIXELS = 4 << 20;

/** The warp of a plan over the photo's pixels, read from the bitmap exactly (1:1 copies, no resampling). */
function warpPhoto(bitmap: ImageBitmap, plan: WarpPlan): RgbaImage {
  const k = plan.prefilterFactor;
  const x0 = Math.max(0, plan.source.x0);
  const y0 = Math.max(0, plan.source.y0);
  const x1 = Math.min(bitmap.width, plan.source.x1);
  const y1 = Math.min(bitmap.height, plan.source.y1);
  if (x1 <= x0 || y1 <= y0) return { width: plan.width, height: plan.height, data: new Uint8ClampedArray(plan.width * plan.height * 4) };
  if (k === 1) return warpWithPlan(plan, readPixels(bitmap, x0, y0, x1 - x0, y1 - y0), { x: x0, y: y0 });
  // Reduce strip by strip (each a whole number of k-rows) into one reduced image, then warp from it.
  const region = reducedRegion(plan);
  const rx0 = Math.max(0, region.x0);
  const ry0 = Math.max(0, region.y0);
  const rx1 = Math.min(Math.floor(bitmap.width / k), region.x1);
  const ry1 = Math.min(Math.floor(bitmap.height / k), region.y1);
  const rw = Math.max(0, rx1 - rx0);
  const reduced = { width: rw, height: Math.max(0, ry1 - ry0), data: new Float64Array(rw * Math.max(0, ry1 - ry0) * 4) };
  const stripRows = Math.max(1, Math.floor(STRIP_PIXELS / (rw * k * k))); // reduced rows per strip
  const strips = new StripReader(bitmap, rx0 * k, rw * k, stripRows * k);
  for (let ry = ry0; ry < ry1; ry += stripRows) {
    const rows = Math.min(stripRows, ry1 - ry);
    // The same sums as boxDownsample (exact integers, then one division), row by row for the cache.
    addBlocks(strips.read(ry * k, rows * k), k, rows, rw, reduced.data, (ry - ry0) * rw * 4);
  }
  return warpFromReduced(plan, reduced, { x: rx0, y: ry0 });
}

/** Reads horizontal strips of a bitmap through one reused canvas (a canvas per strip costs more than the copy). */
class StripReader {
  private readonly ctx: OffscreenCanvasRenderingContext2D;
  constructor(
    private readonly bitmap: ImageBitmap,
    private readonly x: number,
    private readonly width: number,
    maxRows: number,
  ) {
    this.ctx = new OffscreenCanvas(width, maxRows).getContext('2d', { willReadFrequently: true })!;
  }
  read(y: number, rows: number): Uint8ClampedArray {
    this.ctx.clearRect(0, 0, this.width, rows);
    this.ctx.drawImage(this.bitmap, this.x, y, this.width, rows, 0, 0, this.width, rows);
    return this.ctx.getImageData(0, 0, this.width, rows, { colorSpace: 'srgb' }).data;
  }
}

/** k×k block means of `rows` reduced rows of a strip `width·k` pixels wide, written from `offset` on. */
function addBlocks(pixels: Uint8ClampedArray, k: number, rows: number, width: number, out: Float64Array, offset: number): void {
  // A plain byte view: V8 reads it faster than the clamped array getImageData returns.
  const strip = new Uint8Array(pixels.buffer, pixels.byteOffset, pixels.length);
  const stride = width * k * 4;
  const acc = new Uint32Array(width * 4);
  const area = k * k;
  for (let j = 0; j < rows; j++) {
    acc.fill(0);
    for (let yy = j * k; yy < (j + 1) * k; yy++) {
      let s = yy * stride;
      for (let o = 0; o < acc.length; o += 4) {
        let r = 0;
        let g = 0;
        let b = 0;
        let a = 0;
        for (let xx = 0; xx < k; xx++, s += 4) {
          r += strip[s]!;
          g += strip[s + 1]!;
          b += strip[s + 2]!;
          a += strip[s + 3]!;
        }
        acc[o] = acc[o]! + r;
        acc[o + 1] = acc[o + 1]! + g;
        acc[o + 2] = acc[o + 2]! + b;
        acc[o + 3] = acc[o + 3]! + a;
      }
    }
    const base = offset + j * width * 4;
    for (let i = 0; i < acc.length; i++) out[base + i] = acc[i]! / area;
  }
}

/** a ∘ b: apply b, then a. */
function compose(a: Matrix2x3, b: Matrix2x3): Matrix2x3 {
  return [
    a[0] * b[0] + a[1] * b[3],
    a[0] * b[1] + a[1] * b[4],
    a[0] * b[2] + a[1] * b[5] + a[2],
    a[3] * b[0] + a[4] * b[3],
    a[3] * b[1] + a[4] * b[4],
    a[3] * b[2] + a[4] * b[5] + a[5],
  ];
}

export async function searchFaces(bitmap: ImageBitmap, finder: FaceFinder, options: FaceSearchOptions = {}): Promise<FaceSearch> {
  const refine = options.refine ?? true;
  const extra = options.extraPasses ?? true;
  const photo = { width: bitmap.width, height: bitmap.height };
  const painter = new ViewPainter(bitmap);
  const passes = { whole: 0, zoomOut: 0, tiles: 0, turned: 0, refine: 0 };
  const t0 = performance.now();
  const look = async (views: FaceView[], counter: keyof typeof passes) => {
    const out: DetectedFace[] = [];
    for (const view of views) {
      passes[counter]++;
      for (const f of await finder.detect(painter.paint(view))) out.push(faceInPhoto(f, view));
    }
    return out;
  };
  const confident = (faces: DetectedFace[]) => faces.some((f) => f.score >= CONFIDENT_SCORE);

  /** A candidate again in its own upright view, until level; undefined when it is not found there (not a face). */
  const verify = async (candidate: DetectedFace): Promise<DetectedFace | undefined> => {
    let face = candidate;
    for (let pass = 0; pass < SEARCH.refinePasses; pass++) {
      const readings: DetectedFace[] = [];
      const seen = { upright: false, mirrored: false };
      let residualRoll = 0;
      for (const boxes of SEARCH.refineBoxes) {
        for (const mirrored of [false, true]) {
          const upright = candidateView(face, boxes);
          const view = mirrored ? mirroredView(upright) : upright;
          passes.refine++;
          const again = sameFaceInView(await finder.detect(painter.paint(view)), view);
          if (!again) continue;
          if (!mirrored && !seen.upright) residualRoll = eyeLineRoll(again.keypoints);
          seen[mirrored ? 'mirrored' : 'upright'] = true;
          const inPhoto = faceInPhoto(again, view);
          readings.push(mirrored ? unmirrorKeypoints(inPhoto) : inPhoto);
        }
      }
      // A real face, being nearly symmetric, is found again as it is and mirrored, at both scales; a spurious box is
      // not (the ones seen were found in one or two of the four views). On a later pass, a miss keeps the last good reading.
      if (!seen.upright || !seen.mirrored || readings.length < SEARCH.refineMinReadings) return pass === 0 ? undefined : face;
      // The closer views place the keypoints; the confidence stays the best the face was seen with (a blurred face
      // scores lower in them than in the whole photo, and must not lose its rank for that).
      const merged = meanFace(readings);
      face = { ...merged, score: Math.max(candidate.score, merged.score) };
      if (Math.abs(residualRoll) <= SEARCH.refineRollDeg) break;
    }
    return face;
  };

  // Each stage looks further, until a confident face is found. A turned stage contributes only confident
  // detections: a face stored sideways is found at full confidence once turned upright, while what BlazeFace
  // half-sees in a turned photo without a face (a cat, a cup: ≈ 0.5) or in a turned upright face is not a face.
  const overview = wholePhotoView(photo);
  painter.keepAsOverview(overview);
  const stages: [keyof typeof passes, () => FaceView[]][] = [['whole', () => [overview]]];
  if (extra) {
    stages.push(['zoomOut', () => [wholePhotoView(photo, 0, SEARCH.zoomOut)]], ['tiles', () => tileViews(photo)]);
    for (const turn of [90, 270, 180] as const)
      stages.push(['turned', () => [wholePhotoView(photo, turn), wholePhotoView(photo, turn, SEARCH.zoomOut), ...tileViews(photo, turn)]]);
  }
  const candidates: DetectedFace[] = [];
  let faces: DetectedFace[] = [];
  for (const [counter, views] of stages) {
    const found = (await look(views(), counter)).filter((f) => counter !== 'turned' || f.score >= CONFIDENT_SCORE);
    const fresh = suppressOverlaps([...candidates, ...found]).filter((f) => !candidates.includes(f));
    candidates.push(...fresh);
    for (const f of fresh) {
      // A confident face in the first look at the whole photo is kept even where BlazeFace loses it in the closer
      // views (a blurred face does): it is refined when it can be. Every other candidate must be found again.
      const kept = counter === 'whole' && f.score >= CONFIDENT_SCORE;
      const face = refine ? ((await verify(f)) ?? (kept ? f : undefined)) : f;
      if (face) faces.push(face);
    }
    faces = suppressOverlaps(faces);
    if (confident(faces)) break;
  }
  faces = rankFaces(faces);
  return { faces, turn: faces[0] ? turnForRoll(eyeLineRoll(faces[0].keypoints)) : 0, passes, detectMs: performance.now() - t0 };
}
