// Backups end to end, one case at a time: the store's cases into an archive Blob (the browser keeps a large Blob on
// disk, not in the page's memory), and an archive file into an import session. Framework-free; the UI and the tests
// call the same two functions.
import { type ArchiveItem, readArchive, writeArchive } from './archive-stream';
import type { DataKey } from './crypto';
import type { CaseStore, ImportSession } from './store';

export interface ExportedArchive {
  blob: Blob;
  exported: number;
  /** Cases that could not be read (damaged, or under another key): not in the file, named for the clinician. */
  unreadable: string[];
}

export async function exportArchive(
  store: CaseStore,
  ids: readonly string[],
  key: DataKey | null,
  { appVersion, passphrase, onCase }: { appVersion: string; passphrase?: string; onCase?: (done: number, total: number) => void },
): Promise<ExportedArchive> {
  const unreadable: string[] = [];
  let exported = 0;
  async function* counted() {
    for await (const r of store.records(ids, key, (id) => unreadable.push(id))) {
      yield r;
      exported++;
      onCase?.(exported, ids.length);
    }
  }
  // One Blob per line: each line's string can be collected as soon as it is written.
  const parts: Blob[] = [];
  for await (const line of writeArchive(counted(), { appVersion, count: ids.length, passphrase })) parts.push(new Blob([line]));
  return { blob: new Blob(parts, { type: 'application/x-ndjson' }), exported, unreadable };
}

/** Refused entries kept with their reasons (a hostile file could have millions; the rest are counted). */
const REJECTED_DETAILS = 200;

export interface StagedArchive {
  rejected: Extract<ArchiveItem, { kind: 'rejected' }>[];
  rejectedCount: number;
  staged: number;
}

/**
 * Reads the whole file into the session. Throws (ArchiveError, StoreError) without committing anything; the caller
 * discards the session then.
 */
export async function stageArchive(
  file: Blob,
  session: ImportSession,
  { passphrase, onBytes }: { passphrase?: string; onBytes?: (read: number, total: number) => void } = {},
): Promise<StagedArchive> {
  const out: StagedArchive = { rejected: [], rejectedCount: 0, staged: 0 };
  for await (const item of readArchive(file, { passphrase, onBytes: (n) => onBytes?.(n, file.size) })) {
    if (item.kind === 'rejected') {
      if (out.rejectedCount++ < REJECTED_DETAILS) out.rejected.push(item);
    } else {
      await session.stage(item.record);
      out.staged++;
    }
  }
  return out;
}
