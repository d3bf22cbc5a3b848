// The IndexedDB schema of the case store, versioned. Each version adds one upgrade step; opening an older database
// runs every step after its version, inside the upgrade transaction (all or nothing).
import { openDB, type DBSchema, type IDBPDatabase, type IDBPTransaction, type StoreNames } from 'idb';
import type { CaseRecord } from './case-record';
import type { KeyEnvelope, SealedCase } from './crypto';

export const DB_NAME = 'facies-records';

/** A case as IndexedDB holds it: in clear, or sealed (only id and timestamps outside the ciphertext). */
export interface StoredCase {
  id: string;
  createdAt: string;
  updatedAt: string;
  plain?: CaseRecord;
  sealed?: SealedCase;
}

/** The encryption choice for this device's records: 'unset' until the first-run question is answered. */
export type EncryptionSetting =
  | { mode: 'none' }
  /** `previous`: during a passphrase change, the old data key (wrapped under the new passphrase). */
  | { mode: 'passphrase'; envelope: KeyEnvelope; previous?: KeyEnvelope };

/** A case read from a backup and written here while the file is still being read; moved into `cases` in one go. */
export interface StagedCase {
  importId: string;
  id: string;
  stagedAt: number;
  stored: StoredCase;
}

/** The copy of a case an import (or a restore) replaced: kept so that nothing is lost until the clinician deletes it. */
export interface ReplacedCase {
  /** `${id}@${replacedAt}` */
  key: string;
  id: string;
  replacedAt: string;
  /** The archive's file name, or 'restore'. */
  source: string;
  stored: StoredCase;
}

export interface RecordsSchema extends DBSchema {
  cases: { key: string; value: StoredCase; indexes: { createdAt: string } };
  meta: { key: 'encryption'; value: EncryptionSetting };
  staging: { key: [string, string]; value: StagedCase };
  replaced: { key: string; value: ReplacedCase; indexes: { id: string } };
}

type UpgradeTx = IDBPTransaction<RecordsSchema, StoreNames<RecordsSchema>[], 'versionchange'>;

/** upgrades[v - 1] takes a database from version v - 1 to v. */
export const UPGRADES: ((db: IDBPDatabase<RecordsSchema>, tx: UpgradeTx) => void)[] = [
  // 1: cases by id (with a creation-date index for the history list) and the encryption setting.
  (db) => {
    db.createObjectStore('cases', { keyPath: 'id' }).createIndex('createdAt', 'createdAt');
    db.createObjectStore('meta');
  },
  // 2: streaming import (cases staged while a backup is read) and the copies an import replaced.
  (db) => {
    db.createObjectStore('staging', { keyPath: ['importId', 'id'] });
    db.createObjectStore('replaced', { keyPath: 'key' }).createIndex('id', 'id');
  },
];

export const DB_VERSION = UPGRADES.length;

export class NewerDatabaseError extends Error {
  constructor() {
    super('the records on this device were saved by a newer version of Facies');
    this.name = 'NewerDatabaseError';
  }
}

/**
 * Opens the records database at `version` (tests open older versions to check upgrades).
 * The connection closes itself when another tab upgrades or erases the database, so neither is blocked;
 * `onClosed` lets the owner reopen on its next use.
 */
export async function openRecordsDb({
  name = DB_NAME,
  version = DB_VERSION,
  onClosed,
}: { name?: string; version?: number; onClosed?: () => void } = {}): Promise<IDBPDatabase<RecordsSchema>> {
  try {
    const db = await openDB<RecordsSchema>(name, version, {
      upgrade(db, oldVersion, newVersion, tx) {
        for (let v = oldVersion; v < (newVersion ?? version); v++) UPGRADES[v]!(db, tx);
      },
      blocking() {
        db.close();
        onClosed?.();
      },
      terminated() {
        onClosed?.();
      },
    });
    return db;
  } catch (e) {
    if ((e as DOMException).name === 'VersionError') throw new NewerDatabaseError();
    throw e;
  }
}
