/**
 * Where to look for faces in a photo, and which face to screen: the geometry of the face search, framework-free.
 *
 * BlazeFace (short range) sees every image it is given at 128×128: it finds a frontal face reliably when the face
 * box is ≥ 15 % of the image's longer side and up to the whole image (measured on the fixture face: score ≥ 0.86
 * from 15 % to 90 %, 0.75 at 12 % and at 100 %, nothing at ≤ 10 %). So the search looks at the photo through
 * *views*, each a similarity-transformed, downscaled region drawn into a small canvas:
 *
 * 1. the whole photo (longest side ≤ 1024 px): faces ≥ ~12 % of the longer side;
 * 2. only when that finds no confident face: the whole photo shrunk into the middle of a larger frame (faces
 *    that fill or overflow the photo), and overlapping tiles of 30 % of the longer side every 15 % (faces of
 *    4–15 %: a 4 % face is 13 % of its tile, and every face up to 15 % lies whole inside one tile);
 * 3. only when still nothing is found: steps 1–2 with the photo turned 90°, 270° and 180° (pixels stored sideways
 *    without an EXIF orientation);
 * 4. each candidate again, in views centred on it, de-rotated by its roll, its box filling 1/1.5 and 1/2 of the
 *    view, each view also mirrored (BlazeFace's keypoints are most accurate upright and at that size; it
 *    under-reads large rolls of small faces); the mean of those readings places the keypoints. A candidate not
 *    found again (SEARCH.refineMinReadings) is dropped, as not a face, except a confident one from the first look
 *    at the whole photo (a blurred face can be lost in the closer views).
 *
 * The views are drawn and the detector run by src/screening/find-faces.ts; this module is only their geometry.
 *
 * Coordinates: views map photo **edge** coordinates (pixel (i, j) covers [i, i+1) × [j, j+1)) to view edge
 * coordinates, as canvas drawing does; keypoints are in **pixel-centre** coordinates (pixel (i, j) centred at
 * (i, j)), as alignment reads them; boxes are in edge coordinates.
 */
import { applySimilarity, invertSimilarity, type Matrix2x3 } from './align';
import type { Point, Size } from './image';

/** A face box in pixels with edge coordinates: [x, x + width) × [y, y + height). */
export interface FaceBox {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/**
 * One face found by the detector, in one image's coordinates: the box (edge coordinates) and BlazeFace's six
 * keypoints (pixel-centre coordinates): 0 subject's right eye (image left), 1 left eye, 2 nose tip,
 * 3 mouth centre, 4 right ear tragion, 5 left ear tragion.
 */
export interface DetectedFace {
  readonly box: FaceBox;
  readonly keypoints: readonly Point[];
  readonly score: number;
}

/**
 * BlazeFace scores an unobstructed frontal face above 0.85 (0.92 on the fixture face); the spurious boxes seen on
 * blurred photos scored ≈ 0.54. A face at or above this score is "confident": it ends the search early and always
 * outranks a less confident one.
 */
export const CONFIDENT_SCORE = 0.75;

/** A clockwise turn of the stored pixels that makes the photo upright. */
export type QuarterTurn = 0 | 90 | 180 | 270;

/** A view: photo edge coordinates → view edge coordinates, and the view's size in pixels. */
export interface FaceView {
  readonly matrix: Matrix2x3;
  readonly width: number;
  readonly height: number;
}

export const SEARCH = Object.freeze({
  /** Longest side of the whole-photo view. */
  overviewSide: 1024,
  /** The whole photo at this fraction of the view, centred on grey, for faces that fill or overflow the photo. */
  zoomOut: 0.6,
  /** Tile side and step, as fractions of the photo's longer side. */
  tileFraction: 0.3,
  strideFraction: 0.15,
  /** Side of a tile view and of a candidate's own view, in pixels (BlazeFace then halves it to 128). */
  viewSide: 256,
  /** A candidate is looked at again in views this many face boxes wide, each also mirrored. */
  refineBoxes: [1.5, 2] as readonly number[],
  /** Of those 2 × 2 views, a face must be found again in this many, mirrored views among them. */
  refineMinReadings: 4,
  /** Boxes overlapping more than this (intersection over union) are the same face. */
  sameFaceIou: 0.3,
  /** The refinement is repeated while the face's remaining roll in its own view exceeds this (degrees). */
  refineRollDeg: 8,
  refinePasses: 3,
});

/**
 * The view that rotates the photo clockwise by `rotationDeg` about `centre` (edge coordinates), scales it by
 * `scale` and puts `centre` in the middle of a `width`×`height` view.
 */
export function viewAround(centre: Point, rotationDeg: number, scale: number, width: number, height: number): FaceView {
  const r = (rotationDeg * Math.PI) / 180;
  const a = scale * Math.cos(r);
  const b = scale * Math.sin(r);
  // q = s·R·(p − c) + (w/2, h/2), R = [cos −sin; sin cos] (clockwise on screen, y down)
  return {
    matrix: [a, -b, width / 2 - (a * centre.x - b * centre.y), b, a, height / 2 - (b * centre.x + a * centre.y)],
    width,
    height,
  };
}

const turnedSize = (photo: Size, turn: QuarterTurn): Size => (turn === 90 || turn === 270 ? { width: photo.height, height: photo.width } : photo);

/** The whole photo, turned, with its longer side at most `maxSide` (never enlarged) and shrunk by `zoom` inside the view. */
export function wholePhotoView(photo: Size, turn: QuarterTurn = 0, zoom = 1, maxSide: number = SEARCH.overviewSide): FaceView {
  const upright = turnedSize(photo, turn);
  const fit = Math.min(1, maxSide / Math.max(upright.width, upright.height));
  const width = Math.max(1, Math.round(upright.width * fit));
  const height = Math.max(1, Math.round(upright.height * fit));
  return viewAround({ x: photo.width / 2, y: photo.height / 2 }, turn, fit * zoom, width, height);
}

/**
 * Overlapping square tiles covering the photo (turned): side `tileFraction` × the longer side (at most the
 * shorter side), one every `strideFraction` × the longer side, the last flush with the far edge.
 */
export function tileViews(photo: Size, turn: QuarterTurn = 0, { tileFraction, strideFraction, viewSide } = SEARCH): FaceView[] {
  const upright = turnedSize(photo, turn);
  const longer = Math.max(upright.width, upright.height);
  const side = Math.min(tileFraction * longer, upright.width, upright.height);
  const stride = strideFraction * longer;
  const starts = (length: number) => {
    const out: number[] = [];
    for (let s = 0; s < length - side - 1e-6; s += stride) out.push(s);
    out.push(length - side);
    return out;
  };
  // Tile centres in upright coordinates, mapped back into the stored photo for viewAround.
  const toStored = invertSimilarity(wholePhotoView(photo, turn, 1, Infinity).matrix);
  const views: FaceView[] = [];
  for (const y of starts(upright.height)) {
    for (const x of starts(upright.width)) {
      views.push(viewAround(applySimilarity(toStored, { x: x + side / 2, y: y + side / 2 }), turn, viewSide / side, viewSide, viewSide));
    }
  }
  return views;
}

/** A face found in a view, in the photo's coordinates. */
export function faceInPhoto(face: DetectedFace, view: FaceView): DetectedFace {
  const inv = invertSimilarity(view.matrix);
  const scale = Math.hypot(view.matrix[0], view.matrix[3]);
  const centre = applySimilarity(inv, { x: face.box.x + face.box.width / 2, y: face.box.y + face.box.height / 2 });
  const width = face.box.width / scale;
  const height = face.box.height / scale;
  return {
    score: face.score,
    // BlazeFace's boxes are squares in the view: kept square and axis-aligned in the photo (their size is the face's).
    box: { x: centre.x - width / 2, y: centre.y - height / 2, width, height },
    keypoints: face.keypoints.map((k) => {
      const p = applySimilarity(inv, { x: k.x + 0.5, y: k.y + 0.5 });
      return { x: p.x - 0.5, y: p.y - 0.5 };
    }),
  };
}

/**
 * Roll of a face in degrees, positive clockwise on screen: the tilt of the eye line (subject's right eye → left
 * eye). BlazeFace labels an upside-down face's keypoints as if it were upright (the "right eye" on the image left,
 * the mouth above the eyes): such a reading is mirror-handed (the mouth lies on the wrong side of the eye line), and
 * then the roll is read from the direction eyes → mouth instead, which no labelling can turn over.
 */
export function eyeLineRoll(keypoints: readonly Point[]): number {
  const [r, l, , mouth] = keypoints as [Point, Point, Point, Point];
  const ex = l.x - r.x;
  const ey = l.y - r.y;
  const dx = mouth.x - (r.x + l.x) / 2;
  const dy = mouth.y - (r.y + l.y) / 2;
  const degrees = (a: number) => (a * 180) / Math.PI;
  if (ex * dy - ey * dx > 0) return degrees(Math.atan2(ey, ex));
  // Upright, eyes → mouth points down (90°): the roll is how far it turned from there.
  const roll = degrees(Math.atan2(dy, dx)) - 90;
  return roll <= -180 ? roll + 360 : roll;
}

/** A view of one candidate: centred on its box, de-rotated by its roll, the box filling 1 / `boxes` of it. */
export function candidateView(face: DetectedFace, boxes: number, viewSide: number = SEARCH.viewSide): FaceView {
  const centre = { x: face.box.x + face.box.width / 2, y: face.box.y + face.box.height / 2 };
  return viewAround(centre, -eyeLineRoll(face.keypoints), viewSide / (boxes * Math.max(face.box.width, face.box.height)), viewSide, viewSide);
}

/** The same view, mirrored left ↔ right. */
export function mirroredView(view: FaceView): FaceView {
  const m = view.matrix;
  return { ...view, matrix: [-m[0], -m[1], view.width - m[2], m[3], m[4], m[5]] };
}

/** BlazeFace keypoint order with the subject's sides exchanged: what a mirrored face's keypoints mean. */
const MIRRORED_KEYPOINTS = [1, 0, 2, 3, 5, 4];

/** A face found in a mirrored view, mapped to the photo ({@link faceInPhoto}), with its keypoints back in anatomical order. */
export function unmirrorKeypoints(face: DetectedFace): DetectedFace {
  return { ...face, keypoints: face.keypoints.map((k, i) => face.keypoints[MIRRORED_KEYPOINTS[i] ?? i] ?? k) };
}

/**
 * Several readings of one face (views at other scales and mirrored, all mapped to the photo) as one: the mean
 * box, keypoints and score. BlazeFace's keypoint errors differ between such views, so the mean is
 * closer to the truth than any one of them.
 */
export function meanFace(readings: readonly DetectedFace[]): DetectedFace {
  if (readings.length === 0) throw new RangeError('no readings to average');
  const n = readings.length;
  const mean = (f: (r: DetectedFace) => number) => readings.reduce((a, r) => a + f(r), 0) / n;
  return {
    score: mean((r) => r.score),
    box: { x: mean((r) => r.box.x), y: mean((r) => r.box.y), width: mean((r) => r.box.width), height: mean((r) => r.box.height) },
    keypoints: readings[0]!.keypoints.map((_, i) => ({ x: mean((r) => r.keypoints[i]!.x), y: mean((r) => r.keypoints[i]!.y) })),
  };
}

/** Intersection over union of two boxes. */
export function boxIou(a: FaceBox, b: FaceBox): number {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  return inter / (a.width * a.height + b.width * b.height - inter);
}

/** One face per place: of boxes overlapping more than `threshold`, the most confident stays. */
export function suppressOverlaps(faces: readonly DetectedFace[], threshold: number = SEARCH.sameFaceIou): DetectedFace[] {
  const kept: DetectedFace[] = [];
  for (const f of [...faces].sort((a, b) => b.score - a.score)) if (kept.every((k) => boxIou(k.box, f.box) <= threshold)) kept.push(f);
  return kept;
}

/** The detection in a candidate's own view that is that candidate: the most confident one covering its centre. */
export function sameFaceInView(found: readonly DetectedFace[], view: FaceView): DetectedFace | undefined {
  const cx = view.width / 2;
  const cy = view.height / 2;
  return [...found]
    .filter((f) => Math.abs(f.box.x + f.box.width / 2 - cx) < f.box.width / 2 && Math.abs(f.box.y + f.box.height / 2 - cy) < f.box.height / 2)
    .sort((a, b) => b.score - a.score)[0];
}

/**
 * The order in which faces are offered, first = screened unless the clinician taps another: confident faces
 * before the rest, each group largest first. A low-confidence box never outranks a confident face, however large.
 */
export function rankFaces(faces: readonly DetectedFace[]): DetectedFace[] {
  const confident = (f: DetectedFace) => (f.score >= CONFIDENT_SCORE ? 1 : 0);
  return [...faces].sort((a, b) => confident(b) - confident(a) || b.box.width * b.box.height - a.box.width * a.box.height);
}

/**
 * The quarter turn that makes a face of this roll upright: a face lying on its side (|roll| > 45°) is taken for a
 * photo stored sideways or upside down; within ±45° the face is tilted, and alignment levels it.
 */
export function turnForRoll(rollDeg: number): QuarterTurn {
  const quarters = ((Math.round(-rollDeg / 90) % 4) + 4) % 4;
  return (quarters * 90) as QuarterTurn;
}

/** The photo after a quarter turn: its size and the map of its coordinates. */
export function turnPhoto(photo: Size, turn: QuarterTurn): FaceView {
  return wholePhotoView(photo, turn, 1, Infinity);
}

/** A face in the stored photo, in the coordinates of the photo turned by `turn`. */
export function turnFace(face: DetectedFace, photo: Size, turn: QuarterTurn): DetectedFace {
  return turn === 0 ? face : faceInPhotoInverse(face, turnPhoto(photo, turn));
}

/** The inverse of {@link faceInPhoto}: a face in the photo, in a view's coordinates. */
function faceInPhotoInverse(face: DetectedFace, view: FaceView): DetectedFace {
  return faceInPhoto(face, { matrix: invertSimilarity(view.matrix), width: 0, height: 0 });
}
