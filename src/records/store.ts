// The case store: the one owner of the records database. Every write is a single IndexedDB transaction, so a
// failure (storage full, tab closed) leaves either the old case or the new one, never half of either.
import type { IDBPDatabase } from 'idb';
import { type CaseRecord, validateCaseRecord } from './case-record';
import { type DataKey, createKey, openCase, rekey, rewrap, sealCase, unlockKey } from './crypto';
import { type Conflict, type DuplicateChoice, describeConflict, replacedByDefault } from './conflicts';
import { DB_NAME, type EncryptionSetting, type RecordsSchema, type StagedCase, type StoredCase, openRecordsDb } from './db';

export type StoreErrorCode = 'quota' | 'conflict' | 'exists' | 'locked' | 'not-found' | 'encryption-changed';

export class StoreError extends Error {
  constructor(
    readonly code: StoreErrorCode,
    detail = '',
  ) {
    super(detail || code);
    this.name = 'StoreError';
  }
}

/** Storage-full errors come as QuotaExceededError (Chromium, Safari) or NS_ERROR_DOM_QUOTA_REACHED (Firefox). */
function translate(e: unknown): Error {
  const name = (e as DOMException | null)?.name ?? '';
  if (name === 'QuotaExceededError' || name === 'NS_ERROR_DOM_QUOTA_REACHED') return new StoreError('quota', (e as Error).message);
  return e instanceof Error ? e : new Error(String(e));
}

export interface ReadResult {
  cases: CaseRecord[];
  /** Cases that could not be read (sealed with another key, or damaged): listed, never deleted. */
  unreadable: string[];
}

/** A case that could not be opened or re-sealed, and why (for the clinician, by case id). */
export interface UnreadableCase {
  id: string;
  reason: 'damaged' | 'other-key';
}

export interface ImportOutcome {
  added: string[];
  /** Replaced by the file's copy; the copy that was here is kept (`replacedVersions`). */
  replaced: string[];
  skipped: string[];
}

/** A copy an import (or a restore) replaced, as listed for the clinician. */
export interface ReplacedVersion {
  key: string;
  id: string;
  replacedAt: string;
  source: string;
  /** Null when it cannot be read (damaged). */
  record: CaseRecord | null;
}

/** Staged rows of an import that never finished (tab closed mid-file) are cleared after this long. */
const STALE_STAGING_MS = 60 * 60_000;

export class CaseStore {
  private db: Promise<IDBPDatabase<RecordsSchema>> | null = null;

  constructor(private readonly name = DB_NAME) {}

  /** The connection, reopened after another tab upgraded or erased the database. */
  private conn(): Promise<IDBPDatabase<RecordsSchema>> {
    if (!this.db) {
      const opening = openRecordsDb({ name: this.name, onClosed: () => (this.db === opening ? (this.db = null) : undefined) });
      this.db = opening;
      opening.catch(() => (this.db === opening ? (this.db = null) : undefined));
    }
    return this.db;
  }

  async close(): Promise<void> {
    const db = this.db;
    this.db = null;
    if (db) (await db).close();
  }

  async encryption(): Promise<EncryptionSetting | undefined> {
    return (await this.conn()).get('meta', 'encryption');
  }

  /** First-run choice: keep records without encryption. */
  async chooseNoEncryption(): Promise<void> {
    const db = await this.conn();
    const tx = db.transaction('meta', 'readwrite');
    if (await tx.store.get('encryption')) throw new StoreError('encryption-changed');
    await tx.store.put({ mode: 'none' }, 'encryption');
    await tx.done;
  }

  /**
   * Turns encryption on: stores the wrapped key, then seals the cases already saved in clear, one transaction each.
   * An interruption leaves some cases in clear; the next unlock finishes the job.
   */
  async enableEncryption(passphrase: string): Promise<DataKey> {
    const { envelope, key } = await createKey(passphrase);
    const db = await this.conn();
    const tx = db.transaction('meta', 'readwrite');
    if ((await tx.store.get('encryption'))?.mode === 'passphrase') throw new StoreError('encryption-changed');
    await tx.store.put({ mode: 'passphrase', envelope }, 'encryption');
    await tx.done.catch((e) => Promise.reject(translate(e)));
    return this.finishSealing(key);
  }

  /** Unlocks with the passphrase, and finishes an interrupted encryption or passphrase change. */
  async unlock(passphrase: string): Promise<DataKey> {
    const setting = await this.encryption();
    if (setting?.mode !== 'passphrase') throw new StoreError('encryption-changed');
    return this.finishSealing(await unlockKey(setting.envelope, passphrase, setting.previous));
  }

  /**
   * Changes the passphrase: a new data key, and every case re-sealed with it. Steps, each atomic: (1) store the new key
   * and the old one, both under the new passphrase; (2) re-seal the cases one by one; (3) drop the old key.
   * Interrupted after (1), the new passphrase opens everything and the next unlock finishes (2) and (3);
   * before (1), nothing has changed.
   */
  async changePassphrase(current: string, next: string): Promise<DataKey> {
    // A change that was interrupted is finished first (this also checks the current passphrase).
    const unlocked = await this.unlock(current);
    const setting = await this.encryption();
    if (setting?.mode !== 'passphrase' || setting.envelope.keyId !== unlocked.keyId) throw new StoreError('encryption-changed');
    const db = await this.conn();
    if (setting.previous) {
      // Some case could not be re-sealed last time (it is damaged): the previous key is kept for it. The change is
      // still made, by wrapping both keys under the new passphrase; the case stays listed as unreadable.
      const wrapped = await rewrap(setting.envelope, setting.previous, current, next);
      const tx = db.transaction('meta', 'readwrite');
      const now = await tx.store.get('encryption');
      if (now?.mode !== 'passphrase' || now.envelope.keyId !== setting.envelope.keyId || now.previous?.keyId !== setting.previous.keyId)
        throw new StoreError('encryption-changed');
      await tx.store.put({ mode: 'passphrase', ...wrapped }, 'encryption');
      await tx.done.catch((e) => Promise.reject(translate(e)));
      return unlocked;
    }
    const { envelope, previous, key } = await rekey(setting.envelope, current, next);
    const tx = db.transaction('meta', 'readwrite');
    const now = await tx.store.get('encryption');
    if (now?.mode !== 'passphrase' || now.envelope.keyId !== setting.envelope.keyId || now.previous) throw new StoreError('encryption-changed');
    await tx.store.put({ mode: 'passphrase', envelope, previous }, 'encryption');
    await tx.done.catch((e) => Promise.reject(translate(e)));
    return this.finishSealing(key);
  }

  /** The cases that cannot be opened with this key, and why: listed for the clinician, never deleted. */
  async unreadableCases(key: DataKey | null): Promise<UnreadableCase[]> {
    const out: UnreadableCase[] = [];
    for (const stored of await (await this.conn()).getAll('cases')) {
      try {
        await this.decode(stored, key);
      } catch (e) {
        if (e instanceof StoreError && e.code === 'locked') throw e;
        const known = !stored.sealed || stored.sealed.keyId === key?.keyId || stored.sealed.keyId === key?.previous?.keyId;
        out.push({ id: stored.id, reason: known ? 'damaged' : 'other-key' });
      }
    }
    return out;
  }

  /**
   * Seals every case still in clear and re-seals every case still under the previous data key, one transaction each,
   * then forgets the previous key. Returns the key without it.
   */
  private async finishSealing(key: DataKey): Promise<DataKey> {
    const db = await this.conn();
    let complete = true;
    for (const id of await db.getAllKeys('cases')) {
      const stored = await db.get('cases', id);
      if (!stored || (!stored.plain && stored.sealed?.keyId === key.keyId)) continue;
      let record: CaseRecord;
      try {
        record = await this.decode(stored, key);
      } catch {
        // Damaged: left as it is (the history lists it as unreadable), and the previous key is kept for it.
        complete = false;
        continue;
      }
      const next: StoredCase = { id, createdAt: stored.createdAt, updatedAt: stored.updatedAt, sealed: await sealCase(record, key) };
      const tx = db.transaction('cases', 'readwrite');
      const now = await tx.store.get(id);
      // Changed meanwhile (another tab saved it, sealed with the new key): leave it.
      if (now && now.updatedAt === stored.updatedAt && (now.plain || now.sealed?.keyId !== key.keyId)) await tx.store.put(next);
      await tx.done.catch((e) => Promise.reject(translate(e)));
    }
    // The copies imports replaced follow the same key, or they could not be restored after the change.
    for (const entryKey of await db.getAllKeys('replaced')) {
      const entry = await db.get('replaced', entryKey);
      if (!entry || (!entry.stored.plain && entry.stored.sealed?.keyId === key.keyId)) continue;
      let record: CaseRecord;
      try {
        record = await this.decode(entry.stored, key);
      } catch {
        complete = false;
        continue;
      }
      const sealed = await sealCase(record, key);
      const tx = db.transaction('replaced', 'readwrite');
      if (await tx.store.getKey(entryKey))
        await tx.store.put({ ...entry, stored: { id: entry.id, createdAt: entry.stored.createdAt, updatedAt: entry.stored.updatedAt, sealed } });
      await tx.done.catch((e) => Promise.reject(translate(e)));
    }
    if (!key.previous || !complete) return key;
    const tx = db.transaction('meta', 'readwrite');
    const now = await tx.store.get('encryption');
    if (now?.mode === 'passphrase' && now.envelope.keyId === key.keyId && now.previous)
      await tx.store.put({ mode: 'passphrase', envelope: now.envelope }, 'encryption');
    await tx.done.catch((e) => Promise.reject(translate(e)));
    return { keyId: key.keyId, key: key.key };
  }

  private async encode(record: CaseRecord, key: DataKey | null): Promise<{ stored: StoredCase; setting: EncryptionSetting | undefined }> {
    const setting = await this.encryption();
    const base = { id: record.id, createdAt: record.createdAt, updatedAt: record.updatedAt };
    // No setting: first run not answered yet, or the data was erased from another screen or tab.
    if (!setting) throw new StoreError('encryption-changed');
    if (setting.mode === 'passphrase') {
      if (!key) throw new StoreError('locked');
      if (key.keyId !== setting.envelope.keyId) throw new StoreError('encryption-changed');
      return { stored: { ...base, sealed: await sealCase(record, key) }, setting };
    }
    return { stored: { ...base, plain: record }, setting };
  }

  private async decode(stored: StoredCase, key: DataKey | null): Promise<CaseRecord> {
    if (stored.plain) return validateCaseRecord(stored.plain);
    if (!stored.sealed) throw new Error(`case ${stored.id} is empty`);
    if (!key) throw new StoreError('locked');
    return openCase(stored.id, stored.sealed, key);
  }

  /** Every case, newest first. */
  async all(key: DataKey | null): Promise<ReadResult> {
    const stored = await (await this.conn()).getAllFromIndex('cases', 'createdAt');
    const cases: CaseRecord[] = [];
    const unreadable: string[] = [];
    for (const s of stored.reverse()) {
      try {
        cases.push(await this.decode(s, key));
      } catch (e) {
        if (e instanceof StoreError && e.code === 'locked') throw e;
        unreadable.push(s.id);
      }
    }
    return { cases, unreadable };
  }

  async get(id: string, key: DataKey | null): Promise<CaseRecord> {
    const stored = await (await this.conn()).get('cases', id);
    if (!stored) throw new StoreError('not-found', id);
    return this.decode(stored, key);
  }

  async count(): Promise<number> {
    return (await this.conn()).count('cases');
  }

  /** Saves a new case; refuses to overwrite one with the same id. */
  async add(record: CaseRecord, key: DataKey | null): Promise<void> {
    const { stored, setting } = await this.encode(validateCaseRecord(record), key);
    const db = await this.conn();
    const tx = db.transaction(['cases', 'meta'], 'readwrite');
    try {
      if (!sameSetting(setting, await tx.objectStore('meta').get('encryption'))) throw new StoreError('encryption-changed');
      if (await tx.objectStore('cases').getKey(record.id)) throw new StoreError('exists', record.id);
      await tx.objectStore('cases').add(stored);
      await tx.done;
    } catch (e) {
      abort(tx);
      throw translate(e);
    }
  }

  /**
   * Saves an edited case. `expectedUpdatedAt` is the version the clinician edited: if another tab saved the case
   * since, nothing is written and 'conflict' is reported.
   */
  async update(record: CaseRecord, expectedUpdatedAt: string, key: DataKey | null): Promise<void> {
    const { stored, setting } = await this.encode(validateCaseRecord(record), key);
    const db = await this.conn();
    const tx = db.transaction(['cases', 'meta'], 'readwrite');
    try {
      if (!sameSetting(setting, await tx.objectStore('meta').get('encryption'))) throw new StoreError('encryption-changed');
      const now = await tx.objectStore('cases').get(record.id);
      if (!now) throw new StoreError('not-found', record.id);
      if (now.updatedAt !== expectedUpdatedAt) throw new StoreError('conflict', record.id);
      await tx.objectStore('cases').put(stored);
      await tx.done;
    } catch (e) {
      abort(tx);
      throw translate(e);
    }
  }

  async delete(id: string): Promise<void> {
    await (await this.conn()).delete('cases', id);
  }

  /** Deletes every case, readable or not, and the copies imports replaced; the encryption setting stays. */
  async deleteAll(): Promise<void> {
    const db = await this.conn();
    const tx = db.transaction(['cases', 'replaced'], 'readwrite');
    await Promise.all([tx.objectStore('cases').clear(), tx.objectStore('replaced').clear(), tx.done]);
  }

  /**
   * Starts an import: cases are staged one at a time as the file is read (sealed with `key` when encryption is on),
   * then `commit` moves them all in one transaction, or `discard` drops them. Nothing reaches the records before.
   */
  async beginImport(key: DataKey | null, source: string): Promise<ImportSession> {
    const setting = await this.encryption();
    if (!setting) throw new StoreError('encryption-changed');
    if (setting.mode === 'passphrase' && !key) throw new StoreError('locked');
    const db = await this.conn();
    // Rows left by an import whose tab was closed mid-file.
    const tx = db.transaction('staging', 'readwrite');
    for (let c = await tx.store.openCursor(); c; c = await c.continue()) if (c.value.stagedAt < Date.now() - STALE_STAGING_MS) await c.delete();
    await tx.done;
    return new ImportSession(this, db, crypto.randomUUID(), key, setting, source.slice(0, 200));
  }

  /** @internal for ImportSession */
  encodeFor(record: CaseRecord, key: DataKey | null) {
    return this.encode(validateCaseRecord(record), key);
  }

  /** @internal for ImportSession: the case here with this id, decoded (null when unreadable), or undefined. */
  async localCopy(id: string, key: DataKey | null): Promise<{ stored: StoredCase; record: CaseRecord | null } | undefined> {
    const stored = await (await this.conn()).get('cases', id);
    if (!stored) return undefined;
    try {
      return { stored, record: await this.decode(stored, key) };
    } catch (e) {
      if (e instanceof StoreError && e.code === 'locked') throw e;
      return { stored, record: null };
    }
  }

  /** The given cases, one at a time and in this order (an export never holds them all); unreadable ones are reported. */
  async *records(ids: readonly string[], key: DataKey | null, onUnreadable: (id: string) => void): AsyncGenerator<CaseRecord> {
    for (const id of ids) {
      const stored = await (await this.conn()).get('cases', id);
      if (!stored) continue;
      let record: CaseRecord;
      try {
        record = await this.decode(stored, key);
      } catch (e) {
        if (e instanceof StoreError && e.code === 'locked') throw e;
        onUnreadable(id);
        continue;
      }
      yield record;
    }
  }

  /** Copies of cases that imports or restores replaced, newest first. */
  async replacedVersions(key: DataKey | null): Promise<ReplacedVersion[]> {
    const out: ReplacedVersion[] = [];
    for (const e of await (await this.conn()).getAll('replaced')) {
      let record: CaseRecord | null = null;
      try {
        record = await this.decode(e.stored, key);
      } catch (err) {
        if (err instanceof StoreError && err.code === 'locked') throw err;
      }
      out.push({ key: e.key, id: e.id, replacedAt: e.replacedAt, source: e.source, record });
    }
    return out.sort((a, b) => Date.parse(b.replacedAt) - Date.parse(a.replacedAt));
  }

  /** Puts a replaced copy back; the case it replaces is kept in its turn. One transaction. */
  async restoreReplaced(entryKey: string, now = new Date()): Promise<void> {
    const db = await this.conn();
    const tx = db.transaction(['cases', 'replaced'], 'readwrite');
    try {
      const entry = await tx.objectStore('replaced').get(entryKey);
      if (!entry) throw new StoreError('not-found', entryKey);
      const current = await tx.objectStore('cases').get(entry.id);
      // Deleted first: a restore in the same millisecond as the replacement gives the copy it keeps the same key.
      await tx.objectStore('replaced').delete(entryKey);
      if (current)
        await tx
          .objectStore('replaced')
          .put({ key: `${entry.id}@${now.toISOString()}`, id: entry.id, replacedAt: now.toISOString(), source: 'restore', stored: current });
      await tx.objectStore('cases').put(entry.stored);
      await tx.done;
    } catch (e) {
      abort(tx);
      throw translate(e);
    }
  }

  async forgetReplaced(entryKey: string): Promise<void> {
    await (await this.conn()).delete('replaced', entryKey);
  }

  async replacedCount(): Promise<number> {
    return (await this.conn()).count('replaced');
  }

  /** What the database holds, as stored (tests and the storage report read it). */
  async raw(): Promise<StoredCase[]> {
    return (await this.conn()).getAll('cases');
  }
}

/** The encryption setting must not have changed (another tab) between encoding a case and writing it. */
function sameSetting(a: EncryptionSetting | undefined, b: EncryptionSetting | undefined): boolean {
  return (a?.mode ?? 'none') === (b?.mode ?? 'none') && (a?.mode !== 'passphrase' || (b?.mode === 'passphrase' && a.envelope.keyId === b.envelope.keyId));
}

function abort(tx: { abort(): void; done: Promise<void> }) {
  tx.done.catch(() => undefined);
  try {
    tx.abort();
  } catch {
    /* already finished or aborted */
  }
}

/**
 * One import in progress. `stage` each case as the file is read (it learns which ids are here already and how they
 * differ), then `commit` once the whole file has been read, or `discard`.
 */
export class ImportSession {
  readonly conflicts: Conflict[] = [];
  /** Cases here already, identical to the file's copy. */
  readonly identical: string[] = [];
  private staged = new Set<string>();
  private fresh = 0;

  constructor(
    private readonly store: CaseStore,
    private readonly db: IDBPDatabase<RecordsSchema>,
    readonly importId: string,
    private readonly key: DataKey | null,
    private readonly setting: EncryptionSetting,
    private readonly source: string,
  ) {}

  /** Cases in the file that are not here yet. */
  get newCount() {
    return this.fresh;
  }

  async stage(record: CaseRecord, now = Date.now()): Promise<void> {
    if (this.staged.has(record.id)) throw new StoreError('exists', record.id);
    const { stored, setting } = await this.store.encodeFor(record, this.key);
    if (!sameSetting(setting, this.setting)) throw new StoreError('encryption-changed');
    const local = await this.store.localCopy(record.id, this.key);
    if (!local) this.fresh++;
    else {
      const conflict = describeConflict(local.record, local.stored.updatedAt, record, now);
      if (conflict) this.conflicts.push(conflict);
      else this.identical.push(record.id);
    }
    const row: StagedCase = { importId: this.importId, id: record.id, stagedAt: now, stored };
    await this.db.put('staging', row).catch((e) => Promise.reject(translate(e)));
    this.staged.add(record.id);
  }

  /** The ids the clinician's choice replaces, before any per-case decision. */
  defaultReplacements(choice: DuplicateChoice): Set<string> {
    return new Set(this.conflicts.filter((c) => replacedByDefault(c, choice)).map((c) => c.id));
  }

  /**
   * Moves every staged case in one transaction: new ids are added; a conflicting case is replaced only if its id is
   * in `replace` and the copy here is still the one that was compared (else it is skipped); each replaced copy is kept.
   */
  async commit(replace: ReadonlySet<string>, now = new Date()): Promise<ImportOutcome> {
    const outcome: ImportOutcome = { added: [], replaced: [], skipped: [] };
    const compared = new Map(this.conflicts.map((c) => [c.id, c.localUpdatedAt]));
    const tx = this.db.transaction(['cases', 'staging', 'replaced', 'meta'], 'readwrite');
    try {
      if (!sameSetting(this.setting, await tx.objectStore('meta').get('encryption'))) throw new StoreError('encryption-changed');
      const cases = tx.objectStore('cases');
      const range = IDBKeyRange.bound([this.importId, ''], [this.importId, '\uffff']);
      for (let c = await tx.objectStore('staging').openCursor(range); c; c = await c.continue()) {
        const { id, stored } = c.value;
        const here = await cases.get(id);
        if (!here) {
          await cases.add(stored);
          outcome.added.push(id);
        } else if (replace.has(id) && compared.get(id) === here.updatedAt) {
          await tx.objectStore('replaced').put({ key: `${id}@${now.toISOString()}`, id, replacedAt: now.toISOString(), source: this.source, stored: here });
          await cases.put(stored);
          outcome.replaced.push(id);
        } else outcome.skipped.push(id);
        await c.delete();
      }
      await tx.done;
    } catch (e) {
      abort(tx);
      throw translate(e);
    }
    return outcome;
  }

  async discard(): Promise<void> {
    await this.db.delete('staging', IDBKeyRange.bound([this.importId, ''], [this.importId, '\uffff']));
  }
}
