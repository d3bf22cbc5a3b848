// The UI side of the inference worker: promises over typed messages.
import {
  REPLY_TYPES,
  type BackendPreference,
  type FromWorker,
  type InferenceErrorCode,
  type LoadTuning,
  type ModelReady,
  type ProgressMessage,
  type ReplyTo,
  type Request,
  type ToWorker,
} from './protocol';

export class InferenceError extends Error {
  constructor(
    readonly code: InferenceErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'InferenceError';
  }
}

export type LoadProgress = Extract<FromWorker, { type: 'progress' }>;
export type ExplainProgress = Extract<FromWorker, { type: 'explain-progress' }>;
type Progress = ProgressMessage;

export interface Explanation {
  /** cells × cells, row-major: drop in the class's probability with the patch at each position. */
  drops: Float32Array;
  cells: number;
  baseProbability: number;
  elapsedMs: number;
}

type Pending = { resolve: (m: FromWorker) => void; reject: (e: Error) => void; onProgress?: (p: Progress) => void };

export class InferenceClient {
  private readonly worker: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  constructor() {
    this.worker = new Worker(new URL('./inference.worker.ts', import.meta.url), { type: 'module', name: 'facies-inference' });
    this.worker.onmessage = (e: MessageEvent<FromWorker>) => this.receive(e.data);
    this.worker.onerror = (e) => {
      const err = new InferenceError('session', `The inference worker stopped: ${e.message || 'unknown error'}`);
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
  }

  private receive(msg: FromWorker) {
    const p = this.pending.get(msg.requestId);
    if (!p) return;
    if (msg.type === 'progress' || msg.type === 'explain-progress') return p.onProgress?.(msg);
    this.pending.delete(msg.requestId);
    if (msg.type === 'error') p.reject(new InferenceError(msg.code, msg.message));
    else p.resolve(msg);
  }

  /** Sends one request; settles with its reply (typed by ReplyTypes) or rejects with the worker's error. */
  private request<R extends Request>(msg: R, transfer: Transferable[] = [], onProgress?: (p: Progress) => void): Promise<ReplyTo<R>> {
    return new Promise((resolve, reject) => {
      const expected = REPLY_TYPES[msg.type];
      const settle = (reply: FromWorker) =>
        reply.type === expected
          ? resolve(reply as ReplyTo<R>)
          : reject(new InferenceError(msg.type === 'load' ? 'session' : 'inference', 'Unexpected reply from the inference worker.'));
      this.pending.set(msg.requestId, { resolve: settle, reject, onProgress });
      this.worker.postMessage(msg satisfies ToWorker, transfer);
    });
  }

  async load(modelBaseUrl: string, backend: BackendPreference, onProgress?: (p: LoadProgress) => void, tuning?: LoadTuning): Promise<ModelReady> {
    const reply = await this.request(
      { type: 'load', requestId: this.nextId++, modelBaseUrl, backend, ...(tuning ? { tuning } : {}) },
      [],
      (p) => p.type === 'progress' && onProgress?.(p),
    );
    return reply.ready;
  }

  /**
   * Loads a model from the on-device store (see src/model/store.ts), verified on read; works offline.
   * checkOnly: self-tests it on this device's backend without switching to it (model import).
   */
  async loadStored(id: string, version: string, backend: BackendPreference, onProgress?: (p: LoadProgress) => void, checkOnly = false): Promise<ModelReady> {
    const reply = await this.request(
      { type: 'load', requestId: this.nextId++, modelBaseUrl: '', backend, stored: { id, version }, ...(checkOnly ? { checkOnly } : {}) },
      [],
      (p) => p.type === 'progress' && onProgress?.(p),
    );
    return reply.ready;
  }

  /**
   * Runs a batch of preprocessed crops (NCHW float32, the manifest's input shape); the input buffer is transferred
   * to the worker. `embeddings` (batch × dimension) when the manifest names an embedding output.
   */
  async classify(input: Float32Array, batch: number): Promise<{ probabilities: Float32Array; embeddings?: Float32Array; inferenceMs: number }> {
    const reply = await this.request({ type: 'classify', requestId: this.nextId++, input, batch }, [input.buffer]);
    return { probabilities: reply.probabilities, ...(reply.embeddings ? { embeddings: reply.embeddings } : {}), inferenceMs: reply.inferenceMs };
  }

  /**
   * Occlusion sensitivity of one preprocessed crop for one class, run in the worker in batches.
   * `cancel()`, or aborting `options.signal`, stops it between batches; the promise then rejects with code 'cancelled'.
   */
  explain(
    input: Float32Array,
    classIndex: number,
    options: { patch: number; stride: number; batchSize: number; signal?: AbortSignal },
    onProgress?: (p: ExplainProgress) => void,
  ): { result: Promise<Explanation>; cancel: () => void } {
    const requestId = this.nextId++;
    const { signal, patch, stride, batchSize } = options;
    const cancel = () => this.worker.postMessage({ type: 'cancel', requestId } satisfies ToWorker);
    if (signal?.aborted) {
      return { result: Promise.reject(new InferenceError('cancelled', 'The explanation was cancelled.')), cancel: () => undefined };
    }
    signal?.addEventListener('abort', cancel, { once: true });
    const result = this.request(
      { type: 'explain', requestId, input, classIndex, patch, stride, batchSize },
      [input.buffer],
      (p) => p.type === 'explain-progress' && onProgress?.(p),
    )
      .then((reply) => ({ drops: reply.drops, cells: reply.cells, baseProbability: reply.baseProbability, elapsedMs: reply.elapsedMs }))
      .finally(() => signal?.removeEventListener('abort', cancel));
    return { result, cancel };
  }

  /** Stops the worker (and its session, with all its memory); pending requests reject. */
  terminate() {
    this.worker.terminate();
    const err = new InferenceError('session', 'The inference worker was stopped.');
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}
