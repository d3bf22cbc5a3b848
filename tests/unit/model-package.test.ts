import { deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { sha256Hex, type ModelManifest } from '../../src/model/manifest';
import { exampleManifest, exampleValidationReport } from './fixtures/manifest';
import { createModelPackage, openModelPackage, PackageRefusal, type OpenOptions, type RefusalReason } from '../../src/model/package/package';
import { generateSigningKey, readPublicKey, signManifest, type TrustedKey } from '../../src/model/package/signature';
import { toBase64 } from '../../src/encoding/base64';
import { bytesSource, crc32, writeZip, type ByteSource } from '../../src/model/package/zip';

const enc = new TextEncoder();
const model = Uint8Array.from({ length: 4096 }, (_, i) => (i * 31) & 0xff);
const card = enc.encode('# Card\n\nValidated on 160 children.\n');

async function manifest(): Promise<ModelManifest> {
  return exampleManifest(model, {
    created: '2026-11-20',
    publisher: { name: 'Example Hospital' },
    demonstration: false,
    modelCard: { name: 'MODEL_CARD.md', sha256: await sha256Hex(card), bytes: card.byteLength },
    validation: exampleValidationReport([
      [1, 0, 0, 0],
      [0, 1, 0, 0],
      [0, 0, 1, 0],
      [0, 0, 0, 1],
    ]),
    clinicalValidation: { status: 'internal', summary: 'Cross-validated.', by: 'Example Hospital', dataset: '4 children' },
  });
}

const join = (chunks: Uint8Array[]) => new Uint8Array(Buffer.concat(chunks));
const files = (entries: Record<string, Uint8Array | string>) =>
  Object.entries(entries).map(([name, data]) => ({ name, data: typeof data === 'string' ? enc.encode(data) : data }));
const manifestBytes = (m: ModelManifest) => enc.encode(JSON.stringify(m, null, 2) + '\n');

async function refusal(src: ByteSource | Uint8Array, options: Partial<OpenOptions> = {}): Promise<{ reason: RefusalReason; detail: string }> {
  try {
    await openModelPackage(src instanceof Uint8Array ? bytesSource(src) : src, { trustedKeys: [], confirmUnsigned: async () => true, ...options });
  } catch (e) {
    expect(e).toBeInstanceOf(PackageRefusal);
    return { reason: (e as PackageRefusal).reason, detail: (e as PackageRefusal).detail };
  }
  throw new Error('the package was accepted');
}

/** A ZIP with hand-chosen headers: for archives no honest writer produces. */
function rawZip(entries: { name: string; data: Uint8Array; method?: 0 | 8; size?: number; crc?: number }[], { overlapFirst = false } = {}): Uint8Array {
  const out: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  const locals = entries.map((e) => {
    const name = Buffer.from(e.name);
    const h = Buffer.alloc(30 + name.length);
    h.writeUInt32LE(0x04034b50, 0);
    h.writeUInt16LE(20, 4);
    h.writeUInt16LE(e.method ?? 0, 8);
    h.writeUInt32LE(e.crc ?? crc32(e.data), 14);
    h.writeUInt32LE(e.data.length, 18);
    h.writeUInt32LE(e.size ?? e.data.length, 22);
    h.writeUInt16LE(name.length, 26);
    name.copy(h, 30);
    return { e, name, h };
  });
  for (const [i, { e, name, h }] of locals.entries()) {
    const c = Buffer.alloc(46 + name.length);
    c.writeUInt32LE(0x02014b50, 0);
    c.writeUInt16LE(e.method ?? 0, 10);
    c.writeUInt32LE(e.crc ?? crc32(e.data), 16);
    // The first entry claims to span everything after its header: it then contains the others' headers.
    const compressed = overlapFirst && i === 0 ? locals.slice(1).reduce((n, l) => n + l.h.length + l.e.data.length, e.data.length) : e.data.length;
    c.writeUInt32LE(compressed, 20);
    c.writeUInt32LE(overlapFirst && i === 0 ? compressed : (e.size ?? e.data.length), 24);
    c.writeUInt16LE(name.length, 28);
    c.writeUInt32LE(offset, 42);
    name.copy(c, 46);
    central.push(c);
    out.push(h, Buffer.from(e.data));
    offset += h.length + e.data.length;
  }
  const cd = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return new Uint8Array(Buffer.concat([...out, cd, end]));
}

describe('model packages: round trip', () => {
  it('packs and opens an unsigned package only after explicit confirmation', async () => {
    const m = await manifest();
    const pkg = join(await createModelPackage({ manifest: m, model, modelCard: card }));
    const opened = await openModelPackage(bytesSource(pkg), { trustedKeys: [], confirmUnsigned: async () => true });
    expect(opened.manifest).toEqual(m);
    expect(Buffer.from(opened.model).equals(Buffer.from(model))).toBe(true);
    expect(opened.modelCard).toBe(new TextDecoder().decode(card));
    expect(opened.signature).toEqual({ status: 'unsigned' });
    expect((await refusal(pkg, { confirmUnsigned: async () => false })).reason).toBe('unsigned-not-confirmed');
    expect((await refusal(pkg, { confirmUnsigned: undefined })).reason).toBe('unsigned-not-confirmed');
  });

  it('packs the same bytes twice (reproducible packages)', async () => {
    const m = await manifest();
    const a = join(await createModelPackage({ manifest: m, model, modelCard: card }));
    const b = join(await createModelPackage({ manifest: m, model, modelCard: card }));
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
  });

  it('opens a package compressed with deflate by another ZIP tool', async () => {
    const m = await manifest();
    const deflated = (name: string, data: Uint8Array) => ({
      name,
      data: new Uint8Array(deflateRawSync(data)),
      method: 8 as const,
      size: data.length,
      crc: crc32(data),
    });
    const pkg = rawZip([deflated('manifest.json', manifestBytes(m)), deflated('MODEL_CARD.md', card), deflated('model.onnx', model)]);
    const opened = await openModelPackage(bytesSource(pkg), { trustedKeys: [], confirmUnsigned: async () => true });
    expect(opened.manifest.id).toBe('hospital-ps');
    expect(Buffer.from(opened.model).equals(Buffer.from(model))).toBe(true);
  });
});

describe('model packages: signatures', () => {
  async function signedPackage(algorithm: 'Ed25519' | 'ECDSA-P256') {
    const key = await generateSigningKey(algorithm);
    const trusted = await readPublicKey(key.publicKeyPem, 'Example Hospital ML');
    const pkg = join(await createModelPackage({ manifest: await manifest(), model, modelCard: card, signingKeyPem: key.privateKeyPem }));
    return { key, trusted, pkg };
  }

  for (const algorithm of ['Ed25519', 'ECDSA-P256'] as const) {
    it(`accepts a good ${algorithm} signature from a trusted key, without asking about signatures`, async () => {
      const { trusted, pkg } = await signedPackage(algorithm);
      expect(trusted.algorithm).toBe(algorithm);
      const opened = await openModelPackage(bytesSource(pkg), { trustedKeys: [trusted], confirmUnsigned: async () => false });
      expect(opened.signature).toEqual({ status: 'trusted', key: trusted });
    });
  }

  it('refuses a signature from a key that is not trusted, naming its fingerprint', async () => {
    const { trusted, pkg } = await signedPackage('Ed25519');
    const other = await readPublicKey((await generateSigningKey()).publicKeyPem, 'someone else');
    const r = await refusal(pkg, { trustedKeys: [other] });
    expect(r.reason).toBe('unknown-publisher');
    expect(r.detail.replace(/ /g, '')).toContain(trusted.fingerprint);
  });

  it('refuses a package whose manifest was changed after signing', async () => {
    const key = await generateSigningKey();
    const trusted: TrustedKey = await readPublicKey(key.publicKeyPem, 'ML');
    const m = await manifest();
    const sig = await signManifest(manifestBytes(m), key.privateKeyPem);
    const forged = { ...m, clinicalValidation: { ...m.clinicalValidation, status: 'external' as const } };
    const pkg = join(
      writeZip(files({ 'manifest.json': manifestBytes(forged), 'MODEL_CARD.md': card, 'signature.json': JSON.stringify(sig), 'model.onnx': model })),
    );
    expect((await refusal(pkg, { trustedKeys: [trusted] })).reason).toBe('bad-signature');
    // A signature whose bytes are damaged, and a signature.json that is not one.
    const damaged = { ...sig, signature: toBase64(Uint8Array.from(Buffer.from(sig.signature, 'base64'), (b, i) => (i === 0 ? b ^ 1 : b))) };
    const pkg2 = join(
      writeZip(files({ 'manifest.json': manifestBytes(m), 'MODEL_CARD.md': card, 'signature.json': JSON.stringify(damaged), 'model.onnx': model })),
    );
    expect((await refusal(pkg2, { trustedKeys: [trusted] })).reason).toBe('bad-signature');
    const pkg3 = join(writeZip(files({ 'manifest.json': manifestBytes(m), 'MODEL_CARD.md': card, 'signature.json': '{"format":"x"}', 'model.onnx': model })));
    expect((await refusal(pkg3, { trustedKeys: [trusted] })).reason).toBe('bad-signature');
  });

  it('refuses a public key that is not one', async () => {
    await expect(readPublicKey('hello', 'x')).rejects.toThrow(/not a public key/);
    await expect(readPublicKey('-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----', 'x')).rejects.toThrow(/neither an Ed25519 nor an ECDSA P-256/);
  });
});

describe('model packages: contents', () => {
  it('refuses a model file that does not match its SHA-256', async () => {
    const m = await manifest();
    const tampered = model.slice();
    tampered[100]! ^= 0xff;
    const pkg = join(writeZip(files({ 'manifest.json': manifestBytes(m), 'MODEL_CARD.md': card, 'model.onnx': tampered })));
    const r = await refusal(pkg);
    expect(r.reason).toBe('hash-mismatch');
    expect(r.detail).toMatch(/model\.onnx SHA-256 .* altered or corrupted/);
  });

  it('refuses a model card that does not match its SHA-256, and a model of the wrong size', async () => {
    const m = await manifest();
    const pkg = join(writeZip(files({ 'manifest.json': manifestBytes(m), 'MODEL_CARD.md': '# A different card\n', 'model.onnx': model })));
    expect((await refusal(pkg)).detail).toMatch(/MODEL_CARD\.md SHA-256/);
    const short = join(writeZip(files({ 'manifest.json': manifestBytes(m), 'MODEL_CARD.md': card, 'model.onnx': model.slice(1) })));
    expect((await refusal(short)).reason).toBe('hash-mismatch');
  });

  it('refuses an invalid manifest with every problem named', async () => {
    const m = { ...(await manifest()), classes: (await manifest()).classes.slice(0, 3) };
    const pkg = join(writeZip(files({ 'manifest.json': manifestBytes(m), 'MODEL_CARD.md': card, 'model.onnx': model })));
    const r = await refusal(pkg);
    expect(r.reason).toBe('invalid-manifest');
    expect(r.detail).toContain('output.shape must be [N, 3]: the manifest lists 3 classes but the output has 4');
    expect(r.detail).toContain('selfTest.expected must list 3 probabilities, one per class (found 4)');
    const notJson = join(writeZip(files({ 'manifest.json': '{"id": ', 'MODEL_CARD.md': card, 'model.onnx': model })));
    expect(await refusal(notJson)).toMatchObject({ reason: 'invalid-manifest', detail: expect.stringMatching(/not valid JSON/) });
  });

  it('refuses missing and unexpected files, and files that are not packages', async () => {
    const m = await manifest();
    expect((await refusal(join(writeZip(files({ 'manifest.json': manifestBytes(m), 'model.onnx': model }))))).reason).toBe('missing-file');
    const extra = join(writeZip(files({ 'manifest.json': manifestBytes(m), 'MODEL_CARD.md': card, 'model.onnx': model, 'run-me.sh': 'rm -rf /' })));
    expect(await refusal(extra)).toMatchObject({ reason: 'unexpected-file', detail: expect.stringContaining('run-me.sh') });
    expect((await refusal(enc.encode('this is a photo, not a package'))).reason).toBe('not-a-package');
    expect((await refusal(new Uint8Array(0))).reason).toBe('not-a-package');
  });
});

describe('model packages: hostile archives', () => {
  it('refuses entries whose path could leave the package', async () => {
    for (const name of ['../manifest.json', '/etc/passwd', 'a/../../model.onnx', 'C:/Windows/x', 'dir\\..\\x', 'models//x', './manifest.json']) {
      const r = await refusal(rawZip([{ name, data: enc.encode('x') }]));
      expect(r.reason, name).toBe('unsafe-archive');
      expect(r.detail).toMatch(/unsafe path/);
    }
  });

  it('refuses a highly compressed entry (zip bomb) before inflating it', async () => {
    const zeros = new Uint8Array(8 << 20);
    const bomb = rawZip([{ name: 'model.onnx', data: new Uint8Array(deflateRawSync(zeros)), method: 8, size: zeros.length, crc: crc32(zeros) }]);
    const r = await refusal(bomb);
    expect(r.reason).toBe('unsafe-archive');
    expect(r.detail).toMatch(/compressed \d+:1.*ZIP bomb/);
  });

  it('stops inflating an entry that lies about its size', async () => {
    const m = await manifest();
    const big = manifestBytes(m);
    const liar = rawZip([
      { name: 'manifest.json', data: new Uint8Array(deflateRawSync(big)), method: 8, size: 100, crc: 0 },
      { name: 'MODEL_CARD.md', data: card },
      { name: 'model.onnx', data: model },
    ]);
    const r = await refusal(liar);
    expect(r.reason).toBe('unsafe-archive');
    expect(r.detail).toMatch(/inflates to more than the 100 bytes it declares/);
  });

  it('refuses overlapping entries (non-recursive zip bomb)', async () => {
    const r = await refusal(
      rawZip(
        [
          { name: 'manifest.json', data: enc.encode('{}') },
          { name: 'model.onnx', data: model },
        ],
        { overlapFirst: true },
      ),
    );
    expect(r.reason).toBe('unsafe-archive');
    expect(r.detail).toMatch(/overlaps/);
  });

  it('refuses too many entries, duplicate names and encrypted entries', async () => {
    const many = rawZip(Array.from({ length: 20 }, (_, i) => ({ name: `f${i}`, data: enc.encode('x') })));
    expect(await refusal(many)).toMatchObject({ reason: 'unsafe-archive', detail: expect.stringMatching(/holds 20 files/) });
    const dup = rawZip([
      { name: 'manifest.json', data: enc.encode('{}') },
      { name: 'manifest.json', data: enc.encode('{}') },
    ]);
    expect(await refusal(dup)).toMatchObject({ detail: expect.stringMatching(/twice/) });
  });

  it('refuses oversized archives and files without reading them', async () => {
    let reads = 0;
    const huge: ByteSource = { size: 3 * 2 ** 30, read: async () => (reads++, new Uint8Array(0)) };
    expect(await refusal(huge)).toMatchObject({ reason: 'too-large', detail: expect.stringMatching(/3072 MB; the largest package accepted is 1024 MB/) });
    expect(reads).toBe(0);
    const declaredHuge = rawZip([{ name: 'model.onnx', data: enc.encode('x'), size: 1500 * 2 ** 20, method: 8 }]);
    expect(await refusal(declaredHuge)).toMatchObject({ reason: 'too-large', detail: expect.stringMatching(/1500 MB once extracted/) });
    const m = await manifest();
    const bigCard = new Uint8Array(2 << 20).fill(0x41);
    const pkg = join(writeZip(files({ 'manifest.json': manifestBytes(m), 'MODEL_CARD.md': bigCard, 'model.onnx': model })));
    expect(await refusal(pkg)).toMatchObject({ reason: 'too-large', detail: expect.stringMatching(/MODEL_CARD\.md is 2097152 bytes/) });
  });

  it('refuses a damaged entry (checksum)', async () => {
    const m = await manifest();
    const pkg = rawZip([
      { name: 'manifest.json', data: manifestBytes(m), crc: 1234 },
      { name: 'MODEL_CARD.md', data: card },
      { name: 'model.onnx', data: model },
    ]);
    expect(await refusal(pkg)).toMatchObject({ reason: 'damaged', detail: expect.stringMatching(/ZIP checksum/) });
  });
});
