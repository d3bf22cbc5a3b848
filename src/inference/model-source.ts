// Where the worker gets a model's verified bytes: the on-device store (src/model/store.ts), which downloads a model
// folder once (resumable, with progress) and serves the verified copy offline. Store errors become the codes the UI
// explains (common:modelErrors.<code>).
import type { ModelManifest } from '../model/manifest';
import { downloadModel, listStoredModels, ModelStoreError, readModelBytes, type ModelStoreErrorCode, type StoreProgress } from '../model/store';
import type { FromWorker, ToWorker } from './protocol';
import { InferenceFailure } from './session-core';

const CODES: Record<ModelStoreErrorCode, InferenceFailure['code']> = {
  corrupt: 'model-corrupt',
  missing: 'model-download',
  mismatch: 'model-invalid',
  'invalid-manifest': 'model-invalid',
  download: 'model-download',
  quota: 'model-storage',
  unavailable: 'model-storage',
};

function fromStoreError(e: unknown): InferenceFailure {
  if (!(e instanceof ModelStoreError)) return new InferenceFailure('model-download', (e as Error)?.message ?? String(e));
  return new InferenceFailure(CODES[e.code], e.message);
}

export interface ObtainedModel {
  manifest: ModelManifest;
  bytes: Uint8Array;
  /** Newly downloaded (older versions may be pruned once it is self-tested). */
  downloaded: boolean;
}

/**
 * The model's verified bytes. A stored model is read by id; a model folder is downloaded into the store once;
 * offline, the copy stored from that folder is used.
 */
export async function obtainModel(
  msg: Extract<ToWorker, { type: 'load' }>,
  post: (m: Extract<FromWorker, { type: 'progress' }>) => void,
  origin: string,
): Promise<ObtainedModel> {
  const { requestId } = msg;
  let lastReport = -Infinity;
  const onProgress = ({ loaded, total }: StoreProgress) => {
    if (loaded - lastReport < Math.min(2 << 20, total / 100) && loaded < total) return; // every 2 MiB or 1%
    lastReport = loaded;
    post({ type: 'progress', requestId, stage: loaded < total ? 'download' : 'verify', loaded, total });
  };
  try {
    if (msg.stored) {
      post({ type: 'progress', requestId, stage: 'verify' });
      return { ...(await readModelBytes(msg.stored.id, msg.stored.version)), downloaded: false };
    }
    const base = new URL(msg.modelBaseUrl, origin).href;
    try {
      const { manifest, bytes, downloaded } = await downloadModel(base, { onProgress });
      return { manifest, bytes, downloaded };
    } catch (e) {
      if (!(e instanceof ModelStoreError && e.code === 'download')) throw e;
      // No network (ward, conference booth): the copy stored from this folder, newest first.
      const stored = (await listStoredModels()).find((m) => m.source === base);
      if (!stored) throw new ModelStoreError('download', `${e.message} No copy is stored on this device yet.`);
      post({ type: 'progress', requestId, stage: 'verify' });
      return { ...(await readModelBytes(stored.id, stored.version)), downloaded: false };
    }
  } catch (e) {
    throw fromStoreError(e);
  }
}
