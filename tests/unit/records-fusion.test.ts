// Cases from several photos of one child: every photo's crop, original and probabilities, the fusion rule, kept
// through storage bytes, both archive formats and CSV; cases saved before (one photo, no TTA mode) open unchanged.
import { describe, expect, it } from 'vitest';
import { caseFromJson, caseToJson, exportCsv } from '../../src/records/archive';
import { readArchive, writeArchive } from '../../src/records/archive-stream';
import { LIMITS, validateCaseRecord, type CaseRecord } from '../../src/records/case-record';
import { deserializeCase, serializeCase } from '../../src/records/crypto';
import { pngBytes, problems, sampleCase, threePhotoCase } from './records-fixtures';

async function* each(cases: CaseRecord[]) {
  yield* cases;
}

describe('a case from several photos', () => {
  it('is a valid case, and survives storage bytes, the JSON form and a streamed archive unchanged', async () => {
    const c = threePhotoCase();
    expect(validateCaseRecord(structuredClone(c))).toEqual(c);
    expect(deserializeCase(serializeCase(c))).toEqual(c);
    expect(caseFromJson(JSON.parse(JSON.stringify(caseToJson(c))))).toEqual(c);
    let text = '';
    for await (const line of writeArchive(each([c, sampleCase()]), { appVersion: 'test', count: 2 })) text += line;
    const back: CaseRecord[] = [];
    for await (const item of readArchive(new Blob([text]))) if (item.kind === 'case') back.push(item.record);
    expect(back).toEqual([c, sampleCase()]);
  });

  it('opens cases saved before several-photo screenings: the one-photo storage layout and JSON, without TTA mode', () => {
    // The storage layout Facies wrote before: [u32 header length][header][crop][photo], no extras in the header.
    const old = sampleCase({ photo: { type: 'image/jpeg', bytes: pngBytes(700, 2) } });
    const header = new TextEncoder().encode(JSON.stringify({ ...old, crop: old.crop!.length, photo: { type: 'image/jpeg', bytes: 700 } }));
    const bytes = new Uint8Array(4 + header.length + old.crop!.length + 700);
    new DataView(bytes.buffer).setUint32(0, header.length);
    bytes.set(header, 4);
    bytes.set(old.crop!, 4 + header.length);
    bytes.set(old.photo!.bytes, 4 + header.length + old.crop!.length);
    const opened = deserializeCase(bytes);
    expect(opened).toEqual(old);
    expect(opened.extraPhotos).toBeUndefined();
    expect(opened.result.fusion).toBeUndefined();
    // And the one-photo case is written in exactly that layout still.
    expect(Buffer.from(serializeCase(old)).equals(Buffer.from(bytes))).toBe(true);
  });

  it('refuses inconsistent several-photo cases, listing why', () => {
    const c = threePhotoCase();
    expect(problems({ ...c, extraPhotos: c.extraPhotos!.slice(0, 1) })).toEqual(['extraPhotos must hold the 2 photos after the first of result.fusion.photos']);
    expect(problems({ ...c, extraPhotos: undefined })).toEqual(['extraPhotos must hold the 2 photos after the first of result.fusion.photos']);
    const first = { ...c.result.fusion!.photos[0]!, included: false };
    expect(problems({ ...c, result: { ...c.result, fusion: { ...c.result.fusion!, photos: [first, ...c.result.fusion!.photos.slice(1)] } } })).toEqual([
      'result.fusion.photos[0] must be included',
    ]);
    const six = Array.from({ length: 6 }, () => c.result.fusion!.photos[1]!);
    expect(problems({ ...c, result: { ...c.result, fusion: { rule: 'mean-probability', photos: six } } })[0]).toBe(
      `result.fusion.photos must list 2–${LIMITS.photos} photos`,
    );
    const wrong = { ...c.result.fusion!.photos[1]!, probabilities: [0.5, 0.5] };
    expect(
      problems({
        ...c,
        result: { ...c.result, fusion: { rule: 'median' as 'mean-probability', photos: [c.result.fusion!.photos[0]!, wrong, c.result.fusion!.photos[2]!] } },
      }),
    ).toEqual([
      'result.fusion.rule must be one of mean-probability, mean-log-probability, mean-embedding',
      'result.fusion.photos[1].probabilities must have one value per class',
    ]);
    expect(problems({ ...c, photoConsent: false, crop: null, photo: null })).toEqual(['a face image is stored without photo consent']);
    expect(problems({ ...c, extraPhotos: [{ crop: new Uint8Array([1, 2, 3]), photo: null }, c.extraPhotos![1]] })).toEqual([
      'extraPhotos[0].crop must be a PNG image',
    ]);
    expect(problems({ ...c, result: { ...c.result, ttaMode: 'none' } })).toEqual(['result.tta and result.ttaMode disagree']);
    // A photo the gate left out may have no probabilities (it was never screened); an included one must have them.
    const unscored = (included: boolean) => ({ ...c.result.fusion!.photos[2]!, probabilities: [], included });
    expect(
      problems({ ...c, result: { ...c.result, fusion: { ...c.result.fusion!, photos: [...c.result.fusion!.photos.slice(0, 2), unscored(false)] } } }),
    ).toEqual([]);
    expect(
      problems({ ...c, result: { ...c.result, fusion: { ...c.result.fusion!, photos: [...c.result.fusion!.photos.slice(0, 2), unscored(true)] } } }),
    ).toEqual(['result.fusion.photos[2].probabilities must have one value per class']);
  });

  it('limits the original photos of one case together, not one by one', () => {
    const big = (seed: number) => ({ type: 'image/jpeg', bytes: pngBytes(LIMITS.photoBytes / 2 + 1, seed) });
    const c = threePhotoCase({ photo: big(1) });
    expect(problems({ ...c, extraPhotos: [{ crop: null, photo: big(2) }, c.extraPhotos![1]] })).toEqual([
      `the original photos together are larger than ${LIMITS.photoBytes} bytes`,
    ]);
  });

  it('CSV: the fused probabilities in the class columns, and every photo’s own, the rule and the counts beside them', () => {
    const csv = exportCsv([threePhotoCase(), sampleCase()]);
    const [header, three, one] = csv
      .slice(1)
      .trimEnd()
      .split('\r\n')
      .map((l) => l.split(','));
    const col = (row: string[], name: string) => row[header!.indexOf(name)];
    expect(col(three!, 'p_wbs')).toBe('0.5');
    expect([col(three!, 'photos'), col(three!, 'photos_included'), col(three!, 'fusion_rule'), col(three!, 'tta_mode')]).toEqual([
      '3',
      '2',
      'mean-probability',
      'flip',
    ]);
    expect(csv).toContain('0.6000|0.2000|0.1000|0.1000; 0.4000|0.4000|0.1000|0.1000; (left out) 0.1000|0.1000|0.1000|0.7000');
    expect([col(one!, 'photos'), col(one!, 'photos_included'), col(one!, 'fusion_rule'), col(one!, 'tta_mode')]).toEqual(['1', '1', '', 'none']);
  });
});
