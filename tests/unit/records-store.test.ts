import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { openDB } from 'idb';
import { CaseStore, StoreError } from '../../src/records/store';
import { DB_VERSION, NewerDatabaseError, UPGRADES, openRecordsDb } from '../../src/records/db';
import {
  KDF,
  MIN_PASSPHRASE_LENGTH,
  WrongPassphraseError,
  createKey,
  newPassphraseProblem,
  openCase,
  rekey,
  sealCase,
  unlockKey,
} from '../../src/records/crypto';
import { pngBytes, sampleCase } from './records-fixtures';

// PBKDF2 with 600,000 iterations takes about a second per passphrase on a busy 2-core machine.
const SLOW = 60_000;

let n = 0;
const freshName = () => `records-test-${++n}`;

/** True when `needle` occurs in `hay` as a contiguous byte run. */
function containsBytes(hay: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

describe('new passphrase rules', () => {
  it('refuses a short passphrase, then a confirmation that differs, and accepts a good one', () => {
    expect(newPassphraseProblem('short', 'short')).toEqual({ key: 'setup.tooShort', values: { count: MIN_PASSPHRASE_LENGTH } });
    expect(newPassphraseProblem('long enough', 'long enougH')).toEqual({ key: 'setup.mismatch' });
    expect(newPassphraseProblem('long enough', 'long enough')).toBeNull();
  });
});

describe('encryption', () => {
  it(
    'uses PBKDF2-SHA-256 with at least 600,000 iterations; seals and opens a case; refuses a wrong passphrase',
    async () => {
      const { envelope, key } = await createKey('correct horse battery');
      expect(envelope.kdf).toBe('PBKDF2-SHA-256');
      expect(envelope.iterations).toBeGreaterThanOrEqual(600_000);
      expect(envelope.salt).toHaveLength(KDF.saltBytes);
      const c = sampleCase({ photo: { type: 'image/jpeg', bytes: pngBytes(4000, 11) } });
      const sealed = await sealCase(c, key);
      const text = new TextDecoder('latin1').decode(sealed.data);
      expect(text).not.toContain('MRN-48213');
      expect(containsBytes(sealed.data, c.crop!.subarray(8, 40))).toBe(false);
      expect(await openCase(c.id, sealed, await unlockKey(envelope, 'correct horse battery'))).toEqual(c);
      await expect(unlockKey(envelope, 'wrong horse battery')).rejects.toBeInstanceOf(WrongPassphraseError);
      // A sealed case moved under another id does not open.
      await expect(openCase('case-9999', sealed, key)).rejects.toThrow();
    },
    SLOW,
  );
});

describe('case store', () => {
  it('requires the first-run encryption choice before saving; saves, lists, edits, deletes', async () => {
    const store = new CaseStore(freshName());
    await expect(store.add(sampleCase(), null)).rejects.toMatchObject({ code: 'encryption-changed' });
    await store.chooseNoEncryption();
    await store.add(sampleCase(), null);
    await store.add(sampleCase({ id: 'case-0002', createdAt: '2026-03-05T10:00:00.000Z', updatedAt: '2026-03-05T10:00:00.000Z' }), null);
    await expect(store.add(sampleCase(), null)).rejects.toMatchObject({ code: 'exists' });
    const { cases } = await store.all(null);
    expect(cases.map((c) => c.id)).toEqual(['case-0002', 'case-0001']);
    const edited = { ...cases[1]!, notes: 'Seen again', updatedAt: '2026-04-01T00:00:00.000Z' };
    await store.update(edited, '2026-03-04T10:20:30.000Z', null);
    expect((await store.get('case-0001', null)).notes).toBe('Seen again');
    await store.delete('case-0001');
    expect(await store.count()).toBe(1);
    await store.deleteAll();
    expect(await store.count()).toBe(0);
    expect((await store.encryption())?.mode).toBe('none');
  });

  it('two tabs editing the same case: the second save is refused as a conflict, nothing is overwritten', async () => {
    const name = freshName();
    const tabA = new CaseStore(name);
    const tabB = new CaseStore(name);
    await tabA.chooseNoEncryption();
    await tabA.add(sampleCase(), null);
    const a = await tabA.get('case-0001', null);
    const b = await tabB.get('case-0001', null);
    await tabA.update({ ...a, notes: 'from A', updatedAt: '2026-04-01T00:00:00.000Z' }, a.updatedAt, null);
    await expect(tabB.update({ ...b, notes: 'from B', updatedAt: '2026-04-01T00:00:01.000Z' }, b.updatedAt, null)).rejects.toMatchObject({ code: 'conflict' });
    expect((await tabB.get('case-0001', null)).notes).toBe('from A');
  });

  it(
    'with encryption: nothing identifying in clear, locked reads refused, wrong passphrase changes nothing, passphrase change keeps every case',
    async () => {
      const store = new CaseStore(freshName());
      await store.chooseNoEncryption();
      await store.add(sampleCase({ id: 'before' }), null); // saved in clear, then sealed when encryption is turned on
      const key = await store.enableEncryption('first passphrase');
      await store.add(sampleCase({ id: 'after', photo: { type: 'image/jpeg', bytes: pngBytes(3000, 9) } }), key);
      for (const s of await store.raw()) {
        expect(s.plain).toBeUndefined();
        const bytes = s.sealed!.data;
        expect(new TextDecoder('latin1').decode(bytes)).not.toMatch(/MRN-48213|Dr\. Lin|cardiology/);
        expect(containsBytes(bytes, pngBytes().subarray(8, 40))).toBe(false);
      }
      await expect(store.all(null)).rejects.toMatchObject({ code: 'locked' });
      await expect(store.add(sampleCase({ id: 'x' }), null)).rejects.toMatchObject({ code: 'locked' });

      const rawBefore = await store.raw();
      await expect(store.unlock('not the passphrase')).rejects.toBeInstanceOf(WrongPassphraseError);
      await expect(store.changePassphrase('not the passphrase', 'x'.repeat(10))).rejects.toBeInstanceOf(WrongPassphraseError);
      expect(await store.raw()).toEqual(rawBefore);

      const keyIdsBefore = (await store.raw()).map((c) => c.sealed!.keyId);
      await store.changePassphrase('first passphrase', 'second passphrase');
      // Re-encrypted: every case now sealed with a new data key; the old key is gone from the database.
      const after = await store.raw();
      expect(after.map((c) => c.sealed!.keyId).every((k) => !keyIdsBefore.includes(k))).toBe(true);
      const setting = await store.encryption();
      expect(setting?.mode === 'passphrase' && setting.previous).toBeUndefined();
      await expect(store.unlock('first passphrase')).rejects.toBeInstanceOf(WrongPassphraseError);
      const key2 = await store.unlock('second passphrase');
      const { cases, unreadable } = await store.all(key2);
      expect(unreadable).toEqual([]);
      expect(cases.map((c) => c.id).sort()).toEqual(['after', 'before']);
      expect(cases.find((c) => c.id === 'before')).toEqual(sampleCase({ id: 'before' }));
    },
    SLOW,
  );

  it(
    'an interrupted encryption of existing cases is finished at the next unlock',
    async () => {
      const name = freshName();
      const store = new CaseStore(name);
      await store.chooseNoEncryption();
      await store.add(sampleCase({ id: 'a' }), null);
      // Simulate the interruption: the key is stored but the case is still in clear.
      const { envelope } = await createKey('passphrase one');
      const db = await openRecordsDb({ name });
      await db.put('meta', { mode: 'passphrase', envelope }, 'encryption');
      db.close();
      expect((await store.raw())[0]!.plain).toBeDefined();
      const key = await store.unlock('passphrase one');
      expect((await store.raw())[0]!.plain).toBeUndefined();
      expect((await store.get('a', key)).patientRef).toBe('MRN-48213');
    },
    SLOW,
  );

  it(
    'a passphrase change interrupted after its first step: the new passphrase opens every case and the next unlock finishes',
    async () => {
      const name = freshName();
      const store = new CaseStore(name);
      await store.chooseNoEncryption();
      const key = await store.enableEncryption('old passphrase');
      await store.add(sampleCase({ id: 'a' }), key);
      await store.add(sampleCase({ id: 'b', patientRef: 'MRN-2' }), key);
      // Step 1 of a change done, then the tab was closed: no case re-sealed yet.
      const setting = await store.encryption();
      if (setting?.mode !== 'passphrase') throw new Error('expected encryption');
      const changed = await rekey(setting.envelope, 'old passphrase', 'new passphrase');
      const db = await openRecordsDb({ name });
      await db.put('meta', { mode: 'passphrase', envelope: changed.envelope, previous: changed.previous }, 'encryption');
      db.close();
      await expect(store.unlock('old passphrase')).rejects.toBeInstanceOf(WrongPassphraseError);
      const unlocked = await store.unlock('new passphrase');
      expect((await store.all(unlocked)).cases.map((c) => c.patientRef).sort()).toEqual(['MRN-2', 'MRN-48213']);
      expect((await store.raw()).every((c) => c.sealed!.keyId === changed.envelope.keyId)).toBe(true);
      const done = await store.encryption();
      expect(done?.mode === 'passphrase' && done.previous).toBeUndefined();
    },
    SLOW,
  );

  it(
    'a damaged case does not block passphrase changes: it keeps its key, is listed unreadable, the other cases move on',
    async () => {
      const name = freshName();
      const store = new CaseStore(name);
      await store.chooseNoEncryption();
      const key = await store.enableEncryption('passphrase one');
      await store.add(sampleCase({ id: 'good' }), key);
      await store.add(sampleCase({ id: 'bad' }), key);
      // One sealed case damaged on disk (a flipped byte in its ciphertext).
      const db = await openRecordsDb({ name });
      const bad = (await db.get('cases', 'bad'))!;
      const data = new Uint8Array(bad.sealed!.data);
      data[data.length - 5]! ^= 0xff;
      await db.put('cases', { ...bad, sealed: { ...bad.sealed!, data } });
      db.close();

      const first = await store.changePassphrase('passphrase one', 'passphrase two');
      expect(await store.unreadableCases(first)).toEqual([{ id: 'bad', reason: 'damaged' }]);
      const setting = await store.encryption();
      expect(setting?.mode === 'passphrase' && setting.previous?.keyId).toBe(bad.sealed!.keyId);
      // Before: refused as 'encryption-changed' for as long as the damaged case existed.
      const second = await store.changePassphrase('passphrase two', 'passphrase three');
      await expect(store.unlock('passphrase two')).rejects.toBeInstanceOf(WrongPassphraseError);
      const key3 = await store.unlock('passphrase three');
      const { cases, unreadable } = await store.all(key3);
      expect(cases.map((c) => c.id)).toEqual(['good']);
      expect(unreadable).toEqual(['bad']);
      expect(await store.unreadableCases(second)).toEqual([{ id: 'bad', reason: 'damaged' }]);
      // The damaged case is kept as it was, under the key it was sealed with.
      expect((await store.raw()).find((c) => c.id === 'bad')!.sealed!.keyId).toBe(bad.sealed!.keyId);
    },
    SLOW,
  );

  it('import: staged then committed in one go; duplicates skipped or replaced as chosen, the replaced copy kept and restorable', async () => {
    const name = freshName();
    const store = new CaseStore(name);
    await store.chooseNoEncryption();
    await store.add(sampleCase({ id: 'a', notes: 'here' }), null);
    const newer = sampleCase({ id: 'a', notes: 'imported', updatedAt: '2026-06-01T00:00:00.000Z' });
    const run = async (records: ReturnType<typeof sampleCase>[], choice: 'skip' | 'newer') => {
      const session = await store.beginImport(null, 'cases.ndjson');
      for (const r of records) await session.stage(r);
      return session.commit(session.defaultReplacements(choice));
    };
    const session = await store.beginImport(null, 'cases.ndjson');
    await session.stage(newer);
    await session.stage(sampleCase({ id: 'b' }));
    // Staged, not yet imported: nothing changed in the records.
    expect(await store.count()).toBe(1);
    expect(session.conflicts.map((c) => [c.id, c.newer, c.differences?.map((d) => d.field)])).toEqual([['a', 'file', ['notes']]]);
    expect(await session.commit(session.defaultReplacements('skip'))).toEqual({ added: ['b'], replaced: [], skipped: ['a'] });
    expect((await store.get('a', null)).notes).toBe('here');
    expect(await run([newer, sampleCase({ id: 'b' })], 'newer')).toEqual({ added: [], replaced: ['a'], skipped: ['b'] });
    expect((await store.get('a', null)).notes).toBe('imported');
    // The copy that was here is kept, and can be put back (the imported one is kept in its turn).
    const [kept] = await store.replacedVersions(null);
    expect(kept).toMatchObject({ id: 'a', source: 'cases.ndjson', record: { notes: 'here' } });
    // Restored in the same millisecond as the replacement (as a fast machine does): the new copy keeps its key.
    await store.restoreReplaced(kept!.key, new Date(kept!.replacedAt));
    expect((await store.get('a', null)).notes).toBe('here');
    expect((await store.replacedVersions(null)).map((v) => [v.source, v.record?.notes])).toEqual([['restore', 'imported']]);
    // Discarded: nothing written, no staged rows left behind.
    const dropped = await store.beginImport(null, 'x');
    await dropped.stage(sampleCase({ id: 'c' }));
    await dropped.discard();
    expect((await store.all(null)).cases.map((c) => c.id).sort()).toEqual(['a', 'b']);
    const db = await openRecordsDb({ name });
    expect(await db.count('staging')).toBe(0);
    db.close();
  });

  it('import: a case saved here after it was compared is not overwritten; the same id twice in one file is refused', async () => {
    const store = new CaseStore(freshName());
    await store.chooseNoEncryption();
    await store.add(sampleCase({ id: 'a' }), null);
    const session = await store.beginImport(null, 'f');
    await session.stage(sampleCase({ id: 'a', notes: 'file', updatedAt: '2026-06-01T00:00:00.000Z' }));
    await expect(session.stage(sampleCase({ id: 'a' }))).rejects.toMatchObject({ code: 'exists' });
    const here = await store.get('a', null);
    await store.update({ ...here, notes: 'edited meanwhile', updatedAt: '2026-07-01T00:00:00.000Z' }, here.updatedAt, null);
    expect(await session.commit(new Set(['a']))).toEqual({ added: [], replaced: [], skipped: ['a'] });
    expect((await store.get('a', null)).notes).toBe('edited meanwhile');
  });

  it('a storage-full error is reported as such and leaves nothing half-written', async () => {
    const store = new CaseStore(freshName());
    await store.chooseNoEncryption();
    // Every add fails the way a full disk does, after the transaction has started.
    const proto = globalThis.IDBObjectStore.prototype;
    // eslint-disable-next-line @typescript-eslint/unbound-method -- called below with apply(this, …)
    const realAdd = proto.add;
    let calls = 0;
    proto.add = function (this: IDBObjectStore, ...args: Parameters<IDBObjectStore['add']>) {
      // The first case is written; the disk fills on the second.
      if (++calls === 2) throw new DOMException('disk full', 'QuotaExceededError');
      return realAdd.apply(this, args);
    };
    const session = await store.beginImport(null, 'f');
    await session.stage(sampleCase({ id: 'q1' }));
    await session.stage(sampleCase({ id: 'q2' }));
    const err = await session.commit(new Set()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).code).toBe('quota');
    proto.add = realAdd;
    expect(await store.count()).toBe(0);
  });
});

describe('schema versions', () => {
  it('upgrades a database from every earlier version, keeping its data', async () => {
    for (let from = 0; from < DB_VERSION; from++) {
      const name = freshName();
      if (from > 0) {
        const old = await openDB(name, from, { upgrade: (db, o, nv, tx) => UPGRADES.slice(0, from).forEach((u) => u(db as never, tx as never)) });
        if (old.objectStoreNames.contains('cases'))
          await old.put('cases', {
            id: 'kept',
            createdAt: '2026-01-01T00:00:00.000Z',
            updatedAt: '2026-01-01T00:00:00.000Z',
            plain: sampleCase({ id: 'kept' }),
          });
        if (old.objectStoreNames.contains('meta')) await old.put('meta', { mode: 'none' }, 'encryption');
        old.close();
      }
      const db = await openRecordsDb({ name });
      expect(db.version).toBe(DB_VERSION);
      expect([...db.objectStoreNames].sort()).toEqual(['cases', 'meta', 'replaced', 'staging']);
      if (from > 0) expect((await new CaseStore(name).get('kept', null)).id).toBe('kept');
      db.close();
    }
  });

  it('a database from a newer Facies is refused clearly, not damaged', async () => {
    const name = freshName();
    (await openDB(name, DB_VERSION + 1, { upgrade: (db) => void db.createObjectStore('future') })).close();
    await expect(openRecordsDb({ name })).rejects.toBeInstanceOf(NewerDatabaseError);
  });

  it('closes its connection when another tab upgrades or deletes the database (erase all data is never blocked)', async () => {
    const name = freshName();
    const store = new CaseStore(name);
    await store.chooseNoEncryption();
    await store.add(sampleCase(), null);
    let blocked = false;
    await new Promise<void>((resolve, reject) => {
      const req = indexedDB.deleteDatabase(name);
      req.onblocked = () => (blocked = true);
      req.onsuccess = () => resolve();
      req.onerror = () => reject(req.error ?? new Error('IndexedDB request failed'));
    });
    expect(blocked).toBe(false);
    // The store reopens on next use: an empty database, with no encryption choice yet.
    expect(await store.count()).toBe(0);
    expect(await store.encryption()).toBeUndefined();
  });
});
