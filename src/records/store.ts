// The case store: the one owner of the records database. Every write is a single IndexedDB transaction, so a
// failure (storage full, tab closed) leaves either the old case or the new one, never half of either.
import type { IDBPDatabase } from 'idb';
import { type CaseRecord, validateCaseRecord } from './case-record';
import { type DataKey, createKey, openCase, rekey, rewrap, sealCase, unlockKey } from './crypto';
import { DB_NAME, type EncryptionSetting, type RecordsSchema, type StoredCase, openRecordsDb } from './db';

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
function translate(e: unknown): unknown {
  const name = (e as DOMException | null)?.name ?? '';
  if (name === 'QuotaExceededError' || name === 'NS_ERROR_DOM_QUOTA_REACHED') return new StoreError('quota', (e as Error).message);
  return e;
}

export interface ReadResult {
  cases: CaseRecord[];
  /** Cases that could not be read (sealed with another key, or damaged): listed, never deleted. */
  unreadable: string[];
}

export type DuplicateChoice = 'skip' | 'newer';

/** A case that could not be opened or re-sealed, and why (for the clinician, by case id). */
export interface UnreadableCase {
  id: string;
  reason: 'damaged' | 'other-key';
}

export interface ImportOutcome {
  added: string[];
  replaced: string[];
  skipped: string[];
}

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
      if (now?.mode !== 'passphrase' || now.envelope.keyId !== setting.envelope.keyId || now.previous?.keyId !== setting.previous.keyId) throw new StoreError('encryption-changed');
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
    if (!key.previous || !complete) return key;
    const tx = db.transaction('meta', 'readwrite');
    const now = await tx.store.get('encryption');
    if (now?.mode === 'passphrase' && now.envelope.keyId === key.keyId && now.previous) await tx.store.put({ mode: 'passphrase', envelope: now.envelope }, 'encryption');
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

  /** The encryption setting must not have changed (another tab) between encoding a case and writing it. */
  private static sameSetting(a: EncryptionSetting | undefined, b: EncryptionSetting | undefined): boolean {
    return (a?.mode ?? 'none') === (b?.mode ?? 'none') && (a?.mode !== 'passphrase' || (b?.mode === 'passphrase' && a.envelope.keyId === b.envelope.keyId));
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
      if (!CaseStore.sameSetting(setting, await tx.objectStore('meta').get('encryption'))) throw new StoreError('encryption-changed');
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
      if (!CaseStore.sameSetting(setting, await tx.objectStore('meta').get('encryption'))) throw new StoreError('encryption-changed');
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

  /** Deletes every case; the encryption setting stays. */
  async deleteAll(): Promise<void> {
    await (await this.conn()).clear('cases');
  }

  /** Ids of the given cases that already exist here, with their last-saved time. */
  async existing(ids: string[]): Promise<Map<string, string>> {
    const db = await this.conn();
    const tx = db.transaction('cases');
    const out = new Map<string, string>();
    for (const id of ids) {
      const s = await tx.store.get(id);
      if (s) out.set(id, s.updatedAt);
    }
    await tx.done;
    return out;
  }

  /**
   * Imports cases in one transaction (all or none). A case whose id exists here is skipped, or with 'newer'
   * replaces the one here only if it was saved later.
   */
  async import(records: CaseRecord[], duplicates: DuplicateChoice, key: DataKey | null): Promise<ImportOutcome> {
    const encoded: { stored: StoredCase; setting: EncryptionSetting | undefined }[] = [];
    for (const r of records) encoded.push(await this.encode(validateCaseRecord(r), key));
    const outcome: ImportOutcome = { added: [], replaced: [], skipped: [] };
    if (!encoded.length) return outcome;
    const db = await this.conn();
    const tx = db.transaction(['cases', 'meta'], 'readwrite');
    try {
      if (!CaseStore.sameSetting(encoded[0]!.setting, await tx.objectStore('meta').get('encryption'))) throw new StoreError('encryption-changed');
      const cases = tx.objectStore('cases');
      for (const { stored } of encoded) {
        const here = await cases.get(stored.id);
        if (!here) {
          await cases.add(stored);
          outcome.added.push(stored.id);
        } else if (duplicates === 'newer' && stored.updatedAt > here.updatedAt) {
          await cases.put(stored);
          outcome.replaced.push(stored.id);
        } else outcome.skipped.push(stored.id);
      }
      await tx.done;
    } catch (e) {
      abort(tx);
      throw translate(e);
    }
    return outcome;
  }

  /** What the database holds, as stored (tests and the storage report read it). */
  async raw(): Promise<StoredCase[]> {
    return (await this.conn()).getAll('cases');
  }
}

function abort(tx: { abort(): void; done: Promise<void> }) {
  tx.done.catch(() => undefined);
  try {
    tx.abort();
  } catch {
    /* already finished or aborted */
  }
}
