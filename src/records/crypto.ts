// Encryption at rest, with WebCrypto only.
// A passphrase derives a key-encryption key (PBKDF2-SHA-256, 600,000 iterations, 16-byte random salt); that key
// wraps a random 256-bit data key (AES-GCM), and the data key seals each case (AES-GCM, 96-bit random IV, the
// case id as additional data so sealed cases cannot be swapped). A wrong passphrase fails to unwrap the key
// (GCM tag mismatch) before anything is read or written.
// Changing the passphrase makes a new data key and re-seals every case with it. The old data key stays stored,
// wrapped under the new passphrase, until the last case is re-sealed: an interruption at any point leaves every case
// readable with the new passphrase, and the next unlock finishes the job.
import { type CasePhoto, type CaseRecord, validateCaseRecord } from './case-record';

export const KDF = { name: 'PBKDF2', hash: 'SHA-256', iterations: 600_000, saltBytes: 16 } as const;
const CIPHER = { name: 'AES-GCM', keyBits: 256, ivBytes: 12 } as const;

/** What IndexedDB keeps about the passphrase: never the passphrase or the key itself. */
export interface KeyEnvelope {
  kdf: 'PBKDF2-SHA-256';
  iterations: number;
  salt: Uint8Array;
  /** The data key, encrypted with the passphrase key. */
  wrappedKey: { iv: Uint8Array; data: Uint8Array };
  /** Random id of the data key: sealed cases name the key they need. */
  keyId: string;
  createdAt: string;
}

export class WrongPassphraseError extends Error {
  constructor() {
    super('wrong passphrase');
    this.name = 'WrongPassphraseError';
  }
}

/** An unlocked data key. Not extractable: it cannot be read back out of WebCrypto. */
export interface DataKey {
  keyId: string;
  key: CryptoKey;
  /** During a passphrase change: the data key the cases not yet re-sealed still need. */
  previous?: { keyId: string; key: CryptoKey };
}

const subtle = () => globalThis.crypto.subtle;
const random = (n: number) => globalThis.crypto.getRandomValues(new Uint8Array(n));
const enc = new TextEncoder();
const buf = (b: Uint8Array) => b as Uint8Array<ArrayBuffer>;

export const MIN_PASSPHRASE_LENGTH = 8;

/** Why a new passphrase (typed twice) can't be used, as an i18n key in the records namespace; null when it can. */
export function newPassphraseProblem(passphrase: string, confirmation: string): { key: string; values?: Record<string, number> } | null {
  if (passphrase.length < MIN_PASSPHRASE_LENGTH) return { key: 'setup.tooShort', values: { count: MIN_PASSPHRASE_LENGTH } };
  if (passphrase !== confirmation) return { key: 'setup.mismatch' };
  return null;
}

async function passphraseKey(passphrase: string, salt: Uint8Array, iterations: number): Promise<CryptoKey> {
  if (iterations < KDF.iterations) throw new Error(`PBKDF2 iterations below ${KDF.iterations}`);
  const base = await subtle().importKey('raw', enc.encode(passphrase.normalize('NFC')), 'PBKDF2', false, ['deriveKey']);
  return subtle().deriveKey({ name: 'PBKDF2', hash: KDF.hash, salt: buf(salt), iterations }, base, { name: 'AES-GCM', length: CIPHER.keyBits }, false, [
    'encrypt',
    'decrypt',
  ]);
}

const importDataKey = (raw: Uint8Array) => subtle().importKey('raw', buf(raw), { name: 'AES-GCM' }, false, ['encrypt', 'decrypt']);

async function wrap(raw: Uint8Array, passphrase: string, keyId: string): Promise<KeyEnvelope> {
  const salt = random(KDF.saltBytes);
  const kek = await passphraseKey(passphrase, salt, KDF.iterations);
  const iv = random(CIPHER.ivBytes);
  const data = new Uint8Array(await subtle().encrypt({ name: 'AES-GCM', iv, additionalData: enc.encode(keyId) }, kek, buf(raw)));
  return { kdf: 'PBKDF2-SHA-256', iterations: KDF.iterations, salt, wrappedKey: { iv, data }, keyId, createdAt: new Date().toISOString() };
}

async function unwrapRaw(envelope: KeyEnvelope, passphrase: string): Promise<Uint8Array> {
  const kek = await passphraseKey(passphrase, envelope.salt, envelope.iterations);
  try {
    return new Uint8Array(
      await subtle().decrypt(
        { name: 'AES-GCM', iv: buf(envelope.wrappedKey.iv), additionalData: enc.encode(envelope.keyId) },
        kek,
        buf(envelope.wrappedKey.data),
      ),
    );
  } catch {
    throw new WrongPassphraseError();
  }
}

/** A new data key, wrapped with the passphrase. */
export async function createKey(passphrase: string): Promise<{ envelope: KeyEnvelope; key: DataKey }> {
  const raw = random(CIPHER.keyBits / 8);
  const keyId = Array.from(random(8), (b) => b.toString(16).padStart(2, '0')).join('');
  const envelope = await wrap(raw, passphrase, keyId);
  const key = await importDataKey(raw);
  raw.fill(0);
  return { envelope, key: { keyId, key } };
}

async function unwrapKey(envelope: KeyEnvelope, passphrase: string): Promise<{ keyId: string; key: CryptoKey }> {
  const raw = await unwrapRaw(envelope, passphrase);
  const key = await importDataKey(raw);
  raw.fill(0);
  return { keyId: envelope.keyId, key };
}

/** The data key (and, mid-change, the previous one, wrapped under the same passphrase). */
export async function unlockKey(envelope: KeyEnvelope, passphrase: string, previous?: KeyEnvelope): Promise<DataKey> {
  const key: DataKey = await unwrapKey(envelope, passphrase);
  if (previous) key.previous = await unwrapKey(previous, passphrase);
  return key;
}

/**
 * A passphrase change: a new data key wrapped under the new passphrase, and the current data key re-wrapped under
 * it too (`previous`), so that cases not yet re-sealed stay readable. Throws WrongPassphraseError on a wrong current one.
 */
export async function rekey(envelope: KeyEnvelope, current: string, next: string): Promise<{ envelope: KeyEnvelope; previous: KeyEnvelope; key: DataKey }> {
  const oldRaw = await unwrapRaw(envelope, current);
  try {
    const previous = await wrap(oldRaw, next, envelope.keyId);
    const created = await createKey(next);
    return { envelope: created.envelope, previous, key: { ...created.key, previous: { keyId: envelope.keyId, key: await importDataKey(oldRaw) } } };
  } finally {
    oldRaw.fill(0);
  }
}

/**
 * The same data keys under a new passphrase: the current one and, while some case still needs it (a case that
 * could not be re-sealed, because it is damaged), the previous one. No case needs re-sealing for this.
 */
export async function rewrap(
  envelope: KeyEnvelope,
  previous: KeyEnvelope,
  current: string,
  next: string,
): Promise<{ envelope: KeyEnvelope; previous: KeyEnvelope }> {
  const raws = [await unwrapRaw(envelope, current), await unwrapRaw(previous, current)];
  try {
    return { envelope: await wrap(raws[0]!, next, envelope.keyId), previous: await wrap(raws[1]!, next, previous.keyId) };
  } finally {
    raws.forEach((r) => r.fill(0));
  }
}

/**
 * A case as bytes: [u32 header length][header JSON][crop][photo][extra crop][extra photo]…. The header is the record
 * with the image bytes replaced by their lengths, so the images are not inflated by base64. A case with one photo has
 * no extras: the layout of cases saved before several-photo screenings.
 */
export function serializeCase(record: CaseRecord): Uint8Array {
  const photoHeader = (ph: CasePhoto | null) => (ph ? { type: ph.type, bytes: ph.bytes.length } : null);
  const header = enc.encode(
    JSON.stringify({
      ...record,
      crop: record.crop?.length ?? null,
      photo: photoHeader(record.photo),
      ...(record.extraPhotos && { extraPhotos: record.extraPhotos.map((e) => ({ crop: e.crop?.length ?? null, photo: photoHeader(e.photo) })) }),
    }),
  );
  const parts = [record.crop, record.photo?.bytes, ...(record.extraPhotos ?? []).flatMap((e) => [e.crop, e.photo?.bytes])].filter((b): b is Uint8Array => !!b);
  const out = new Uint8Array(4 + header.length + parts.reduce((n, b) => n + b.length, 0));
  new DataView(out.buffer).setUint32(0, header.length);
  out.set(header, 4);
  let at = 4 + header.length;
  for (const b of parts) {
    out.set(b, at);
    at += b.length;
  }
  return out;
}

export function deserializeCase(bytes: Uint8Array): CaseRecord {
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + headerLength))) as Record<string, unknown>;
  let at = 4 + headerLength;
  const take = (n: unknown) => {
    const part = bytes.slice(at, at + (n as number));
    at += n as number;
    return part;
  };
  type PhotoHeader = { type: string; bytes: number } | null;
  const crop = header.crop === null ? null : take(header.crop);
  const ph = header.photo as PhotoHeader;
  const photo = ph === null ? null : { type: ph.type, bytes: take(ph.bytes) };
  const extras = header.extraPhotos as { crop: number | null; photo: PhotoHeader }[] | undefined;
  const extraPhotos = Array.isArray(extras)
    ? extras.map((e) => ({ crop: e.crop === null ? null : take(e.crop), photo: e.photo === null ? null : { type: e.photo.type, bytes: take(e.photo.bytes) } }))
    : undefined;
  return validateCaseRecord({ ...header, crop, photo, ...(extraPhotos && { extraPhotos }) });
}

export interface SealedCase {
  keyId: string;
  iv: Uint8Array;
  data: Uint8Array;
}

export async function sealCase(record: CaseRecord, key: DataKey): Promise<SealedCase> {
  const iv = random(CIPHER.ivBytes);
  const data = new Uint8Array(await subtle().encrypt({ name: 'AES-GCM', iv, additionalData: enc.encode(record.id) }, key.key, buf(serializeCase(record))));
  return { keyId: key.keyId, iv, data };
}

export async function openCase(id: string, sealed: SealedCase, key: DataKey): Promise<CaseRecord> {
  const k = sealed.keyId === key.keyId ? key.key : sealed.keyId === key.previous?.keyId ? key.previous.key : null;
  if (!k) throw new Error(`case ${id} is sealed with another key`);
  const plain = new Uint8Array(await subtle().decrypt({ name: 'AES-GCM', iv: buf(sealed.iv), additionalData: enc.encode(id) }, k, buf(sealed.data)));
  const record = deserializeCase(plain);
  if (record.id !== id) throw new Error(`case ${id} holds another case`);
  return record;
}

/** Bytes sealed with a data key (a backup's closing line): `aad` names what they are, so they cannot be swapped. */
export async function sealBytes(bytes: Uint8Array, key: DataKey, aad: string): Promise<{ iv: Uint8Array; data: Uint8Array }> {
  const iv = random(CIPHER.ivBytes);
  return { iv, data: new Uint8Array(await subtle().encrypt({ name: 'AES-GCM', iv, additionalData: enc.encode(aad) }, key.key, buf(bytes))) };
}

export async function openBytes(sealed: { iv: Uint8Array; data: Uint8Array }, key: DataKey, aad: string): Promise<Uint8Array> {
  return new Uint8Array(await subtle().decrypt({ name: 'AES-GCM', iv: buf(sealed.iv), additionalData: enc.encode(aad) }, key.key, buf(sealed.data)));
}
