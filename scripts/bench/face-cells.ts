// The face-stage sweep (npm run bench:faces): which photos are made from the repository's face photos, with which
// known transform, and what each is expected to give. Plain data and arithmetic, shared by the runner (Node) and
// the bench page (the browser), which makes each photo and runs the screening pipeline on it.
import type { Point } from '../../src/pipeline/image';

/** A photo made from a fixture: the face scaled, rolled, blurred, exposed, placed in a frame, stored turned, encoded. */
export interface FaceCell {
  id: string;
  sweep: 'size' | 'roll' | 'turn' | 'blur' | 'exposure' | 'jpeg' | 'no-face' | 'faces';
  /** Fixture file name (tests/fixtures/faces). */
  source: string;
  /** Frame size in megapixels (4:3 landscape); 0 = the fixture as it is. */
  megapixels: number;
  /** Width of the face box as a fraction of the frame's longer side. */
  faceWidth?: number;
  /** Degrees, clockwise on screen, about the face centre. */
  roll?: number;
  /** The frame stored turned: the app must turn it this many degrees clockwise to make it upright. */
  storedTurn?: 0 | 90 | 180 | 270;
  /** Gaussian blur σ in pixels at the scale of the aligned crop. */
  blurCropPx?: number;
  /** Exposure factor (CSS brightness). */
  exposure?: number;
  /** JPEG quality 1–100 (else the pixels are handed over as they are). */
  jpegQuality?: number;
  /** A second fixture face placed beside the first (for choosing between faces). */
  second?: { source: string; faceWidth: number };
}

/** The fixture faces' boxes in their own photos (BlazeFace on the untransformed photo), for scaling the sweep. */
export const FIXTURE_FACES: Record<string, { box: [number, number, number, number] }> = {
  'astronaut.png': { box: [177, 82, 95, 95] },
  'camera.png': { box: [180, 122, 84, 84] },
};

const MP = [1, 4, 12, 16];

export function sweepCells(short: boolean): FaceCell[] {
  const cells: FaceCell[] = [];
  const face = 'astronaut.png';
  const widths = short ? [0.04, 0.05, 0.2, 0.6, 1] : [0.03, 0.04, 0.05, 0.07, 0.1, 0.15, 0.25, 0.4, 0.6, 0.8, 1];
  for (const megapixels of short ? [12] : MP)
    for (const faceWidth of widths)
      cells.push({ id: `size ${megapixels}MP ${(faceWidth * 100).toFixed(0)}%`, sweep: 'size', source: face, megapixels, faceWidth });
  for (const roll of short ? [-60, -45, 30, 60] : [-90, -75, -60, -45, -30, -15, 0, 15, 30, 45, 60, 75, 90])
    cells.push({ id: `roll ${roll}°`, sweep: 'roll', source: face, megapixels: 4, faceWidth: 0.2, roll });
  for (const storedTurn of [90, 180, 270] as const) {
    cells.push({ id: `turn ${storedTurn}° 4MP 20%`, sweep: 'turn', source: face, megapixels: 4, faceWidth: 0.2, storedTurn });
    if (!short) cells.push({ id: `turn ${storedTurn}° 12MP 6%`, sweep: 'turn', source: face, megapixels: 12, faceWidth: 0.06, storedTurn });
  }
  for (const megapixels of short ? [4] : [0.3, 4, 16])
    for (const blurCropPx of short ? [0, 1, 2] : [0, 0.5, 1, 1.5, 2, 3, 4, 6])
      cells.push({ id: `blur σ${blurCropPx} ${megapixels}MP`, sweep: 'blur', source: face, megapixels, faceWidth: 0.2, blurCropPx });
  for (const exposure of short ? [0.3, 1.5] : [0.15, 0.3, 0.5, 0.75, 1.25, 1.5, 2])
    cells.push({ id: `exposure ×${exposure}`, sweep: 'exposure', source: face, megapixels: 4, faceWidth: 0.2, exposure });
  for (const jpegQuality of short ? [10] : [5, 10, 20, 40, 60, 80, 95])
    cells.push({ id: `jpeg q${jpegQuality}`, sweep: 'jpeg', source: face, megapixels: 4, faceWidth: 0.2, jpegQuality });
  for (const source of ['chelsea.png', 'coffee.png']) cells.push({ id: `no face: ${source}`, sweep: 'no-face', source, megapixels: 0 });
  if (!short) cells.push({ id: 'no face: coffee.png 12MP', sweep: 'no-face', source: 'coffee.png', megapixels: 12, faceWidth: 1 });
  // Both found in the first look (≥ 15 % each): the fixture face is chosen (both are confident; it is larger).
  cells.push({
    id: 'two faces: astronaut + camera',
    sweep: 'faces',
    source: face,
    megapixels: 4,
    faceWidth: 0.25,
    second: { source: 'camera.png', faceWidth: 0.2 },
  });
  return cells;
}

/** What a cell gave: measured by the bench page. */
export interface CellOutcome {
  id: string;
  found: boolean;
  /** The screened face is the fixture's face (its box centre inside the true face box). */
  chosenRight: boolean;
  faces: number;
  /** The screened face's score (the lowest of its readings). */
  score?: number;
  turn: number;
  /** Detector calls, and the search's time. */
  detectorCalls: number;
  detectMs: number;
  /** Largest distance of an eye, and of the mouth, from where it lies in the crop of the untransformed photo (crop px). */
  eyeErrorPx?: number;
  mouthErrorPx?: number;
  eyesApartPx?: number;
  quality?: string;
  sharpness?: { status: string; value: number };
  checks?: Record<string, string>;
  error?: string;
}

/** The landmarks compared: both eyes and the mouth centre (BlazeFace keypoints 0, 1, 3). */
export function landmarkErrors(truthInCrop: readonly Point[], measuredInCrop: readonly Point[]): { eye: number; mouth: number } {
  const d = (i: number) => Math.hypot(truthInCrop[i]!.x - measuredInCrop[i]!.x, truthInCrop[i]!.y - measuredInCrop[i]!.y);
  return { eye: Math.max(d(0), d(1)), mouth: d(3) };
}

export interface Target {
  name: string;
  cells: string[];
  failures: string[];
}

/** The targets, each with the cells it covers and those that miss it. */
export function evaluateTargets(cells: readonly FaceCell[], outcomes: readonly CellOutcome[]): Target[] {
  const byId = new Map(outcomes.map((o) => [o.id, o]));
  const target = (name: string, applies: (c: FaceCell, o: CellOutcome) => boolean, ok: (c: FaceCell, o: CellOutcome) => boolean): Target => {
    const covered = cells.filter((c) => byId.has(c.id) && applies(c, byId.get(c.id)!));
    return { name, cells: covered.map((c) => c.id), failures: covered.filter((c) => !ok(c, byId.get(c.id)!)).map((c) => c.id) };
  };
  const faceCell = (c: FaceCell) => c.sweep !== 'no-face';
  return [
    target(
      'found and correctly chosen: face ≥ 5 % of the longer side, eyes ≥ 24 px apart, roll within ±60°, any stored turn',
      (c, o) =>
        faceCell(c) &&
        (c.faceWidth ?? 1) >= 0.05 &&
        Math.abs(c.roll ?? 0) <= 60 &&
        (o.eyesApartPx ?? expectedEyesApart(c)) >= 24 &&
        !c.blurCropPx &&
        !c.jpegQuality &&
        !c.exposure,
      (_c, o) => o.found && o.chosenRight,
    ),
    // Faces wholly inside the frame: at 80–100 % of the longer side a 4:3 frame cuts off the chin or forehead.
    target(
      'eye and mouth error ≤ 1.5 crop px: roll within ±45°, stored turns, sizes 10–60 % (the whole face in the frame)',
      (c, o) =>
        faceCell(c) &&
        o.found &&
        o.chosenRight &&
        Math.abs(c.roll ?? 0) <= 45 &&
        !c.blurCropPx &&
        !c.jpegQuality &&
        !c.exposure &&
        (c.faceWidth ?? 0) >= 0.1 &&
        (c.faceWidth ?? 0) <= 0.6,
      (_c, o) => (o.eyeErrorPx ?? 99) <= 1.5 && (o.mouthErrorPx ?? 99) <= 1.5,
    ),
    target(
      'blur σ ≥ 2 crop px fails the gate',
      (c) => (c.blurCropPx ?? 0) >= 2,
      (_c, o) => o.found && o.sharpness?.status === 'fail',
    ),
    target(
      'blur σ ≥ 1 crop px at least warns',
      (c) => (c.blurCropPx ?? 0) >= 1,
      (_c, o) => o.found && o.sharpness?.status !== 'pass',
    ),
    target(
      'no sharp cell warns on sharpness (σ = 0, the crop not upsampled, exposure and JPEG as shot)',
      (c, o) => faceCell(c) && o.found && o.chosenRight && !c.blurCropPx && !c.exposure && !c.jpegQuality && o.checks?.['face-size'] === 'pass',
      (_c, o) => o.sharpness?.status === 'pass',
    ),
    target(
      'no face reported on the no-face photos',
      (c) => c.sweep === 'no-face',
      (_c, o) => !o.found,
    ),
  ];
}

/** Eye distance of the astronaut at its native size is ~44 px for a 95-px face box. */
export function expectedEyesApart(c: FaceCell): number {
  if (!c.megapixels || !c.faceWidth) return 44;
  return 44 * ((c.faceWidth * frameSize(c.megapixels).width) / 95);
}

export function frameSize(megapixels: number): { width: number; height: number } {
  const width = Math.round(Math.sqrt((megapixels * 1e6 * 4) / 3));
  return { width, height: Math.round((width * 3) / 4) };
}
