// Sample cases for the records tests.
import { expect } from 'vitest';
import { type CaseRecord, RecordError, validateCaseRecord } from '../../src/records/case-record';

/** Every problem validateCaseRecord finds in `raw` ([] when it is a valid case). */
export function problems(raw: unknown): string[] {
  try {
    validateCaseRecord(raw);
    return [];
  } catch (e) {
    expect(e).toBeInstanceOf(RecordError);
    return (e as RecordError).problems;
  }
}

/** Bytes that start like a PNG (the codec checks the signature, not the pixels). */
export function pngBytes(n = 2000, seed = 7): Uint8Array {
  const b = new Uint8Array(n);
  b.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  let x = seed;
  for (let i = 8; i < n; i++) b[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
  return b;
}

export function sampleCase(over: Partial<CaseRecord> = {}): CaseRecord {
  return {
    id: 'case-0001',
    createdAt: '2026-03-04T10:20:30.000Z',
    updatedAt: '2026-03-04T10:20:30.000Z',
    patientRef: 'MRN-48213',
    age: { years: 4, months: 7 },
    sex: 'female',
    photoConsent: true,
    crop: pngBytes(),
    photo: null,
    result: {
      classes: ['wbs', 'ns', 'algs', 'non_gs'],
      probabilities: [0.61, 0.2, 0.09, 0.1],
      qualityWarnings: ['blurry'],
      qualityOverridden: true,
      tta: false,
      model: { id: 'demo', version: '1.0.0', sha256: 'a'.repeat(64), name: 'Demo IR-100', demonstration: true },
      backend: { ep: 'wasm', threads: 2 },
      timings: { decodeMs: 12, detectMs: 40, alignMs: 2, inferenceMs: 600, totalMs: 660 },
    },
    clinician: 'Dr. Lin',
    notes: 'Referred by cardiology.',
    followUp: { diagnosis: 'pending', detail: '', updatedAt: '' },
    ...over,
  };
}

/** A child screened from three photos, the third left out by the quality gate; mean of probabilities. */
export function threePhotoCase(over: Partial<CaseRecord> = {}): CaseRecord {
  const base = sampleCase({ id: 'case-three', photo: { type: 'image/jpeg', bytes: pngBytes(3000, 11) } });
  const photos = [
    { name: 'front.jpg', probabilities: [0.6, 0.2, 0.1, 0.1], qualityWarnings: [], qualityOverridden: false, included: true },
    { name: 'side.jpg', probabilities: [0.4, 0.4, 0.1, 0.1], qualityWarnings: ['lighting:warn'], qualityOverridden: false, included: true },
    { name: 'blurred.jpg', probabilities: [0.1, 0.1, 0.1, 0.7], qualityWarnings: ['sharpness:fail'], qualityOverridden: false, included: false },
  ];
  return {
    ...base,
    extraPhotos: [
      { crop: pngBytes(1500, 12), photo: { type: 'image/png', bytes: pngBytes(4000, 13) } },
      { crop: pngBytes(1500, 14), photo: null },
    ],
    result: { ...base.result, probabilities: [0.5, 0.3, 0.1, 0.1], tta: true, ttaMode: 'flip', fusion: { rule: 'mean-probability', photos } },
    ...over,
  };
}
