// The UI side of the inference worker: promises over typed messages.
import type { BackendPreference, FromWorker, InferenceErrorCode, LoadTuning, ModelReady, ToWorker } from './protocol';

export class InferenceError extends Error {
  constructor(readonly code: InferenceErrorCode, message: string) {
    super(message);
    this.name = 'InferenceError';
  }
}

export type LoadProgress = Extract<FromWorker, { type: 'progress' }>;
export type ExplainProgress = Extract<FromWorker, { type: 'explain-progress' }>;
type Progress = LoadProgress | ExplainProgress;

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

  private request(msg: ToWorker, transfer: Transferable[] = [], onProgress?: (p: Progress) => void): Promise<FromWorker> {
    return new Promise((resolve, reject) => {
      this.pending.set(msg.requestId, { resolve, reject, onProgress });
      this.worker.postMessage(msg, transfer);
    });
  }

  async load(modelBaseUrl: string, backend: BackendPreference, onProgress?: (p: LoadProgress) => void, tuning?: LoadTuning): Promise<ModelReady> {
    const reply = await this.request({ type: 'load', requestId: this.nextId++, modelBaseUrl, backend, ...(tuning ? { tuning } : {}) }, [], (p) => p.type === 'progress' && onProgress?.(p));
    if (reply.type !== 'ready') throw new InferenceError('session', 'Unexpected reply from the inference worker.');
    return reply.ready;
  }

  /**
   * Loads a model from the on-device store (see src/model/store.ts), verified on read; works offline.
   * checkOnly: self-tests it on this device's backend without switching to it (model import).
   */
  async loadStored(id: string, version: string, backend: BackendPreference, onProgress?: (p: LoadProgress) => void, checkOnly = false): Promise<ModelReady> {
    const reply = await this.request({ type: 'load', requestId: this.nextId++, modelBaseUrl: '', backend, stored: { id, version }, ...(checkOnly ? { checkOnly } : {}) }, [], (p) => p.type === 'progress' && onProgress?.(p));
    if (reply.type !== 'ready') throw new InferenceError('session', 'Unexpected reply from the inference worker.');
    return reply.ready;
  }

  /** Runs a batch of preprocessed crops (NCHW float32); the input buffer is transferred to the worker. */
  async classify(input: Float32Array, batch: number): Promise<{ probabilities: Float32Array; inferenceMs: number }> {
    const reply = await this.request({ type: 'classify', requestId: this.nextId++, input, batch }, [input.buffer]);
    if (reply.type !== 'result') throw new InferenceError('inference', 'Unexpected reply from the inference worker.');
    return { probabilities: reply.probabilities, inferenceMs: reply.inferenceMs };
  }

  /**
   * Occlusion sensitivity of one preprocessed crop for one class, run in the worker in batches.
   * `cancel()` stops it between batches; the promise then rejects with code 'cancelled'.
   */
  explain(
    input: Float32Array,
    classIndex: number,
    options: { patch: number; stride: number; batchSize: number },
    onProgress?: (p: ExplainProgress) => void,
  ): { result: Promise<Explanation>; cancel: () => void } {
    const requestId = this.nextId++;
    const result = this.request({ type: 'explain', requestId, input, classIndex, ...options }, [input.buffer], (p) => p.type === 'explain-progress' && onProgress?.(p)).then((reply) => {
      if (reply.type !== 'explanation') throw new InferenceError('inference', 'Unexpected reply from the inference worker.');
      return { drops: reply.drops, cells: reply.cells, baseProbability: reply.baseProbability, elapsedMs: reply.elapsedMs };
    });
    return { result, cancel: () => this.worker.postMessage({ type: 'cancel', requestId } satisfies ToWorker) };
  }

  terminate() {
    this.worker.terminate();
  }
}
