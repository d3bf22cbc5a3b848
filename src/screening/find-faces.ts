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
import { invertSimilarity, type Matrix2x3 } from '../pipeline/align';
import type { FaceFinder } from './face-finder';

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
 * Draws views of the photo into canvases of the views' sizes (reused between views of the same size). A view that
 * shows the photo no larger than the whole-photo view does is drawn from that view rather than from the full
 * photo: on a 16 MP photo that is ~20× fewer pixels to resample, and the whole-photo view already has the detail.
 */
class ViewPainter {
  private readonly canvases = new Map<string, OffscreenCanvas>();
  private overview: { canvas: OffscreenCanvas; view: FaceView; scale: number } | null = null;
  constructor(private readonly source: ImageBitmap) {}

  paint(view: FaceView): OffscreenCanvas {
    if (view === this.overview?.view) return this.overview.canvas;
    const key = `${view.width}x${view.height}`;
    let canvas = this.canvases.get(key);
    if (!canvas) this.canvases.set(key, (canvas = new OffscreenCanvas(view.width, view.height)));
    const scale = Math.hypot(view.matrix[0], view.matrix[3]);
    if (this.overview && scale <= this.overview.scale) {
      // photo → view = (overview → view) ∘ (photo → overview)
      draw(canvas, this.overview.canvas, compose(view.matrix, invertSimilarity(this.overview.view.matrix)));
    } else {
      draw(canvas, this.source, view.matrix);
    }
    return canvas;
  }

  /** Keeps this view's pixels (the whole photo, upright) as the source of smaller views. */
  keepAsOverview(view: FaceView): void {
    const canvas = new OffscreenCanvas(view.width, view.height);
    draw(canvas, this.source, view.matrix);
    this.overview = { canvas, view, scale: Math.hypot(view.matrix[0], view.matrix[3]) };
  }
}

function draw(canvas: OffscreenCanvas, source: CanvasImageSource, m: Matrix2x3): void {
  const ctx = canvas.getContext('2d')!;
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  // Mid-grey outside the photo: BlazeFace sees an ordinary background, not a black frame.
  ctx.fillStyle = '#808080';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.setTransform(m[0], m[3], m[1], m[4], m[2], m[5]);
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(source, 0, 0);
  ctx.setTransform(1, 0, 0, 1, 0, 0);
}

/** a ∘ b: apply b, then a. */
function compose(a: Matrix2x3, b: Matrix2x3): Matrix2x3 {
  return [a[0] * b[0] + a[1] * b[3], a[0] * b[1] + a[1] * b[4], a[0] * b[2] + a[1] * b[5] + a[2], a[3] * b[0] + a[4] * b[3], a[3] * b[1] + a[4] * b[4], a[3] * b[2] + a[4] * b[5] + a[5]];
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
    for (const turn of [90, 270, 180] as const) stages.push(['turned', () => [wholePhotoView(photo, turn), wholePhotoView(photo, turn, SEARCH.zoomOut), ...tileViews(photo, turn)]]);
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
