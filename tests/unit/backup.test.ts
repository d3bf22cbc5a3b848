// Streaming backups: an archive larger than a JavaScript string can hold goes out and back in one case at a time;
// encrypted archives; truncated, altered and foreign files; version-1 archives still read.
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { ARCHIVE_FORMAT, ArchiveError, caseToJson } from '../../src/records/archive';
import { STREAM_FORMAT, readArchive, readArchiveHeader } from '../../src/records/archive-stream';
import { exportArchive, stageArchive } from '../../src/records/backup';
import type { CaseRecord } from '../../src/records/case-record';
import { openRecordsDb } from '../../src/records/db';
import { CaseStore } from '../../src/records/store';
import { pngBytes, sampleCase } from './records-fixtures';

const SLOW = 120_000;
let n = 0;
const freshName = () => `backup-test-${++n}`;
const MiB = 1024 * 1024;

async function plainStore(cases: CaseRecord[]) {
  const store = new CaseStore(freshName());
  await store.chooseNoEncryption();
  for (const c of cases) await store.add(c, null);
  return store;
}

const problem = (e: unknown) => (e instanceof ArchiveError ? e.problem.kind : String(e));

async function importInto(store: CaseStore, file: Blob, passphrase?: string) {
  const session = await store.beginImport(null, 'backup');
  try {
    const staged = await stageArchive(file, session, { passphrase });
    return { staged, outcome: await session.commit(session.defaultReplacements('skip')) };
  } catch (e) {
    await session.discard();
    throw e;
  }
}

async function items(file: Blob, passphrase?: string) {
  const out = [];
  for await (const item of readArchive(file, { passphrase })) out.push(item);
  return out;
}

describe('streaming backup', () => {
  it('an archive over 600 MiB goes out and back in, case by case, and every case comes back the same', async () => {
    // 20 cases with 24 MiB original photos: 480 MiB of photos, 640 MiB of archive. The version-1 export made one
    // string of it and failed (V8 strings end near 512 Mi characters); the import read the file as one string.
    const photo = (i: number) => ({ type: 'image/jpeg', bytes: pngBytes(24 * MiB, i + 1) });
    const ids = Array.from({ length: 20 }, (_, i) => `big-${String(i).padStart(2, '0')}`);
    const source = await plainStore(
      ids.map((id, i) => sampleCase({ id, photo: photo(i), createdAt: `2026-03-${String(i + 1).padStart(2, '0')}T10:00:00.000Z` })),
    );
    const progress: number[] = [];
    const t0 = performance.now();
    const { blob, exported, unreadable } = await exportArchive(source, ids, null, { appVersion: 'test', onCase: (done) => progress.push(done) });
    expect(blob.size).toBeGreaterThan(600 * MiB);
    expect([exported, unreadable, progress.at(-1)]).toEqual([20, [], 20]);
    await source.deleteAll();
    const t1 = performance.now();

    const target = await plainStore([]);
    const read: number[] = [];
    const session = await target.beginImport(null, 'big.ndjson');
    const staged = await stageArchive(blob, session, { onBytes: (r) => read.push(r) });
    expect(staged).toEqual({ rejected: [], rejectedCount: 0, staged: 20 });
    expect(read.at(-1)).toBe(blob.size);
    expect(read.length).toBeGreaterThan(20); // progress while reading, not once at the end
    expect((await session.commit(new Set())).added).toHaveLength(20);
    for (const i of [0, 7, 19]) {
      const back = await target.get(ids[i]!, null);
      // Bytes compared natively (a matcher walks a 24 MiB array element by element).
      expect(Buffer.from(back.photo!.bytes).equals(Buffer.from(photo(i).bytes))).toBe(true);
      expect({ ...back, photo: null }).toEqual(sampleCase({ id: ids[i]!, photo: null, createdAt: `2026-03-${String(i + 1).padStart(2, '0')}T10:00:00.000Z` }));
    }
    console.log(`600 MiB archive: ${(blob.size / MiB).toFixed(0)} MiB, export ${(t1 - t0) / 1000} s, import ${(performance.now() - t1) / 1000} s`);
  }, 600_000);

  it(
    'an encrypted export round-trips with its passphrase; nothing identifying is in clear; a wrong or missing passphrase is refused',
    async () => {
      const cases = [
        sampleCase({ id: 'e1', patientRef: 'MRN-48213' }),
        sampleCase({ id: 'e2', patientRef: '王小明', photo: { type: 'image/png', bytes: pngBytes(5000, 3) } }),
      ];
      const source = await plainStore(cases);
      const { blob } = await exportArchive(source, ['e1', 'e2'], null, { appVersion: 'test', passphrase: 'export passphrase' });
      const text = await blob.text();
      expect(text).not.toMatch(/MRN-48213|王小明|Dr\. Lin|cardiology/);
      expect(await readArchiveHeader(blob)).toMatchObject({ format: STREAM_FORMAT, encrypted: true, count: 2 });
      await expect(items(blob)).rejects.toSatisfy((e) => problem(e) === 'needs-passphrase');
      await expect(items(blob, 'not the passphrase')).rejects.toSatisfy((e) => problem(e) === 'wrong-passphrase');
      const target = await plainStore([]);
      const { outcome } = await importInto(target, blob, 'export passphrase');
      expect(outcome.added.sort()).toEqual(['e1', 'e2']);
      expect((await target.all(null)).cases.sort((a, b) => a.id.localeCompare(b.id))).toEqual(cases);
    },
    SLOW,
  );

  it(
    'a file cut short, re-ended or altered is refused, and nothing from it is imported',
    async () => {
      const source = await plainStore([sampleCase({ id: 'a' }), sampleCase({ id: 'b' }), sampleCase({ id: 'c' })]);
      const plain = await (await exportArchive(source, ['a', 'b', 'c'], null, { appVersion: 'test' })).blob.text();
      const lines = plain.trimEnd().split('\n');
      const target = await plainStore([]);
      const cut = new Blob([lines.slice(0, 3).join('\n') + '\n']);
      await expect(importInto(target, cut)).rejects.toSatisfy((e) => problem(e) === 'truncated');
      // Cut mid-line (an interrupted download).
      await expect(importInto(target, new Blob([plain.slice(0, plain.length - 40)]))).rejects.toSatisfy((e) => problem(e) === 'truncated');
      // Cases removed from the middle: the closing count no longer matches.
      await expect(importInto(target, new Blob([[lines[0], lines[1], lines[3], lines[4]].join('\n')]))).rejects.toSatisfy((e) => problem(e) === 'truncated');
      expect(await target.count()).toBe(0);

      // Encrypted: the closing count is sealed, so a cut file cannot be re-ended; an altered case is refused by itself.
      const sealed = (await (await exportArchive(source, ['a', 'b', 'c'], null, { appVersion: 'test', passphrase: 'export passphrase' })).blob.text())
        .trimEnd()
        .split('\n');
      const reEnded = [...sealed.slice(0, 3), JSON.stringify({ end: 2 })].join('\n');
      await expect(importInto(target, new Blob([reEnded]), 'export passphrase')).rejects.toSatisfy((e) => problem(e) === 'truncated');
      const entry = JSON.parse(sealed[2]!);
      entry.sealed.data = entry.sealed.data.replace(/^./, (ch: string) => (ch === 'A' ? 'B' : 'A'));
      const altered = [sealed[0], sealed[1], JSON.stringify(entry), sealed[3], sealed[4]].join('\n');
      const got = await items(new Blob([altered]), 'export passphrase');
      expect(got.map((i) => (i.kind === 'case' ? i.record.id : `rejected ${i.id}: ${i.problems.join('')}`))).toEqual([
        'a',
        'rejected b: damaged or altered: it does not decrypt with this archive’s key',
        'c',
      ]);
      expect(await target.count()).toBe(0);
    },
    SLOW,
  );

  it('refuses foreign files by kind, reads version-1 archives, and refuses bad entries one by one', async () => {
    const kind = async (text: string) => {
      try {
        await items(new Blob([text]));
        return 'accepted';
      } catch (e) {
        return problem(e);
      }
    };
    expect(await kind('not json {')).toBe('not-json');
    expect(await kind('{"format":"facies-model-manifest/1"}')).toBe('not-an-archive');
    expect(await kind('{\n "format": "facies-model-manifest/1"\n}')).toBe('not-an-archive');
    expect(await kind('{"format":"facies-cases/9"}\n')).toBe('newer-format');
    expect(await kind(`{"format":"${STREAM_FORMAT}"}\n{"end":0}\n`)).toBe('no-cases');
    expect(await kind(`{"format":"${STREAM_FORMAT}"}\n` + 'x'.repeat(1000))).toBe('truncated');

    const v1 = JSON.stringify(
      {
        format: ARCHIVE_FORMAT,
        exportedAt: '2026-01-01T00:00:00.000Z',
        app: 'Facies 0.9',
        cases: [caseToJson(sampleCase()), { id: 'bad', result: 'high risk' }],
      },
      null,
      1,
    );
    const old = await items(new Blob([v1]));
    expect(old.map((i) => i.kind)).toEqual(['case', 'rejected']);
    expect(old[0]).toMatchObject({ record: sampleCase() });

    const header = JSON.stringify({ format: STREAM_FORMAT, exportedAt: '2026-01-01T00:00:00.000Z', app: 'x', count: 4, encryption: null });
    const good = JSON.stringify({ case: caseToJson(sampleCase()) });
    const file = [header, good, '{"case":{"id":"x2","result":"high risk"}}', 'garbage', good, '{"end":4}'].join('\n');
    const got = await items(new Blob([file]));
    expect(got.map((i) => (i.kind === 'case' ? 'case' : i.problems.join('; ')))).toEqual([
      'case',
      expect.stringMatching(/result/),
      'this line is not JSON (damaged)',
      'the same case id appears twice in the file',
    ]);
  });

  it(
    'a damaged case is left out of an export and named; the others are exported',
    async () => {
      const name = freshName();
      const store = new CaseStore(name);
      await store.chooseNoEncryption();
      const key = await store.enableEncryption('device passphrase');
      await store.add(sampleCase({ id: 'fine' }), key);
      await store.add(sampleCase({ id: 'damaged' }), key);
      const db = await openRecordsDb({ name });
      const raw = (await db.get('cases', 'damaged'))!;
      raw.sealed!.data[raw.sealed!.data.length - 1]! ^= 1;
      await db.put('cases', raw);
      db.close();
      const out = await exportArchive(store, ['fine', 'damaged'], key, { appVersion: 't' });
      expect([out.exported, out.unreadable]).toEqual([1, ['damaged']]);
      expect((await items(out.blob)).map((i) => i.kind === 'case' && i.record.id)).toEqual(['fine']);
    },
    SLOW,
  );

  it(
    'the copies an import replaced follow a passphrase change (still restorable afterwards)',
    async () => {
      const store = new CaseStore(freshName());
      await store.chooseNoEncryption();
      const key = await store.enableEncryption('passphrase one');
      await store.add(sampleCase({ id: 'a', notes: 'mine' }), key);
      const session = await store.beginImport(key, 'f');
      await session.stage(sampleCase({ id: 'a', notes: 'theirs', updatedAt: '2026-05-01T00:00:00.000Z' }));
      expect((await session.commit(new Set(['a']))).replaced).toEqual(['a']);
      const key2 = await store.changePassphrase('passphrase one', 'passphrase two');
      const [kept] = await store.replacedVersions(key2);
      expect(kept!.record?.notes).toBe('mine');
      await store.restoreReplaced(kept!.key);
      expect((await store.get('a', key2)).notes).toBe('mine');
    },
    SLOW,
  );
});
