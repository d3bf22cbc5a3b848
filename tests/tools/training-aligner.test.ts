import { describe, expect, it } from 'vitest';
import { alignmentCsv, parseCsv, trainingManifest, type BatchRow } from '../../models/training/aligner/align-batch';

const ok: BatchRow = {
  photo: 'ward/p1 "front".jpg',
  crop: 'crops/ward__p1 "front".png',
  status: 'ok',
  width: 640,
  height: 480,
  faces: 2,
  score: 0.91234,
  box: [10, 20, 100, 100],
  keypoints: [
    [1, 2],
    [3, 4],
    [5, 6],
    [7, 8],
    [9, 10],
    [11, 12],
  ],
  scale: 0.5,
  rollDegrees: -3.21,
  prefilterFactor: 1,
  quality: { overall: 'warn', checks: [{ id: 'face-count', status: 'warn', value: 2 }] },
};
const noFace: BatchRow = { photo: 'ward/cat.png', status: 'no-face', detail: 'no-face' };

describe('batch aligner tables', () => {
  it('reads quoted cells, doubled quotes, CRLF and a BOM', () => {
    expect(parseCsv('\uFEFFpath,label,patient_id\r\n"a, b.jpg",wbs,"p""1"\r\n\r\nc.jpg,ns,p2')).toEqual([
      { path: 'a, b.jpg', label: 'wbs', patient_id: 'p"1' },
      { path: 'c.jpg', label: 'ns', patient_id: 'p2' },
    ]);
  });

  it('writes one alignment row per photo, quoting where needed, blanks for photos without a face', () => {
    const lines = alignmentCsv([ok, noFace]).trim().split('\n');
    expect(lines).toHaveLength(3);
    const header = lines[0]!.split(',');
    const row = parseCsv(alignmentCsv([ok, noFace]));
    expect(row[0]!.photo).toBe('ward/p1 "front".jpg');
    expect(row[0]!.right_eye_x).toBe('1.000');
    expect(row[0]!.left_ear_y).toBe('12.000');
    expect(row[0]!['face-count_status']).toBe('warn');
    expect(row[0]!.quality).toBe('warn');
    expect(row[1]!.status).toBe('no-face');
    expect(row[1]!.crop).toBe('');
    expect(Object.keys(row[1]!)).toEqual(header);
  });

  it('turns the labels sheet into a training manifest of crops, listing what was left out', () => {
    const labels = parseCsv('path,label,patient_id,site\n"ward/p1 ""front"".jpg",wbs,p1,a\nward/cat.png,ns,p2,a\nmissing.jpg,algs,p3,a\n');
    const m = trainingManifest(labels, [ok, noFace]);
    expect(parseCsv(m.csv)).toEqual([{ path: 'crops/ward__p1 "front".png', label: 'wbs', patient_id: 'p1', site: 'a', quality: 'warn' }]);
    expect(m.dropped).toEqual(['ward/cat.png (no-face)']);
    expect(m.unmatched).toEqual(['missing.jpg']);
  });
});
