// Backups that stream: a JSON Lines archive, written and read one case at a time, so an archive of any size is
// never one string or one buffer (V8 strings stop near 512 Mi characters; a few hundred original photos pass that).
//   first line  {"format":"facies-cases/2","exportedAt","app","count","encryption":null | key envelope}
//   one a case  {"case":{…}} in clear, or {"id","sealed":{"iv","data"}}: AES-GCM under the archive's own data key,
//               the case id as additional data (the same sealing as the records on the device)
//   last line   {"end":N} in clear; encrypted, N sealed under the key: a file cut short or cut and re-ended is refused
// An encrypted archive has its own random data key, wrapped with the export passphrase (PBKDF2-SHA-256, the same
// 600,000-iteration floor as the records). Framework-free: the UI collects the lines into a Blob, a test into anything.
import { fromBase64, toBase64 } from '../encoding/base64';
import { ARCHIVE_FORMAT, ArchiveError, MAX_ARCHIVE_BYTES, caseFromJson, caseToJson, claimedId, parseArchive } from './archive';
import { type CaseRecord, RecordError } from './case-record';
import { type DataKey, type KeyEnvelope, WrongPassphraseError, createKey, openBytes, openCase, sealBytes, sealCase, unlockKey } from './crypto';

export const STREAM_FORMAT = 'facies-cases/2';
/** One line holds one case: a 60 MiB photo is 80 MiB in base64. Longer is not an archive Facies wrote. */
const MAX_LINE_BYTES = 96 * 1024 * 1024;
const END_AAD = 'facies-archive-end';

export interface ArchiveHeader {
  format: typeof STREAM_FORMAT | typeof ARCHIVE_FORMAT;
  exportedAt: string;
  app: string;
  /** Cases announced by the header (for progress); the closing line has the count that is checked. */
  count: number | null;
  encrypted: boolean;
}

export type ArchiveItem = { kind: 'case'; index: number; record: CaseRecord } | { kind: 'rejected'; index: number; id: string; problems: string[] };

const enc = new TextEncoder();

type EnvelopeJson = Omit<KeyEnvelope, 'salt' | 'wrappedKey'> & { salt: string; wrappedKey: { iv: string; data: string } };
const bytesJson = (s: { iv: Uint8Array; data: Uint8Array }) => ({ iv: toBase64(s.iv), data: toBase64(s.data) });

function bytesFromJson(v: unknown): { iv: Uint8Array; data: Uint8Array } {
  const o = v as Record<string, unknown> | null;
  if (typeof o?.iv !== 'string' || typeof o.data !== 'string') throw new RecordError(['the sealed case is not {iv, data}']);
  try {
    return { iv: fromBase64(o.iv), data: fromBase64(o.data) };
  } catch {
    throw new RecordError(['the sealed case is not base64']);
  }
}

function envelopeFromJson(v: unknown): KeyEnvelope {
  const e = v as EnvelopeJson | null;
  if (e?.kdf !== 'PBKDF2-SHA-256' || typeof e.iterations !== 'number' || typeof e.salt !== 'string' || typeof e.keyId !== 'string')
    throw new ArchiveError({ kind: 'not-an-archive' });
  try {
    return { ...e, salt: fromBase64(e.salt), wrappedKey: bytesFromJson(e.wrappedKey) };
  } catch {
    throw new ArchiveError({ kind: 'not-an-archive' });
  }
}

/**
 * The archive, line by line (each ends with '\n'). `passphrase`: encrypted with it (the caller has checked it is
 * long enough); without one, in clear. `count`: how many cases `cases` will yield, for the reader's progress.
 */
export async function* writeArchive(
  cases: AsyncIterable<CaseRecord>,
  { appVersion, count, passphrase, now = new Date() }: { appVersion: string; count: number; passphrase?: string; now?: Date },
): AsyncGenerator<string> {
  let key: DataKey | null = null;
  let encryption: EnvelopeJson | null = null;
  if (passphrase !== undefined) {
    const created = await createKey(passphrase);
    key = created.key;
    encryption = { ...created.envelope, salt: toBase64(created.envelope.salt), wrappedKey: bytesJson(created.envelope.wrappedKey) };
  }
  yield JSON.stringify({ format: STREAM_FORMAT, exportedAt: now.toISOString(), app: `Facies ${appVersion}`, count, encryption }) + '\n';
  let n = 0;
  for await (const record of cases) {
    yield (key ? JSON.stringify({ id: record.id, sealed: bytesJson(await sealCase(record, key)) }) : JSON.stringify({ case: caseToJson(record) })) + '\n';
    n++;
  }
  yield JSON.stringify({ end: key ? bytesJson(await sealBytes(enc.encode(String(n)), key, END_AAD)) : n }) + '\n';
}

/** Lines of a byte stream, without their '\n'. A line longer than MAX_LINE_BYTES is refused, not buffered. */
async function* lines(stream: ReadableStream<Uint8Array>, onBytes?: (read: number) => void): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  let parts: Uint8Array[] = [];
  let pending = 0;
  let read = 0;
  const take = (last: Uint8Array) => {
    parts.push(last);
    const out = parts.length === 1 ? last : concat(parts, pending + last.length);
    parts = [];
    pending = 0;
    return out;
  };
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      read += value.length;
      onBytes?.(read);
      let start = 0;
      for (let nl = value.indexOf(10); nl !== -1; nl = value.indexOf(10, start)) {
        if (pending + nl - start > MAX_LINE_BYTES) throw new ArchiveError({ kind: 'too-large' });
        yield take(value.subarray(start, nl));
        start = nl + 1;
      }
      if (start < value.length) {
        parts.push(value.subarray(start));
        pending += value.length - start;
        if (pending > MAX_LINE_BYTES) throw new ArchiveError({ kind: 'too-large' });
      }
    }
    if (pending) yield take(new Uint8Array());
  } finally {
    reader.releaseLock();
  }
}

function concat(parts: Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function jsonLine(line: Uint8Array): unknown {
  try {
    return JSON.parse(utf8.decode(line));
  } catch {
    return undefined;
  }
}

interface StreamHeader {
  header: ArchiveHeader;
  envelope: KeyEnvelope | null;
}

function streamHeader(raw: unknown): StreamHeader | 'legacy' {
  const h = raw as Record<string, unknown> | null;
  if (typeof h !== 'object' || h === null || Array.isArray(h)) return 'legacy';
  if (h.format === ARCHIVE_FORMAT) return 'legacy';
  if (typeof h.format === 'string' && /^facies-cases\/\d+$/.test(h.format) && h.format !== STREAM_FORMAT)
    throw new ArchiveError({ kind: 'newer-format', format: h.format });
  if (h.format !== STREAM_FORMAT) throw new ArchiveError({ kind: 'not-an-archive' });
  const envelope = h.encryption === null || h.encryption === undefined ? null : envelopeFromJson(h.encryption);
  return {
    header: {
      format: STREAM_FORMAT,
      exportedAt: typeof h.exportedAt === 'string' ? h.exportedAt : '',
      app: typeof h.app === 'string' ? h.app.slice(0, 100) : '',
      count: typeof h.count === 'number' && Number.isSafeInteger(h.count) && h.count >= 0 ? h.count : null,
      encrypted: envelope !== null,
    },
    envelope,
  };
}

/** What kind of archive a file is, from its first line, without reading the rest. */
export async function readArchiveHeader(file: Blob): Promise<ArchiveHeader> {
  const start = await file.slice(0, 64 * 1024).arrayBuffer();
  const bytes = new Uint8Array(start);
  const nl = bytes.indexOf(10);
  const first = nl === -1 ? bytes : bytes.subarray(0, nl);
  const parsed = streamHeader(jsonLine(first));
  if (parsed !== 'legacy') return parsed.header;
  // Version 1: one JSON document, pretty-printed ("{" alone on its first line) or not.
  if (!/^\s*[[{]/.test(new TextDecoder().decode(first.subarray(0, 16)))) throw new ArchiveError({ kind: 'not-json' });
  if (file.size > MAX_ARCHIVE_BYTES) throw new ArchiveError({ kind: 'too-large' });
  return { format: ARCHIVE_FORMAT, exportedAt: '', app: '', count: null, encrypted: false };
}

/**
 * Every entry of an archive file, one at a time: a valid case, or a refused entry with why. Throws ArchiveError for
 * a file that is not an archive, that needs a passphrase (or another one), or that ends before its closing line
 * (after yielding what it read: the caller must not keep anything unless the generator finishes).
 */
export async function* readArchive(
  file: Blob,
  { passphrase, onBytes }: { passphrase?: string; onBytes?: (read: number) => void } = {},
): AsyncGenerator<ArchiveItem> {
  if ((await readArchiveHeader(file)).format === ARCHIVE_FORMAT) {
    const parsed = parseArchive(await file.text());
    onBytes?.(file.size);
    const items: ArchiveItem[] = [
      ...parsed.cases.map((record, i) => ({ kind: 'case' as const, index: i, record })),
      ...parsed.rejected.map((r) => ({ kind: 'rejected' as const, ...r })),
    ];
    yield* items.sort((a, b) => a.index - b.index).map((item, i) => ({ ...item, index: i }));
    return;
  }
  let header: StreamHeader | null = null;
  let key: DataKey | null = null;
  let index = 0;
  let ended = false;
  const seen = new Set<string>();
  for await (const line of lines(file.stream(), onBytes)) {
    if (!header) {
      header = streamHeader(jsonLine(line)) as StreamHeader;
      if (header.envelope) {
        if (passphrase === undefined) throw new ArchiveError({ kind: 'needs-passphrase' });
        try {
          key = await unlockKey(header.envelope, passphrase);
        } catch (e) {
          if (e instanceof WrongPassphraseError) throw new ArchiveError({ kind: 'wrong-passphrase' });
          throw e;
        }
      }
      continue;
    }
    if (line.length === 0) continue;
    if (ended) throw new ArchiveError({ kind: 'not-an-archive' });
    const raw = jsonLine(line) as Record<string, unknown> | undefined;
    if (raw && 'end' in raw) {
      if ((await endCount(raw.end, key)) !== index) throw new ArchiveError({ kind: 'truncated' });
      ended = true;
      continue;
    }
    const at = index++;
    const entry = raw?.case ?? raw;
    try {
      if (raw === undefined) throw new RecordError(['this line is not JSON (damaged)']);
      const record = key ? await openSealed(raw, key) : caseFromJson(raw.case);
      if (seen.has(record.id)) throw new RecordError(['the same case id appears twice in the file']);
      seen.add(record.id);
      yield { kind: 'case', index: at, record };
    } catch (err) {
      yield { kind: 'rejected', index: at, id: claimedId(entry), problems: err instanceof RecordError ? err.problems : [String(err)] };
    }
  }
  if (!header) throw new ArchiveError({ kind: 'not-an-archive' });
  if (!ended) throw new ArchiveError({ kind: 'truncated' });
  if (index === 0) throw new ArchiveError({ kind: 'no-cases' });
}

async function openSealed(raw: Record<string, unknown>, key: DataKey): Promise<CaseRecord> {
  if (typeof raw.id !== 'string') throw new RecordError(['the sealed case has no id']);
  const sealed = bytesFromJson(raw.sealed);
  try {
    return await openCase(raw.id, { keyId: key.keyId, ...sealed }, key);
  } catch (e) {
    if (e instanceof RecordError) throw e;
    throw new RecordError(['damaged or altered: it does not decrypt with this archive’s key']);
  }
}

async function endCount(end: unknown, key: DataKey | null): Promise<number> {
  if (!key) return typeof end === 'number' ? end : -1;
  try {
    return Number(new TextDecoder().decode(await openBytes(bytesFromJson(end), key, END_AAD)));
  } catch {
    return -1;
  }
}
