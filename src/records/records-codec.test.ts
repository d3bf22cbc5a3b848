import { describe, expect, it } from 'vitest';
import { type CaseRecord, LIMITS, topClass, validateCaseRecord } from './case-record';
import { ARCHIVE_FORMAT, ArchiveError, caseToJson, csvCell, exportCsv, parseArchive } from './archive';
import { deserializeCase, serializeCase } from './crypto';
import { pngBytes, problems, sampleCase } from '../../tests/unit/records-fixtures';

describe('case record codec', () => {
  it('accepts a complete case and keeps every field', () => {
    const c = sampleCase({ photo: { type: 'image/jpeg', bytes: new Uint8Array([1, 2, 3]) } });
    expect(validateCaseRecord(structuredClone(c))).toEqual(c);
    expect(topClass(c)).toBe('wbs');
  });

  it('lists every problem of an ill-typed case', () => {
    const bad = {
      ...sampleCase(),
      id: '../../etc',
      patientRef: 42,
      sex: 'x',
      age: { years: -1, months: 12 },
      photoConsent: 'yes',
      result: { ...sampleCase().result, probabilities: [0.5, 'a', 2] },
    };
    const p = problems(bad);
    expect(p).toEqual(
      expect.arrayContaining([
        expect.stringContaining('id'),
        'patientRef must be text',
        expect.stringContaining('sex'),
        expect.stringContaining('age.years'),
        expect.stringContaining('age.months'),
        'photoConsent must be true or false',
        expect.stringContaining('probabilities[1]'),
        expect.stringContaining('probabilities[2]'),
        'result.probabilities must have one value per class',
      ]),
    );
    expect(problems(null)).toEqual(['case is not an object']);
    expect(problems([sampleCase()])).toEqual(['case is not an object']);
  });

  it('refuses huge strings, non-PNG crops and a face image stored without consent', () => {
    expect(problems(sampleCase({ notes: 'x'.repeat(LIMITS.notes + 1) }))).toEqual([`notes is longer than ${LIMITS.notes} characters`]);
    expect(problems(sampleCase({ patientRef: 'p'.repeat(1_000_000) }))).toEqual([`patientRef is longer than ${LIMITS.patientRef} characters`]);
    expect(problems(sampleCase({ crop: new Uint8Array([0x3c, 0x73, 0x76, 0x67, 1, 2, 3, 4, 5, 6]) }))).toEqual(['crop must be a PNG image']);
    expect(problems(sampleCase({ photoConsent: false }))).toEqual(['a face image is stored without photo consent']);
    expect(problems(sampleCase({ photo: { type: 'text/html', bytes: new Uint8Array([1]) } }))).toEqual(['photo.type must be an image type']);
  });

  it('keeps HTML and script in text fields exactly as typed (they are rendered as text)', () => {
    const html = '<img src=x onerror="alert(1)"><script>alert(2)</script>';
    expect(validateCaseRecord(sampleCase({ patientRef: html.slice(0, 64), notes: html })).notes).toBe(html);
  });

  it('serializes to bytes and back without loss, images included', () => {
    const c = sampleCase({ photo: { type: 'image/png', bytes: pngBytes(50_000, 3) } });
    expect(deserializeCase(serializeCase(c))).toEqual(c);
    const noImages = sampleCase({ photoConsent: false, crop: null });
    expect(deserializeCase(serializeCase(noImages))).toEqual(noImages);
  });
});

/** A version-1 archive as Facies wrote it before streaming backups. */
const exportJson = (cases: CaseRecord[], app: string) =>
  JSON.stringify({ format: ARCHIVE_FORMAT, exportedAt: '2026-01-01T00:00:00.000Z', app: `Facies ${app}`, cases: cases.map(caseToJson) }, null, 1);

describe('version-1 JSON archive', () => {
  it('round-trips cases losslessly', () => {
    const cases = [
      sampleCase(),
      sampleCase({
        id: 'case-0002',
        photo: { type: 'image/jpeg', bytes: pngBytes(9000, 5) },
        followUp: { diagnosis: 'ns', detail: 'PTPN11 c.922A>G', updatedAt: '2026-05-01T08:00:00.000Z' },
      }),
    ];
    const parsed = parseArchive(exportJson(cases, '0.1.0'));
    expect(parsed.rejected).toEqual([]);
    expect(parsed.cases).toEqual(cases);
  });

  it('refuses files that are not Facies archives, with the reason', () => {
    const kind = (text: string) => {
      try {
        parseArchive(text);
        return 'accepted';
      } catch (e) {
        return (e as ArchiveError).problem.kind;
      }
    };
    expect(kind('not json {')).toBe('not-json');
    expect(kind('[1,2]')).toBe('not-an-archive');
    expect(kind(JSON.stringify({ format: 'facies-model-manifest/1', id: 'x' }))).toBe('not-an-archive');
    expect(kind(JSON.stringify({ format: 'facies-cases/9', cases: [] }))).toBe('newer-format');
    expect(kind(JSON.stringify({ format: ARCHIVE_FORMAT, cases: [] }))).toBe('no-cases');
    expect(kind(JSON.stringify({ format: ARCHIVE_FORMAT, cases: {} }))).toBe('not-an-archive');
  });

  it('rejects malformed or hostile entries one by one and keeps the good ones', () => {
    const good = JSON.parse(exportJson([sampleCase()], '0.1.0'));
    const entry = good.cases[0];
    good.cases.push(
      { ...entry, id: 'case-2', crop: 'not base64!!' },
      { ...entry, id: 'case-3', result: 'high risk' },
      { ...entry, id: 'case-4', notes: 'n'.repeat(LIMITS.notes + 1) },
      { ...entry, id: 'case-0001' },
      42,
      { ...entry, id: 'case-5', __proto__: { polluted: true }, constructor: { prototype: { polluted: true } } },
    );
    const parsed = parseArchive(JSON.stringify(good));
    expect(parsed.cases.map((c) => c.id)).toEqual(['case-0001', 'case-5']);
    expect(parsed.rejected.map((r) => r.index)).toEqual([1, 2, 3, 4, 5]);
    expect(parsed.rejected[3]!.problems).toEqual(['the same case id appears twice in the file']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.keys(parsed.cases[1]!)).not.toContain('constructor');
  });
});

describe('CSV export', () => {
  it('quotes per RFC 4180 and defuses spreadsheet formulas', () => {
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"\nnext')).toBe('"say ""hi""\nnext"');
    expect(csvCell('=HYPERLINK("http://x")')).toBe(`"'=HYPERLINK(""http://x"")"`);
    expect(csvCell('+1')).toBe("'+1");
    expect(csvCell(-0.5)).toBe('-0.5');
    expect(csvCell(null)).toBe('');
  });

  it('writes one row per case with a column per class, UTF-8 with BOM', () => {
    const csv = exportCsv([sampleCase({ patientRef: '王小明', notes: 'line 1\nline 2' }), sampleCase({ id: 'b', crop: null, photoConsent: false })]);
    expect(csv.startsWith('\uFEFFcase_id,created_at')).toBe(true);
    const lines = csv.slice(1).trimEnd().split('\r\n');
    expect(lines).toHaveLength(3);
    const header = lines[0]!.split(',');
    expect(header).toEqual(expect.arrayContaining(['p_wbs', 'p_ns', 'p_algs', 'p_non_gs', 'model_sha256', 'confirmed_diagnosis']));
    const row = lines[1]!.split(',');
    expect(row[header.indexOf('patient_ref')]).toBe('王小明');
    expect(row[header.indexOf('p_wbs')]).toBe('0.61');
    expect(row[header.indexOf('top_class')]).toBe('wbs');
    expect(lines[1]).toContain('"line 1\nline 2"');
    expect(lines[2]!.split(',')[header.indexOf('crop_stored')]).toBe('false');
  });
});
