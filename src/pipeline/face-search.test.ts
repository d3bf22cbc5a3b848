import { describe, expect, it } from 'vitest';
import { applySimilarity } from './align';
import {
  CONFIDENT_SCORE,
  SEARCH,
  boxIou,
  candidateView,
  eyeLineRoll,
  faceInPhoto,
  meanFace,
  mirroredView,
  rankFaces,
  sameFaceInView,
  suppressOverlaps,
  tileViews,
  turnFace,
  turnForRoll,
  turnPhoto,
  unmirrorKeypoints,
  viewAround,
  wholePhotoView,
  type DetectedFace,
  type FaceView,
} from './face-search';
import type { Point } from './image';

/** A frontal face of eye distance `iod` at `centre` (pixel-centre coordinates), rolled by `roll`° clockwise. */
function face(centre: Point, iod: number, roll = 0, score = 0.9): DetectedFace {
  const r = (roll * Math.PI) / 180;
  const at = (x: number, y: number) => ({ x: centre.x + x * Math.cos(r) - y * Math.sin(r), y: centre.y + x * Math.sin(r) + y * Math.cos(r) });
  const side = 2.2 * iod;
  return {
    score,
    box: { x: centre.x + 0.5 - side / 2, y: centre.y + 0.5 - side / 2, width: side, height: side },
    keypoints: [at(-iod / 2, -0.3 * iod), at(iod / 2, -0.3 * iod), at(0, 0.2 * iod), at(0, 0.6 * iod), at(-1.1 * iod, -0.1 * iod), at(1.1 * iod, -0.1 * iod)],
  };
}

/** A face in the photo as the detector would report it in a view (pixel-centre keypoints, edge box). */
function inView(f: DetectedFace, view: FaceView): DetectedFace {
  const s = Math.hypot(view.matrix[0], view.matrix[3]);
  const c = applySimilarity(view.matrix, { x: f.box.x + f.box.width / 2, y: f.box.y + f.box.height / 2 });
  return {
    score: f.score,
    box: { x: c.x - (f.box.width * s) / 2, y: c.y - (f.box.height * s) / 2, width: f.box.width * s, height: f.box.height * s },
    keypoints: f.keypoints.map((k) => {
      const p = applySimilarity(view.matrix, { x: k.x + 0.5, y: k.y + 0.5 });
      return { x: p.x - 0.5, y: p.y - 0.5 };
    }),
  };
}

const close = (a: Point, b: Point, tol = 1e-9) => {
  expect(Math.abs(a.x - b.x)).toBeLessThan(tol);
  expect(Math.abs(a.y - b.y)).toBeLessThan(tol);
};

describe('views', () => {
  it('viewAround puts the centre in the middle and turns clockwise on screen', () => {
    const v = viewAround({ x: 100, y: 50 }, 90, 2, 200, 100);
    close(applySimilarity(v.matrix, { x: 100, y: 50 }), { x: 100, y: 50 });
    // One pixel to the right of the centre ends up two pixels below it after a quarter turn clockwise.
    close(applySimilarity(v.matrix, { x: 101, y: 50 }), { x: 100, y: 52 });
  });

  it('wholePhotoView fits the longer side and turns the photo upright', () => {
    const v = wholePhotoView({ width: 4000, height: 3000 });
    expect([v.width, v.height]).toEqual([1024, 768]);
    const t = turnPhoto({ width: 300, height: 400 }, 90);
    expect([t.width, t.height]).toEqual([400, 300]);
    // Turned 90° clockwise: the stored top-left corner becomes the top-right corner.
    close(applySimilarity(t.matrix, { x: 0, y: 0 }), { x: 400, y: 0 });
    close(applySimilarity(turnPhoto({ width: 300, height: 400 }, 180).matrix, { x: 0, y: 0 }), { x: 300, y: 400 });
  });

  it('tiles of 30 % every 15 % cover the photo, and every face up to 15 % lies whole in one', () => {
    const photo = { width: 4000, height: 3000 };
    const tiles = tileViews(photo);
    expect(tiles).toHaveLength(24);
    let s = 1;
    const rand = () => (s = (s * 16807) % 2147483647) / 2147483647;
    for (let i = 0; i < 500; i++) {
      const side = (0.04 + 0.11 * rand()) * 4000;
      const x = rand() * (photo.width - side);
      const y = rand() * (photo.height - side);
      const inside = tiles.some((t) =>
        [
          [x, y],
          [x + side, y + side],
        ].every(([px, py]) => {
          const q = applySimilarity(t.matrix, { x: px!, y: py! });
          return q.x >= -1e-6 && q.y >= -1e-6 && q.x <= t.width + 1e-6 && q.y <= t.height + 1e-6;
        }),
      );
      expect(inside, `face at ${x.toFixed(0)},${y.toFixed(0)} side ${side.toFixed(0)}`).toBe(true);
    }
    // Turned tiles cover the turned photo the same way.
    expect(tileViews(photo, 90)).toHaveLength(tileViews({ width: 3000, height: 4000 }).length);
  });

  it('faceInPhoto maps a face found in any view back to the photo exactly', () => {
    const truth = face({ x: 1234.5, y: 987.25 }, 80, 20);
    for (const view of [
      wholePhotoView({ width: 4000, height: 3000 }, 270),
      tileViews({ width: 4000, height: 3000 })[7]!,
      candidateView(truth, 1.5),
      mirroredView(candidateView(truth, 2)),
    ]) {
      const back = faceInPhoto(inView(truth, view), view);
      truth.keypoints.forEach((k, i) => close(back.keypoints[i]!, k, 1e-6));
      expect(Math.abs(back.box.width - truth.box.width)).toBeLessThan(1e-6);
    }
  });

  it('a candidate view levels the face and makes it 1/boxes of the view', () => {
    const f = face({ x: 500, y: 400 }, 100, 35);
    const seen = inView(f, candidateView(f, 2));
    expect(Math.abs(eyeLineRoll(seen.keypoints))).toBeLessThan(1e-6);
    expect(seen.box.width).toBeCloseTo(SEARCH.viewSide / 2, 6);
  });

  it('a mirrored reading, its keypoints put back in anatomical order, is the face itself', () => {
    const f = face({ x: 300, y: 200 }, 60, 10);
    const view = mirroredView(candidateView(f, 2));
    const seen = inView(f, view);
    // What a detector reports in the mirror: labels by appearance, so the subject's sides are exchanged.
    const reported = { ...seen, keypoints: [1, 0, 2, 3, 5, 4].map((i) => seen.keypoints[i]!) };
    const back = unmirrorKeypoints(faceInPhoto(reported, view));
    f.keypoints.forEach((k, i) => close(back.keypoints[i]!, k, 1e-6));
  });
});

describe('roll and turns', () => {
  it('reads the roll from the eye line, and an upside-down reading from eyes → mouth', () => {
    for (const roll of [-150, -40, 0, 25, 89]) expect(eyeLineRoll(face({ x: 0, y: 0 }, 50, roll).keypoints)).toBeCloseTo(roll, 6);
    // BlazeFace on an upside-down face: "right eye" on the image left, mouth above the eyes.
    const upright = face({ x: 0, y: 0 }, 50).keypoints;
    const flippedLabels = [upright[0]!, upright[1]!, { x: 0, y: -10 }, { x: 0, y: -30 }];
    expect(Math.abs(eyeLineRoll(flippedLabels))).toBeCloseTo(180, 6);
  });

  it('turns a face lying on its side upright, and leaves a tilted one to alignment', () => {
    expect([-170, -100, -60, -44, 0, 44, 60, 100, 180].map(turnForRoll)).toEqual([180, 90, 90, 0, 0, 0, 270, 270, 180]);
    const photo = { width: 300, height: 400 };
    const sideways = face({ x: 150, y: 200 }, 40, -90);
    const up = turnFace(sideways, photo, turnForRoll(eyeLineRoll(sideways.keypoints)));
    expect(Math.abs(eyeLineRoll(up.keypoints))).toBeLessThan(1e-6);
    close(up.keypoints[0]!, applySimilarity(turnPhoto(photo, 90).matrix, { x: sideways.keypoints[0]!.x + 0.5, y: sideways.keypoints[0]!.y + 0.5 }), 0.5 + 1e-6);
  });
});

describe('choosing the face', () => {
  it('one face per place: the most confident of overlapping boxes', () => {
    const a = face({ x: 100, y: 100 }, 40, 0, 0.9);
    const b = { ...face({ x: 104, y: 102 }, 42, 0, 0.7) };
    const c = face({ x: 400, y: 100 }, 40, 0, 0.8);
    expect(boxIou(a.box, b.box)).toBeGreaterThan(SEARCH.sameFaceIou);
    expect(suppressOverlaps([b, c, a])).toEqual([a, c]);
  });

  it('a low-confidence box never outranks a confident face, however large; among equals the largest is first', () => {
    const spurious = face({ x: 300, y: 300 }, 200, 0, 0.54);
    const small = face({ x: 100, y: 100 }, 30, 0, 0.92);
    const larger = face({ x: 600, y: 100 }, 50, 0, CONFIDENT_SCORE);
    expect(rankFaces([spurious, small, larger])).toEqual([larger, small, spurious]);
  });

  it('finds the candidate again: the most confident reading covering the view centre', () => {
    const view = { matrix: [1, 0, 0, 0, 1, 0] as const, width: 256, height: 256 };
    const centreFace = face({ x: 128, y: 128 }, 50, 0, 0.8);
    const off = face({ x: 30, y: 30 }, 20, 0, 0.99);
    expect(sameFaceInView([off, centreFace], view)).toBe(centreFace);
    expect(sameFaceInView([off], view)).toBeUndefined();
  });

  it('averages readings keypoint by keypoint', () => {
    const m = meanFace([face({ x: 10, y: 10 }, 20, 0, 0.8), face({ x: 12, y: 14 }, 20, 0, 0.9)]);
    close(m.keypoints[2]!, face({ x: 11, y: 12 }, 20).keypoints[2]!, 1e-9);
    expect(m.score).toBeCloseTo(0.85, 9);
  });
});
