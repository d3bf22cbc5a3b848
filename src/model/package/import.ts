// Importing a model package on the device: open and check it (src/model/package/package.ts), store the verified
// model (the model store owns the files), self-test it on this device's backend in the inference worker, and
// keep the package's card and signature. Nothing already installed changes unless every step succeeds.
import { deleteModel, getStoredManifest, ModelStoreError, storeModel } from '../store';
import type { ModelManifest } from '../manifest';
import { openModelPackage, PackageRefusal, type OpenedPackage, type PackageStage } from './package';
import type { ModelRegistry } from './registry';
import { blobSource } from './zip';

export type ImportStage = PackageStage | 'store' | 'self-test';

export interface ImportOptions {
  registry: ModelRegistry;
  /** Asked for an unsigned package, after its manifest was checked; resolve true only on the admin's explicit choice. */
  confirmUnsigned: (manifest: ModelManifest) => Promise<boolean>;
  /** Runs the stored model's self-test on this device's backend without switching models (the inference worker). */
  selfTest: (id: string, version: string) => Promise<unknown>;
  onProgress?: (stage: ImportStage, done?: number, total?: number) => void;
}

export async function importModelPackage(
  file: Blob & { name?: string },
  { registry, confirmUnsigned, selfTest, onProgress }: ImportOptions,
): Promise<OpenedPackage> {
  const subject = file.name ?? 'package';
  try {
    const opened = await openModelPackage(blobSource(file), { trustedKeys: registry.trustedKeys(), confirmUnsigned, onProgress });
    const { manifest } = opened;
    const existing = await getStoredManifest(manifest.id, manifest.version).catch(() => null);
    if (existing && existing.file.sha256 !== manifest.file.sha256)
      throw new PackageRefusal(
        'version-conflict',
        `A different model with the same id and version (${manifest.id} ${manifest.version}) is already installed. The publisher must give a new model a new version number.`,
      );

    onProgress?.('store', 0, manifest.file.bytes);
    try {
      await storeModel(manifest, opened.model, { source: 'import', onProgress: (p) => onProgress?.('store', p.loaded, p.total) });
    } catch (e) {
      throw new PackageRefusal('storage', e instanceof ModelStoreError ? e.message : `The model could not be stored (${(e as Error).message}).`);
    }
    onProgress?.('self-test');
    try {
      await selfTest(manifest.id, manifest.version);
    } catch (e) {
      if (!existing) await deleteModel(manifest.id, manifest.version).catch(() => undefined);
      throw new PackageRefusal('self-test', (e as Error).message);
    }
    registry.recordPackage({
      id: manifest.id,
      version: manifest.version,
      modelCard: opened.modelCard,
      signature: opened.signature,
      packageBytes: opened.bytes,
      importedAt: new Date().toISOString(),
    });
    const who =
      opened.signature.status === 'trusted'
        ? `signed by ${opened.signature.key.label} (${opened.signature.key.fingerprint.slice(0, 16)}…)`
        : 'unsigned, confirmed by the user';
    registry.log(opened.signature.status === 'trusted' ? 'imported' : 'imported-unsigned', `${manifest.id} ${manifest.version}`, `${subject}, ${who}`);
    return opened;
  } catch (e) {
    const refusal = e instanceof PackageRefusal ? e : new PackageRefusal('damaged', `The package could not be read (${(e as Error).message}).`);
    registry.log('refused', subject, `${refusal.reason}: ${refusal.detail}`);
    throw refusal;
  }
}
