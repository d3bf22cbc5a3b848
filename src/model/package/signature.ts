// Package signatures: the publisher signs the exact bytes of manifest.json, which lists the SHA-256 of every
// other file, so one signature covers the whole package. WebCrypto only (the browser's and Node's), so the CLI and
// the app check signatures with the same code. Ed25519 first; ECDSA P-256 (SHA-256) for devices without Ed25519.

import { fromBase64, toBase64 } from '../../encoding/base64';

export const SIGNATURE_FORMAT = 'facies-model-signature/1';

export type SignatureAlgorithm = 'Ed25519' | 'ECDSA-P256';

/** signature.json inside a package. */
export interface PackageSignature {
  format: typeof SIGNATURE_FORMAT;
  algorithm: SignatureAlgorithm;
  /** The signer's public key, SubjectPublicKeyInfo DER, base64. */
  publicKey: string;
  /** Signature over manifest.json's bytes, base64 (ECDSA: IEEE P1363 r‖s). */
  signature: string;
}

/** A publisher key the hospital's admin has chosen to trust. */
export interface TrustedKey {
  /** SHA-256 of the public key (SPKI DER), 64 hex digits. */
  fingerprint: string;
  algorithm: SignatureAlgorithm;
  publicKey: string;
  /** Who the key belongs to, as the admin typed it. */
  label: string;
  added: string;
}

export type SignatureProblem = 'malformed' | 'bad-signature' | 'unknown-key' | 'unsupported' | 'bad-key';

export class SignatureError extends Error {
  constructor(
    readonly problem: SignatureProblem,
    message: string,
  ) {
    super(message);
    this.name = 'SignatureError';
  }
}

const PARAMS: Record<SignatureAlgorithm, { key: EcKeyImportParams | Algorithm; sign: EcdsaParams | Algorithm }> = {
  Ed25519: { key: { name: 'Ed25519' }, sign: { name: 'Ed25519' } },
  'ECDSA-P256': { key: { name: 'ECDSA', namedCurve: 'P-256' }, sign: { name: 'ECDSA', hash: 'SHA-256' } },
};

const buf = (b: Uint8Array) => b as Uint8Array<ArrayBuffer>;

/** SHA-256 of the public key's SPKI bytes, hex: what the admin compares with the publisher by phone or on paper. */
async function fingerprintOf(spki: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest('SHA-256', buf(spki)));
  return Array.from(d, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** "ab12 cd34 …": groups of four hex digits, easier to read aloud. */
export const formatFingerprint = (hex: string): string => hex.replace(/(.{4})(?!$)/g, '$1 ');

function pemBody(pem: string, label: string): Uint8Array | null {
  const m = new RegExp(`-----BEGIN ${label}-----([A-Za-z0-9+/=\\s]+)-----END ${label}-----`).exec(pem);
  if (!m) return null;
  try {
    return fromBase64(m[1]!.replace(/\s+/g, ''));
  } catch {
    return null;
  }
}

async function importEither(format: 'spki' | 'pkcs8', der: Uint8Array, usage: KeyUsage): Promise<{ key: CryptoKey; algorithm: SignatureAlgorithm }> {
  for (const algorithm of ['Ed25519', 'ECDSA-P256'] as const) {
    try {
      return { key: await crypto.subtle.importKey(format, buf(der), PARAMS[algorithm].key, false, [usage]), algorithm };
    } catch {
      /* try the next algorithm */
    }
  }
  throw new SignatureError('bad-key', 'The key is neither an Ed25519 nor an ECDSA P-256 key, or this device cannot read it.');
}

/** Reads a publisher's public key (PEM "PUBLIC KEY") as the admin pastes or loads it. */
export async function readPublicKey(pem: string, label: string): Promise<TrustedKey> {
  const spki = pemBody(pem, 'PUBLIC KEY');
  if (!spki) throw new SignatureError('bad-key', 'This is not a public key: expected a PEM block starting with "-----BEGIN PUBLIC KEY-----".');
  const { algorithm } = await importEither('spki', spki, 'verify');
  return { fingerprint: await fingerprintOf(spki), algorithm, publicKey: toBase64(spki), label: label.trim() || 'Publisher', added: new Date().toISOString() };
}

async function signingKey(privateKeyPem: string): Promise<{ algorithm: SignatureAlgorithm; key: CryptoKey; spki: Uint8Array }> {
  const pkcs8 = pemBody(privateKeyPem, 'PRIVATE KEY');
  if (!pkcs8) throw new SignatureError('bad-key', 'The signing key must be an unencrypted PKCS#8 PEM private key ("-----BEGIN PRIVATE KEY-----").');
  const { algorithm } = await importEither('pkcs8', pkcs8, 'sign');
  // The public key is derived from the private one (its JWK carries both), so the signature names its signer.
  const key = await crypto.subtle.importKey('pkcs8', buf(pkcs8), PARAMS[algorithm].key, true, ['sign']);
  const jwk = await crypto.subtle.exportKey('jwk', key);
  delete jwk.d;
  jwk.key_ops = ['verify'];
  const publicKey = await crypto.subtle.importKey('jwk', jwk, PARAMS[algorithm].key, true, ['verify']);
  return { algorithm, key, spki: new Uint8Array(await crypto.subtle.exportKey('spki', publicKey)) };
}

/** The public half of a signing key, as a trusted-key entry (the packer checks its own output with it). */
export async function publicKeyOf(privateKeyPem: string, label: string): Promise<TrustedKey> {
  const { algorithm, spki } = await signingKey(privateKeyPem);
  return { fingerprint: await fingerprintOf(spki), algorithm, publicKey: toBase64(spki), label, added: new Date().toISOString() };
}

/** Signs manifest bytes with a PKCS#8 PEM private key (as written by `npm run model:keygen` or openssl genpkey). */
export async function signManifest(manifestBytes: Uint8Array, privateKeyPem: string): Promise<PackageSignature> {
  const { algorithm, key, spki } = await signingKey(privateKeyPem);
  const signature = new Uint8Array(await crypto.subtle.sign(PARAMS[algorithm].sign, key, buf(manifestBytes)));
  return { format: SIGNATURE_FORMAT, algorithm, publicKey: toBase64(spki), signature: toBase64(signature) };
}

/** Parses signature.json; throws SignatureError('malformed') on anything unexpected. */
export function parseSignature(bytes: Uint8Array): PackageSignature {
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new SignatureError('malformed', 'signature.json is not valid JSON.');
  }
  const s = raw as Partial<PackageSignature>;
  const b64 = (v: unknown) => typeof v === 'string' && /^[A-Za-z0-9+/]+={0,2}$/.test(v);
  if (!s || s.format !== SIGNATURE_FORMAT || (s.algorithm !== 'Ed25519' && s.algorithm !== 'ECDSA-P256') || !b64(s.publicKey) || !b64(s.signature))
    throw new SignatureError(
      'malformed',
      `signature.json must have format "${SIGNATURE_FORMAT}", algorithm "Ed25519" or "ECDSA-P256", and base64 publicKey and signature.`,
    );
  return s as PackageSignature;
}

/** The trusted key that signed these manifest bytes; throws if the key is not trusted or the signature is wrong. */
export async function verifyManifestSignature(manifestBytes: Uint8Array, sig: PackageSignature, trusted: readonly TrustedKey[]): Promise<TrustedKey> {
  const spki = fromBase64(sig.publicKey);
  const fingerprint = await fingerprintOf(spki);
  const key = trusted.find((k) => k.fingerprint === fingerprint);
  if (!key)
    throw new SignatureError(
      'unknown-key',
      `The package is signed by a key that is not on this device's list of trusted publishers (fingerprint ${formatFingerprint(fingerprint)}).`,
    );
  let cryptoKey: CryptoKey;
  try {
    cryptoKey = await crypto.subtle.importKey('spki', buf(spki), PARAMS[sig.algorithm].key, false, ['verify']);
  } catch {
    throw new SignatureError('unsupported', `This device cannot check ${sig.algorithm} signatures. Ask the publisher for a package signed with ECDSA P-256.`);
  }
  const ok = await crypto.subtle.verify(PARAMS[sig.algorithm].sign, cryptoKey, buf(fromBase64(sig.signature)), buf(manifestBytes)).catch(() => false);
  if (!ok) throw new SignatureError('bad-signature', 'The signature does not match the package: it was altered after signing, or signed with a different key.');
  return key;
}

/** A new signing key pair as PEM: the private key stays with the publisher, the public key goes to every hospital. */
export async function generateSigningKey(
  algorithm: SignatureAlgorithm = 'Ed25519',
): Promise<{ privateKeyPem: string; publicKeyPem: string; fingerprint: string }> {
  const pair = await crypto.subtle.generateKey(PARAMS[algorithm].key as EcKeyGenParams, true, ['sign', 'verify']);
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey('pkcs8', pair.privateKey));
  const spki = new Uint8Array(await crypto.subtle.exportKey('spki', pair.publicKey));
  const pem = (label: string, der: Uint8Array) =>
    `-----BEGIN ${label}-----\n${toBase64(der)
      .replace(/(.{64})/g, '$1\n')
      .replace(/\n$/, '')}\n-----END ${label}-----\n`;
  return { privateKeyPem: pem('PRIVATE KEY', pkcs8), publicKeyPem: pem('PUBLIC KEY', spki), fingerprint: await fingerprintOf(spki) };
}
