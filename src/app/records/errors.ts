// Records errors in the clinician's words: an i18n key (records namespace) and its values.
import { ArchiveError } from '../../records/archive';
import { WrongPassphraseError } from '../../records/crypto';
import { NewerDatabaseError } from '../../records/db';
import { StoreError } from '../../records/store';

export function recordsErrorMessage(e: unknown): { key: string; values?: Record<string, string> } {
  if (e instanceof WrongPassphraseError) return { key: 'errors.wrongPassphrase' };
  if (e instanceof StoreError) return { key: `errors.${e.code}` };
  if (e instanceof NewerDatabaseError) return { key: 'errors.newerDatabase' };
  if (e instanceof ArchiveError)
    return { key: `errors.archive.${e.problem.kind}`, values: e.problem.kind === 'newer-format' ? { format: e.problem.format } : undefined };
  const name = (e as DOMException | null)?.name;
  if (name === 'QuotaExceededError') return { key: 'errors.quota' };
  if (name === 'InvalidStateError' || name === 'UnknownError') return { key: 'errors.unavailable' };
  return { key: 'errors.unknown', values: { message: (e as Error)?.message ?? String(e) } };
}
