// Model packages (.facies-model.zip): manifest.json, model.onnx, MODEL_CARD.md and, when signed, signature.json.
// openModelPackage is the one check both the app (on import) and `npm run model:verify` run: archive safety,
// schema, file hashes, signature. The self-test comes after, on the backend that will run the model.
import { ManifestError, sha256Hex, validateManifest, verifyModelBytes, type ModelManifest } from '../manifest';
import { ArchiveError, extractEntry, listEntries, writeZip, type ArchiveEntry, type ArchiveLimits, type ByteSource } from './zip';
import { parseSignature, signManifest, SignatureError, verifyManifestSignature, type TrustedKey } from './signature';

export const PACKAGE_EXTENSION = '.facies-model.zip';

const MiB = 1 << 20;
export const PACKAGE_LIMITS: ArchiveLimits = {
  maxArchiveBytes: 1024 * MiB,
  maxEntries: 8,
  maxEntryBytes: 1000 * MiB,
  maxTotalBytes: 1024 * MiB,
  maxRatio: 50,
};
/** Small files are read whole into memory: they get much tighter limits than the model. */
const SMALL_FILE_LIMIT: Record<string, number> = { 'manifest.json': 2 * MiB, 'MODEL_CARD.md': 1 * MiB, 'signature.json': 16 * 1024 };
const REQUIRED = ['manifest.json', 'model.onnx', 'MODEL_CARD.md'] as const;
const ALLOWED = new Set<string>([...REQUIRED, 'signature.json']);

/** Why a package was refused; each has a sentence for the admin in the `models` i18n namespace. */
export type RefusalReason =
  | 'not-a-package'
  | 'too-large'
  | 'unsafe-archive'
  | 'damaged'
  | 'missing-file'
  | 'unexpected-file'
  | 'invalid-manifest'
  | 'hash-mismatch'
  | 'unsigned-not-confirmed'
  | 'unknown-publisher'
  | 'bad-signature'
  | 'signature-unsupported'
  | 'self-test'
  | 'version-conflict'
  | 'storage';

export class PackageRefusal extends Error {
  constructor(
    readonly reason: RefusalReason,
    /** Technical detail (English), shown under the translated reason and written to the log. */
    readonly detail: string,
  ) {
    super(detail);
    this.name = 'PackageRefusal';
  }
}

export type SignatureStatus = { status: 'unsigned' } | { status: 'trusted'; key: TrustedKey };

export interface OpenedPackage {
  manifest: ModelManifest;
  model: Uint8Array;
  modelCard: string;
  signature: SignatureStatus;
  /** Package size in bytes. */
  bytes: number;
}

export type PackageStage = 'archive' | 'manifest' | 'signature' | 'model';
export interface OpenOptions {
  trustedKeys: readonly TrustedKey[];
  /** Asked when the package is unsigned; an unsigned package is refused unless this resolves true. */
  confirmUnsigned?: (manifest: ModelManifest) => Promise<boolean>;
  onProgress?: (stage: PackageStage, done?: number, total?: number) => void;
}

/** Opens and checks a package; throws PackageRefusal naming the first reason it cannot be used. */
export async function openModelPackage(src: ByteSource, { trustedKeys, confirmUnsigned, onProgress }: OpenOptions): Promise<OpenedPackage> {
  onProgress?.('archive');
  let entries: ArchiveEntry[];
  try {
    entries = await listEntries(src, PACKAGE_LIMITS);
  } catch (e) {
    throw asRefusal(e);
  }
  for (const e of entries)
    if (!ALLOWED.has(e.name))
      throw new PackageRefusal(
        'unexpected-file',
        `The package contains "${e.name}", which is not part of a model package (allowed: ${[...ALLOWED].join(', ')}).`,
      );
  const byName = new Map(entries.map((e) => [e.name, e]));
  for (const name of REQUIRED) if (!byName.has(name)) throw new PackageRefusal('missing-file', `The package has no ${name}.`);
  for (const [name, limit] of Object.entries(SMALL_FILE_LIMIT)) {
    const e = byName.get(name);
    if (e && e.size > limit) throw new PackageRefusal('too-large', `${name} is ${e.size} bytes; at most ${limit} are accepted.`);
  }
  const read = async (name: string, progress?: (n: number) => void) => {
    try {
      return await extractEntry(src, byName.get(name)!, progress);
    } catch (e) {
      throw asRefusal(e);
    }
  };

  onProgress?.('manifest');
  const manifestBytes = await read('manifest.json');
  let manifest: ModelManifest;
  try {
    manifest = validateManifest(JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(manifestBytes)));
  } catch (e) {
    throw new PackageRefusal(
      'invalid-manifest',
      e instanceof ManifestError ? e.problems.join('; ') : `manifest.json is not valid JSON (${(e as Error).message}).`,
    );
  }
  if (!manifest.modelCard) throw new PackageRefusal('invalid-manifest', 'modelCard is missing: a package must declare the SHA-256 of its MODEL_CARD.md.');
  const modelEntry = byName.get('model.onnx')!;
  if (modelEntry.size !== manifest.file.bytes)
    throw new PackageRefusal(
      'hash-mismatch',
      `model.onnx is ${modelEntry.size} bytes but the manifest declares ${manifest.file.bytes}: it is not the file the manifest describes.`,
    );

  // The signature is checked before the large model is read: a refused package costs little.
  onProgress?.('signature');
  let signature: SignatureStatus = { status: 'unsigned' };
  if (byName.has('signature.json')) {
    try {
      const sig = parseSignature(await read('signature.json'));
      signature = { status: 'trusted', key: await verifyManifestSignature(manifestBytes, sig, trustedKeys) };
    } catch (e) {
      if (!(e instanceof SignatureError)) throw e;
      const reason: RefusalReason = e.problem === 'unknown-key' ? 'unknown-publisher' : e.problem === 'unsupported' ? 'signature-unsupported' : 'bad-signature';
      throw new PackageRefusal(reason, e.message);
    }
  } else if (!(await confirmUnsigned?.(manifest))) {
    throw new PackageRefusal('unsigned-not-confirmed', 'The package is not signed, and its use without a signature was not confirmed.');
  }

  const cardBytes = await read('MODEL_CARD.md');
  const cardHash = await sha256Hex(cardBytes);
  if (cardBytes.length !== manifest.modelCard.bytes || cardHash !== manifest.modelCard.sha256)
    throw new PackageRefusal(
      'hash-mismatch',
      `MODEL_CARD.md SHA-256 is ${cardHash} but the manifest declares ${manifest.modelCard.sha256}: the file was altered or corrupted.`,
    );
  const modelCard = new TextDecoder().decode(cardBytes);

  onProgress?.('model', 0, modelEntry.compressedSize);
  const model = await read('model.onnx', (n) => onProgress?.('model', n, modelEntry.compressedSize));
  try {
    await verifyModelBytes(manifest, model);
  } catch (e) {
    throw new PackageRefusal('hash-mismatch', (e as ManifestError).problems?.join('; ') ?? (e as Error).message);
  }
  return { manifest, model, modelCard, signature, bytes: src.size };
}

function asRefusal(e: unknown): PackageRefusal {
  if (e instanceof PackageRefusal) return e;
  if (e instanceof ArchiveError) {
    const reason: RefusalReason =
      e.problem === 'not-zip' || e.problem === 'unsupported'
        ? 'not-a-package'
        : e.problem === 'too-large'
          ? 'too-large'
          : e.problem === 'corrupt'
            ? 'damaged'
            : 'unsafe-archive';
    return new PackageRefusal(reason, e.message);
  }
  return new PackageRefusal('damaged', `The package could not be read (${(e as Error).message}).`);
}

export interface PackageContents {
  manifest: ModelManifest;
  model: Uint8Array;
  modelCard: Uint8Array;
  /** PKCS#8 PEM private key; the package is unsigned without it. */
  signingKeyPem?: string;
}

/** The package's bytes, as chunks; the manifest must already describe model and card (hashes, sizes). */
export async function createModelPackage({ manifest, model, modelCard, signingKeyPem }: PackageContents): Promise<Uint8Array[]> {
  validateManifest(manifest);
  await verifyModelBytes(manifest, model);
  if (!manifest.modelCard || manifest.modelCard.sha256 !== (await sha256Hex(modelCard)))
    throw new ManifestError(['modelCard must give the SHA-256 and size of MODEL_CARD.md']);
  const manifestBytes = new TextEncoder().encode(JSON.stringify(manifest, null, 2) + '\n');
  const files = [
    { name: 'manifest.json', data: manifestBytes },
    { name: 'MODEL_CARD.md', data: modelCard },
  ];
  if (signingKeyPem)
    files.push({ name: 'signature.json', data: new TextEncoder().encode(JSON.stringify(await signManifest(manifestBytes, signingKeyPem), null, 2) + '\n') });
  files.push({ name: 'model.onnx', data: model });
  return writeZip(files);
}
