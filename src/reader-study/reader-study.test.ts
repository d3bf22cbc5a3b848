import { describe, expect, it } from 'vitest';
import { AnswerKeyError, buildStudySet, classForLabel, shuffled, splitCsvLine } from './answer-key';
import { childAnswers, studyMetrics } from './metrics';
import { csvCell, studyCsv } from './csv';
import { fuse, type FusionInput } from '../screening/fusion';

const CLASSES = [
  { id: 'wbs', displayName: { en: 'Williams–Beuren syndrome' } },
  { id: 'ns', displayName: { en: 'Noonan syndrome' } },
  { id: 'algs', displayName: { en: 'Alagille syndrome' } },
  { id: 'non_gs', displayName: { en: 'No genetic syndrome' } },
];
const IDS = CLASSES.map((c) => c.id);
const files = (...names: string[]) => names.map((name) => ({ file: name, name }));

describe('reader study answer key', () => {
  it('reads labels by id, short name or display name, with a header row and folder paths', () => {
    const key = 'file,label\nset/a.jpg,WBS\nb.png,"Noonan syndrome"\nc.jpeg,non-GS\n';
    const set = buildStudySet(files('set/a.jpg', 'set/b.png', 'set/c.jpeg', 'set/labels.csv'), key, CLASSES, 'set/labels.csv');
    expect(set.map((p) => [p.name, p.truth])).toEqual([
      ['a.jpg', 'wbs'],
      ['b.png', 'ns'],
      ['c.jpeg', 'non_gs'],
    ]);
    expect(classForLabel('ALGS', CLASSES)).toBe('algs');
    expect(classForLabel('Non GS', CLASSES)).toBe('non_gs');
    expect(classForLabel('Turner', CLASSES)).toBeNull();
    expect(splitCsvLine('"a, b.jpg";ns')).toEqual(['a, b.jpg', 'ns']);
  });

  it('refuses a set whose photos and labels do not match, naming every problem', () => {
    const attempt = () => buildStudySet(files('a.jpg', 'b.jpg'), 'a.jpg,wbs\nc.jpg,ns\na.jpg,ns\nd.jpg,turner\n', CLASSES);
    expect(attempt).toThrow(AnswerKeyError);
    try {
      attempt();
    } catch (e) {
      expect((e as AnswerKeyError).problems).toEqual([
        { code: 'duplicate', line: 3, name: 'a.jpg' },
        { code: 'unknown-class', line: 4, label: 'turner' },
        { code: 'photo-without-label', name: 'b.jpg' },
        { code: 'label-without-photo', name: 'c.jpg' },
      ]);
    }
    expect(() => buildStudySet(files('a.jpg'), null, CLASSES)).toThrow(/no-key/);
    expect(() => buildStudySet(files('labels.csv'), 'x', CLASSES)).toThrow(/no-photos/);
  });

  it('shuffles every photo exactly once', () => {
    let seed = 1;
    const random = () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
    const out = shuffled([1, 2, 3, 4, 5, 6], random);
    expect([...out].sort()).toEqual([1, 2, 3, 4, 5, 6]);
    expect(out).not.toEqual([1, 2, 3, 4, 5, 6]);
  });
});

describe('reader study metrics', () => {
  it('computes accuracy, per-class recall and F1 as in the study', () => {
    const truth = ['wbs', 'wbs', 'ns', 'algs', 'non_gs', 'non_gs'];
    const answers = ['wbs', 'ns', 'ns', 'non_gs', 'non_gs', 'non_gs'];
    const m = studyMetrics(IDS, truth, answers);
    expect(m.correct).toBe(4);
    expect(m.accuracy).toBeCloseTo(4 / 6, 12);
    const by = Object.fromEntries(m.perClass.map((c) => [c.id, c]));
    expect(by.wbs).toMatchObject({ support: 2, recall: 0.5, precision: 1 });
    expect(by.wbs!.f1).toBeCloseTo(2 / 3, 12);
    expect(by.ns).toMatchObject({ support: 1, recall: 1, precision: 0.5 });
    expect(by.algs).toMatchObject({ support: 1, recall: 0, precision: null, f1: 0 });
    expect(by.non_gs!.f1).toBeCloseTo(0.8, 12);
    expect(m.macroF1).toBeCloseTo((2 / 3 + 2 / 3 + 0 + 0.8) / 4, 12);
  });

  it('counts a missing answer as wrong and leaves absent classes out of macro F1', () => {
    const m = studyMetrics(IDS, ['wbs', 'ns'], ['wbs', null]);
    expect(m).toMatchObject({ total: 2, correct: 1, accuracy: 0.5, unanswered: 1 });
    expect(m.perClass.find((c) => c.id === 'algs')).toMatchObject({ support: 0, recall: null, f1: null });
    expect(m.macroF1).toBeCloseTo(0.5, 12);
    expect(() => studyMetrics(IDS, ['wbs'], [])).toThrow(RangeError);
  });
});

describe('reader study CSV', () => {
  it('quotes cells and neutralises spreadsheet formulas', () => {
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvCell(-0.5)).toBe('-0.5');
    expect(csvCell(null)).toBe('');
  });

  it('has one row per photo and the summary for reader and model', () => {
    const truth = ['wbs', 'ns'];
    const csv = studyCsv({
      reader: '李医生',
      date: '2026-11-29',
      modelName: 'test',
      classIds: IDS,
      answers: [
        { photo: 'a.jpg', truth: 'wbs', reader: 'wbs', model: 'ns', probabilities: [0.1, 0.6, 0.2, 0.1], readerMs: 4200 },
        { photo: 'b.jpg', truth: 'ns', reader: 'algs', model: null, probabilities: [], readerMs: 1000 },
      ],
      readerMetrics: studyMetrics(IDS, truth, ['wbs', 'algs']),
      modelMetrics: studyMetrics(IDS, truth, ['ns', null]),
    });
    const lines = csv
      .replace(/^\uFEFF/, '')
      .trim()
      .split('\r\n');
    expect(lines[0]).toBe('reader,李医生');
    expect(lines).toContain('a.jpg,wbs,wbs,1,ns,0,0.1,0.6,0.2,0.1,4.2,'); // no patient_id
    expect(lines).toContain('b.jpg,ns,algs,0,no_face,0,,,,,1,');
    expect(lines).toContain('accuracy,0.5,0');
  });
});

describe('reader study answer key: paths', () => {
  it('matches by path: wbs/001.jpg and ns/001.jpg are two photos, and a row for one does not label the other', () => {
    const photos = files('study/wbs/001.jpg', 'study/ns/001.jpg', 'study/labels.csv');
    try {
      buildStudySet(photos, 'wbs/001.jpg,WBS\n', CLASSES, 'study/labels.csv');
      expect.unreachable();
    } catch (e) {
      expect((e as AnswerKeyError).problems).toEqual([{ code: 'photo-without-label', name: 'ns/001.jpg' }]);
    }
    const set = buildStudySet(photos, 'wbs/001.jpg,WBS\n.\\ns\\001.jpg,NS\n', CLASSES, 'study/labels.csv');
    expect(set.map((p) => [p.name, p.truth])).toEqual([
      ['wbs/001.jpg', 'wbs'],
      ['ns/001.jpg', 'ns'],
    ]);
  });

  it('refuses a bare name that several photos share, and lists every unmatched row and photo', () => {
    const photos = files('s/wbs/001.jpg', 's/ns/001.jpg', 's/algs/002.jpg', 's/labels.csv');
    try {
      buildStudySet(photos, '001.jpg,WBS\nalgs/002.jpg,ALGS\nnon/003.jpg,non-GS\n', CLASSES, 's/labels.csv');
      expect.unreachable();
    } catch (e) {
      expect((e as AnswerKeyError).problems).toEqual([
        { code: 'ambiguous', line: 1, name: '001.jpg', count: 2 },
        { code: 'photo-without-label', name: 'wbs/001.jpg' },
        { code: 'photo-without-label', name: 'ns/001.jpg' },
        { code: 'label-without-photo', name: 'non/003.jpg' },
      ]);
    }
  });
});

describe('reader study per child', () => {
  it('reads an optional patient_id (third column, or named in the header) and refuses a child with two diagnoses', () => {
    const plain = buildStudySet(files('a.jpg', 'b.jpg', 'c.jpg'), 'a.jpg,WBS,P1\nb.jpg,WBS,P1\nc.jpg,NS\n', CLASSES);
    expect(plain.map((p) => [p.name, p.patient])).toEqual([
      ['a.jpg', 'P1'],
      ['b.jpg', 'P1'],
      ['c.jpg', undefined],
    ]);
    const header = buildStudySet(files('a.jpg', 'b.jpg'), 'file,label,site,patient id\na.jpg,ns,Shanghai,K-7\nb.jpg,ns,Shanghai,K-8\n', CLASSES);
    expect(header.map((p) => p.patient)).toEqual(['K-7', 'K-8']);
    try {
      buildStudySet(files('a.jpg', 'b.jpg'), 'a.jpg,WBS,P1\nb.jpg,NS,P1\n', CLASSES);
      expect.unreachable();
    } catch (e) {
      expect((e as AnswerKeyError).problems).toEqual([{ code: 'patient-mixed-labels', patient: 'P1' }]);
    }
  });

  it('scores each child once: the reader by majority over the photos (a tie is no answer), the model by fusion', () => {
    const mean = (ps: FusionInput[]) => ps[0]!.probabilities.map((_, c) => ps.reduce((s, p) => s + p.probabilities[c]!, 0) / ps.length);
    const answers = [
      { patient: 'P1', photo: 'a', truth: 'wbs', reader: 'wbs', probabilities: [0.9, 0.05, 0.03, 0.02] },
      { patient: 'P1', photo: 'b', truth: 'wbs', reader: 'ns', probabilities: [0.2, 0.7, 0.05, 0.05] },
      { patient: 'P1', photo: 'c', truth: 'wbs', reader: 'wbs', probabilities: [] },
      { patient: 'P2', photo: 'd', truth: 'ns', reader: 'ns', probabilities: [0.1, 0.3, 0.1, 0.5] },
      { patient: 'P2', photo: 'e', truth: 'ns', reader: 'algs', probabilities: [0.1, 0.6, 0.1, 0.2] },
      { photo: 'f', truth: 'algs', reader: 'algs', probabilities: [] },
    ];
    const children = childAnswers(IDS, answers, mean);
    expect(children).toEqual([
      // Model: mean of [0.9,…] and [0.2, 0.7,…] → wbs 0.55; the photo with no face is left out.
      { patient: 'P1', truth: 'wbs', photos: 3, reader: 'wbs', model: 'wbs' },
      // Reader: one ns, one algs — a tie, no answer; model: mean ns 0.45 > non_gs 0.35.
      { patient: 'P2', truth: 'ns', photos: 2, reader: null, model: 'ns' },
      { patient: 'f', truth: 'algs', photos: 1, reader: 'algs', model: null },
    ]);
    const reader = studyMetrics(
      IDS,
      children.map((c) => c.truth),
      children.map((c) => c.reader),
    );
    expect(reader.accuracy).toBeCloseTo(2 / 3, 12);
    const model = studyMetrics(
      IDS,
      children.map((c) => c.truth),
      children.map((c) => c.model),
    );
    const csv = studyCsv({
      reader: 'Dr. Lin',
      date: '2026-12-02',
      modelName: 'Demo',
      classIds: IDS,
      answers: answers.map((a) => ({ ...a, model: null, readerMs: 1000 })),
      readerMetrics: reader,
      modelMetrics: model,
      perChild: { children: 3, reader, model },
    });
    expect(csv).toContain('\r\nchildren,3,3\r\n');
    expect(csv).toContain('\r\nchild_accuracy,0.6667,0.6667\r\n');
    expect(csv.split('\r\n')[4]!.split(',').at(-1)).toBe('patient_id');
  });

  it("fuses a mean-embedding model's child by its embeddings, and gives no answer when they cannot be fused", () => {
    // Two classes in 2-D: the photos' probabilities favour class 0, their mean embedding points at class 1.
    const head = { classWeights: new Float32Array([1, 0, 0, 1]), dimension: 2, scale: 64, temperature: 1 };
    const ids = ['wbs', 'ns'];
    const answers = [
      { patient: 'P1', photo: 'a', truth: 'ns', reader: 'ns', probabilities: [0.6, 0.4], embedding: [0.6, 0.8] },
      { patient: 'P1', photo: 'b', truth: 'ns', reader: 'ns', probabilities: [0.9, 0.1], embedding: [0.0, 1.0] },
      { patient: 'P2', photo: 'c', truth: 'wbs', reader: 'wbs', probabilities: [0.9, 0.1] },
      { patient: 'P2', photo: 'd', truth: 'wbs', reader: 'wbs', probabilities: [0.8, 0.2] },
    ];
    const byEmbedding = (ps: FusionInput[]) => (ps.every((p) => p.embedding) ? fuse(ps, 'mean-embedding', head) : null);
    expect(childAnswers(ids, answers, byEmbedding).map((c) => c.model)).toEqual(['ns', null]);
    expect(childAnswers(ids, answers, (ps) => fuse(ps, 'mean-probability')).map((c) => c.model)).toEqual(['wbs', 'wbs']);
  });
});
