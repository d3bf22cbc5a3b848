// The face-stage sweep in the browser: makes each cell's photo from a fixture with its known transform, runs the
// screening pipeline's face stage on it (search, choice, alignment, quality) and measures it against the truth.
import { applySimilarity, invertSimilarity, type Matrix2x3 } from '../../../src/pipeline/align';
import { turnPhoto } from '../../../src/pipeline/face-search';
import type { Point } from '../../../src/pipeline/image';
import { interOcularDistance } from '../../../src/pipeline/quality';
import { ScreeningError } from '../../../src/screening/errors';
import type { FaceFinder } from '../../../src/screening/face-finder';
import { analysePhoto, decode, releasePhoto, type PhotoAnalysis } from '../../../src/screening/pipeline';
import type { FaceSearchOptions } from '../../../src/screening/find-faces';
import type { DecodedPhoto } from '../../../src/screening/photo';
import { FIXTURE_FACES, frameSize, landmarkErrors, type CellOutcome, type FaceCell } from '../face-cells';

/** The untransformed fixture through the same pipeline: its keypoints and where they land in its crop. */
interface Reference {
  keypoints: readonly Point[];
  inCrop: Point[];
  /** Crop pixels per fixture pixel. */
  cropScale: number;
}

const BACKGROUND = '#b8b2a7';

/** Canvas transform from a 2×3 matrix (edge coordinates). */
const setMatrix = (ctx: OffscreenCanvasRenderingContext2D, m: Matrix2x3) => ctx.setTransform(m[0], m[3], m[1], m[4], m[2], m[5]);

const edge = (p: Point) => ({ x: p.x + 0.5, y: p.y + 0.5 });
const centre = (p: Point) => ({ x: p.x - 0.5, y: p.y - 0.5 });
const compose = (a: Matrix2x3, b: Matrix2x3): Matrix2x3 => [
  a[0] * b[0] + a[1] * b[3],
  a[0] * b[1] + a[1] * b[4],
  a[0] * b[2] + a[1] * b[5] + a[2],
  a[3] * b[0] + a[4] * b[3],
  a[3] * b[1] + a[4] * b[4],
  a[3] * b[2] + a[4] * b[5] + a[5],
];

/** Fixture → upright frame: scale, roll about the face centre, face centre to `at` (edge coordinates). */
function placement(box: [number, number, number, number], scale: number, rollDeg: number, at: Point): Matrix2x3 {
  const r = (rollDeg * Math.PI) / 180;
  const a = scale * Math.cos(r);
  const b = scale * Math.sin(r);
  const cx = box[0] + box[2] / 2;
  const cy = box[1] + box[3] / 2;
  return [a, -b, at.x - (a * cx - b * cy), b, a, at.y - (b * cx + a * cy)];
}

export async function referenceFor(bitmap: ImageBitmap, finder: FaceFinder): Promise<Reference> {
  const copy = await createImageBitmap(bitmap);
  const a = await analysePhoto({ bitmap: copy, width: copy.width, height: copy.height, name: 'reference', type: 'image/png', bytes: 0 }, finder);
  releasePhoto(a.photo);
  const keypoints = a.faces[a.chosenFace]!.keypoints;
  return { keypoints, inCrop: keypoints.map((k) => applySimilarity(a.aligned.transform, k)), cropScale: a.aligned.scale };
}

/** The cell's photo as stored, and the map from fixture edge coordinates to the stored photo's edge coordinates. */
async function makePhoto(
  cell: FaceCell,
  sources: Map<string, ImageBitmap>,
  references: Map<string, Reference>,
): Promise<{ photo: DecodedPhoto; toStored: Matrix2x3 | null; faceBox: number }> {
  const source = sources.get(cell.source)!;
  const face = FIXTURE_FACES[cell.source];
  const { width, height } = cell.megapixels ? frameSize(cell.megapixels) : { width: source.width, height: source.height };
  const upright = new OffscreenCanvas(width, height);
  const ctx = upright.getContext('2d')!;
  ctx.fillStyle = BACKGROUND;
  ctx.fillRect(0, 0, width, height);
  let toUpright: Matrix2x3 | null = null;
  let faceBox = 0;
  if (!cell.megapixels) {
    ctx.drawImage(source, 0, 0);
    toUpright = [1, 0, 0, 0, 1, 0];
  } else if (!face) {
    // A no-face photo scaled to cover the frame.
    const s = Math.max(width / source.width, height / source.height);
    ctx.drawImage(source, (width - s * source.width) / 2, (height - s * source.height) / 2, s * source.width, s * source.height);
  } else {
    const scale = (cell.faceWidth! * width) / face.box[2];
    faceBox = cell.faceWidth! * width;
    const at = cell.faceWidth! >= 0.5 ? { x: width / 2, y: height / 2 } : { x: 0.42 * width, y: 0.46 * height };
    toUpright = placement(face.box, scale, cell.roll ?? 0, at);
    const filters: string[] = [];
    // σ in crop pixels → frame pixels: the frame shows the fixture `scale` times larger than the fixture itself.
    if (cell.blurCropPx) filters.push(`blur(${(cell.blurCropPx * scale) / references.get(cell.source)!.cropScale}px)`);
    if (cell.exposure) filters.push(`brightness(${cell.exposure})`);
    ctx.filter = filters.join(' ') || 'none';
    setMatrix(ctx, toUpright);
    ctx.drawImage(source, 0, 0);
    if (cell.second) {
      // The second photo's face and a margin of its own surroundings, beside the first face (not over it).
      const other = FIXTURE_FACES[cell.second.source]!;
      const side = 2 * cell.second.faceWidth * width;
      const at = { x: 0.8 * width, y: 0.5 * height };
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.save();
      ctx.beginPath();
      ctx.rect(at.x - side / 2, at.y - side / 2, side, side);
      ctx.clip();
      setMatrix(ctx, placement(other.box, (cell.second.faceWidth * width) / other.box[2], 0, at));
      ctx.drawImage(sources.get(cell.second.source)!, 0, 0);
      ctx.restore();
    }
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.filter = 'none';
  }
  // Stored turned: the stored pixels are the upright frame turned back, so that turning them clockwise by storedTurn is upright.
  let stored: OffscreenCanvas = upright;
  let uprightToStored: Matrix2x3 = [1, 0, 0, 0, 1, 0];
  const turn = cell.storedTurn ?? 0;
  if (turn) {
    const storedSize = turn === 180 ? { width, height } : { width: height, height: width };
    uprightToStored = invertSimilarity(turnPhoto(storedSize, turn).matrix);
    stored = new OffscreenCanvas(storedSize.width, storedSize.height);
    const sctx = stored.getContext('2d')!;
    setMatrix(sctx, uprightToStored);
    sctx.drawImage(upright, 0, 0);
  }
  const toStored = toUpright ? compose(uprightToStored, toUpright) : null;
  if (cell.jpegQuality) {
    const blob = await stored.convertToBlob({ type: 'image/jpeg', quality: cell.jpegQuality / 100 });
    return { photo: (await decode(Object.assign(blob, { name: `${cell.id}.jpg` }))).photo, toStored, faceBox };
  }
  const bitmap = stored.transferToImageBitmap();
  return { photo: { bitmap, width: bitmap.width, height: bitmap.height, name: cell.id, type: 'image/png', bytes: 0 }, toStored, faceBox };
}

/** A cell's photo as a camera would store it (JPEG, quality 92), for timing the whole screening from the file. */
export async function cellJpeg(cell: FaceCell, sources: Map<string, ImageBitmap>): Promise<Blob> {
  const { photo } = await makePhoto(cell, sources, new Map());
  const canvas = new OffscreenCanvas(photo.width, photo.height);
  canvas.getContext('2d')!.drawImage(photo.bitmap, 0, 0);
  releasePhoto(photo);
  return canvas.convertToBlob({ type: 'image/jpeg', quality: 0.92 });
}

export async function runFaceCell(
  cell: FaceCell,
  finder: FaceFinder,
  sources: Map<string, ImageBitmap>,
  references: Map<string, Reference>,
  search: FaceSearchOptions = {},
): Promise<CellOutcome> {
  const { photo, toStored, faceBox } = await makePhoto(cell, sources, references);
  const base = { id: cell.id, found: false, chosenRight: false, faces: 0, turn: 0, detectorCalls: 0, detectMs: 0 };
  let analysis: PhotoAnalysis;
  try {
    analysis = await analysePhoto(photo, finder, search);
  } catch (e) {
    if (e instanceof ScreeningError && e.code === 'no-face') return base;
    return { ...base, error: (e as Error).message };
  }
  releasePhoto(analysis.photo);
  const chosen = analysis.faces[analysis.chosenFace]!;
  const out: CellOutcome = {
    ...base,
    found: true,
    faces: analysis.faces.length,
    score: chosen.score,
    turn: analysis.turn,
    detectorCalls: Object.values(analysis.search).reduce((a, n) => a + n, 0),
    detectMs: analysis.timings.detectMs,
    eyesApartPx: interOcularDistance(chosen.keypoints),
    quality: analysis.quality.overall,
    checks: Object.fromEntries(analysis.quality.checks.map((c) => [c.id, c.status])),
  };
  const sharp = analysis.quality.checks.find((c) => c.id === 'sharpness');
  if (sharp) out.sharpness = { status: sharp.status, value: sharp.value };
  const reference = references.get(cell.source);
  if (toStored && reference) {
    // Stored photo → the pipeline's upright photo, by the turn it found.
    const storedSize = { width: photo.width, height: photo.height };
    const toAnalysed = compose(turnPhoto(storedSize, analysis.turn).matrix, toStored);
    const truth = reference.keypoints.map((k) => centre(applySimilarity(toAnalysed, edge(k))));
    const faceCentre = { x: (truth[0]!.x + truth[1]!.x) / 2, y: (truth[0]!.y + truth[1]!.y) / 2 };
    const box = chosen.box;
    const boxCentre = { x: box.x + box.width / 2, y: box.y + box.height / 2 };
    out.chosenRight = Math.hypot(boxCentre.x - faceCentre.x, boxCentre.y - faceCentre.y) < Math.max(0.5 * (faceBox || box.width), 2);
    const errors = landmarkErrors(
      reference.inCrop,
      truth.map((p) => applySimilarity(analysis.aligned.transform, p)),
    );
    out.eyeErrorPx = errors.eye;
    out.mouthErrorPx = errors.mouth;
  }
  return out;
}
