// The session core: one model's ONNX Runtime session, from its verified bytes to probabilities. It knows nothing of
// workers, the DOM or IndexedDB, and takes the ONNX Runtime module as a parameter: the inference worker runs it with
// onnxruntime-web, the unit tests with onnxruntime-node (tests/unit/session-core.test.ts), on the same code.
//
//   startModel     create the session (WebGPU → WASM fallback), check its signature against the manifest, self-test
//   ModelSession   classify a batch (any batch size, even on a model with a fixed batch dimension), occlusion
//                  sensitivity in batches (cancellable with an AbortSignal), release
//
// Memory: every tensor is disposed on every path (also when a run throws); the model bytes are not kept, and ORT reads
// the weights from them as external data (./external-weights), not from a copy of the whole file in its heap.
import type * as Ort from 'onnxruntime-web';
import { checkSessionSignature, selfTestDeviation, selfTestImage, type ModelManifest } from '../model/manifest';
import { greyFill, occludeInto, occlusionGrid } from '../pipeline/occlusion';
import { toNchwFloat32 } from '../pipeline/preprocess';
import { freeNow } from '../platform/free-now';
import { externalizeWeights, type ExternalizeOptions } from './external-weights';
import type { InferenceErrorCode } from './protocol';

/** What the core uses of an ONNX Runtime module: onnxruntime-web and onnxruntime-node share it (onnxruntime-common). */
export type OrtModule = Pick<typeof Ort, 'InferenceSession' | 'Tensor'>;
export type SessionOptions = Ort.InferenceSession.SessionOptions;

export class InferenceFailure extends Error {
  constructor(
    readonly code: InferenceErrorCode,
    message: string,
    /** The underlying runtime's own words, when it failed. */
    readonly detail?: string,
  ) {
    super(message);
    this.name = 'InferenceFailure';
  }
}

/** One item of the model's input, read from manifest.input.shape ([N, C, H, W]). */
export interface InputLayout {
  channels: number;
  height: number;
  width: number;
  /** Floats per item: C·H·W. */
  itemLength: number;
  /** The batch size the graph requires, or null when the batch dimension is dynamic (-1). */
  fixedBatch: number | null;
}

export function inputLayout(manifest: Pick<ModelManifest, 'input'>): InputLayout {
  const shape = manifest.input.shape;
  const [n, c, h, w] = shape;
  const positive = (d: number | undefined): d is number => Number.isInteger(d) && d! > 0;
  if (shape.length !== 4 || !positive(c) || !positive(h) || !positive(w) || !(n === -1 || positive(n)))
    throw new InferenceFailure('model-invalid', `The model input must be [N, C, H, W] with fixed C, H and W (the manifest says [${shape.join(', ')}]).`);
  return { channels: c, height: h, width: w, itemLength: c * h * w, fixedBatch: n === -1 ? null : n };
}

export interface Classification {
  /** batch × classes, row-major. */
  probabilities: Float32Array;
  /** batch × dimension, when the manifest names an embedding output (inference.embedding). */
  embeddings?: Float32Array;
}

export interface ExplainOptions {
  patch: number;
  stride: number;
  /** Occluded crops per run; a model with a fixed batch dimension always runs that many. */
  batchSize: number;
}

export interface ExplainResult {
  /** cells × cells, row-major: the class's probability without occlusion minus with the patch there. */
  drops: Float32Array;
  cells: number;
  baseProbability: number;
}

export interface ModelSession {
  readonly manifest: ModelManifest;
  readonly layout: InputLayout;
  /** `input`: `batch` items of layout.itemLength floats (NCHW). */
  classify(input: Float32Array, batch: number): Promise<Classification>;
  /** The largest deviation from the manifest's self-test probabilities. */
  selfTestDeviation(): Promise<number>;
  explain(
    input: Float32Array,
    classIndex: number,
    options: ExplainOptions,
    control?: { signal?: AbortSignal; onProgress?: (done: number, total: number) => void },
  ): Promise<ExplainResult>;
  release(): Promise<void>;
}

const message = (e: unknown) => (e as Error)?.message ?? String(e);

/**
 * Creates the session on `executionProviders` and checks that the graph has the manifest's input and output (and its
 * embedding output, when it names one). A session that fails the check is released before the error is thrown.
 */
export async function openModelSession(
  ort: OrtModule,
  bytes: Uint8Array,
  manifest: ModelManifest,
  options: SessionOptions = {},
  weights: ExternalizeOptions = {},
): Promise<ModelSession> {
  const layout = inputLayout(manifest);
  let session: Ort.InferenceSession;
  try {
    // The weights as external data read from the same buffer: ORT's heap then never holds a copy of the file.
    const split = externalizeWeights(bytes, weights);
    // Every weight has its own copy now: the file goes before ORT builds the session from them.
    if (split && weights.releaseAsRead) freeNow(bytes.buffer);
    try {
      session = split
        ? await ort.InferenceSession.create(split.graph, { ...options, externalData: split.files })
        : await ort.InferenceSession.create(bytes, options);
    } finally {
      split?.release();
    }
  } catch (e) {
    throw new InferenceFailure('session', `The model could not be started (${message(e)}).`, message(e));
  }
  try {
    checkSessionSignature(manifest, {
      inputs: session.inputMetadata.map((m) => ({ name: m.name, shape: m.isTensor ? m.shape : [] })),
      outputs: session.outputMetadata.map((m) => ({ name: m.name, shape: m.isTensor ? m.shape : [] })),
    });
    const embedding = manifest.inference?.embedding;
    if (embedding && !session.outputNames.includes(embedding.output))
      throw new Error(`the model has no embedding output named "${embedding.output}" (it has ${session.outputNames.map((n) => `"${n}"`).join(', ')})`);
  } catch (e) {
    await session.release();
    throw new InferenceFailure('model-invalid', message(e));
  }
  return new CoreSession(ort, session, manifest, layout);
}

class CoreSession implements ModelSession {
  private released = false;
  private readonly fetches: string[];
  private readonly classes: number;

  constructor(
    private readonly ort: OrtModule,
    private readonly session: Ort.InferenceSession,
    readonly manifest: ModelManifest,
    readonly layout: InputLayout,
  ) {
    const embedding = manifest.inference?.embedding;
    this.fetches = embedding ? [manifest.output.name, embedding.output] : [manifest.output.name];
    this.classes = manifest.classes.length;
  }

  /** One session.run on exactly `batch` items; only the outputs used are fetched, and every tensor is disposed. */
  private async runOnce(input: Float32Array, batch: number): Promise<Classification> {
    if (this.released) throw new InferenceFailure('not-ready', 'The model is not loaded yet.');
    const { channels, height, width } = this.layout;
    const tensor = new this.ort.Tensor('float32', input, [batch, channels, height, width]);
    let out: Ort.InferenceSession.OnnxValueMapType | undefined;
    try {
      out = await this.session.run({ [this.manifest.input.name]: tensor }, this.fetches);
      const probabilities = out[this.manifest.output.name];
      if (!probabilities) throw new InferenceFailure('inference', `The model produced no "${this.manifest.output.name}" output.`);
      // Copies: the caller owns (and may transfer) them; ORT's own buffers go with dispose().
      const result: Classification = { probabilities: new Float32Array((await probabilities.getData()) as Float32Array) };
      const embeddingName = this.fetches[1];
      const embeddings = embeddingName ? out[embeddingName] : undefined;
      if (embeddings) result.embeddings = new Float32Array((await embeddings.getData()) as Float32Array);
      return result;
    } catch (e) {
      throw e instanceof InferenceFailure ? e : new InferenceFailure('inference', `The model failed to run (${message(e)}).`);
    } finally {
      tensor.dispose();
      if (out) for (const value of Object.values(out)) value.dispose();
    }
  }

  async classify(input: Float32Array, batch: number): Promise<Classification> {
    const { itemLength, fixedBatch } = this.layout;
    if (!(Number.isInteger(batch) && batch > 0) || input.length !== batch * itemLength)
      throw new InferenceFailure('inference', 'The input does not have the expected size.');
    if (fixedBatch === null || fixedBatch === batch) return this.runOnce(input, batch);
    // A graph with a fixed batch dimension: runs of exactly that many, the last one padded with zeros.
    const probabilities = new Float32Array(batch * this.classes);
    let embeddings: Float32Array | undefined;
    for (let start = 0; start < batch; start += fixedBatch) {
      const n = Math.min(fixedBatch, batch - start);
      const part = new Float32Array(fixedBatch * itemLength);
      part.set(input.subarray(start * itemLength, (start + n) * itemLength));
      const out = await this.runOnce(part, fixedBatch);
      probabilities.set(out.probabilities.subarray(0, n * this.classes), start * this.classes);
      if (out.embeddings) {
        const d = out.embeddings.length / fixedBatch;
        embeddings ??= new Float32Array(batch * d);
        embeddings.set(out.embeddings.subarray(0, n * d), start * d);
      }
    }
    return embeddings ? { probabilities, embeddings } : { probabilities };
  }

  async selfTestDeviation(): Promise<number> {
    const { channels, height, width } = this.layout;
    const image = selfTestImage(this.manifest);
    if (channels !== 3 || height !== image.height || width !== image.width)
      throw new InferenceFailure(
        'model-invalid',
        `The model input is ${channels}×${height}×${width}, but its self-test image is 3×${image.height}×${image.width}.`,
      );
    const { probabilities } = await this.classify(toNchwFloat32(image, this.manifest.normalization), 1);
    return selfTestDeviation(this.manifest, probabilities);
  }

  async explain(
    crop: Float32Array,
    classIndex: number,
    options: ExplainOptions,
    control: { signal?: AbortSignal; onProgress?: (done: number, total: number) => void } = {},
  ): Promise<ExplainResult> {
    const { itemLength, height, width, fixedBatch } = this.layout;
    if (crop.length !== itemLength || height !== width || this.layout.channels !== 3)
      throw new InferenceFailure('inference', 'The input does not have the expected size.');
    if (!(Number.isInteger(classIndex) && classIndex >= 0 && classIndex < this.classes))
      throw new InferenceFailure('inference', `No class ${classIndex} in this model.`);
    let grid;
    try {
      grid = occlusionGrid(options.patch, options.stride, height);
    } catch (e) {
      throw new InferenceFailure('inference', message(e));
    }
    const fill = greyFill(this.manifest.normalization);
    const positions = grid.cells * grid.cells;
    const batchSize = fixedBatch ?? Math.max(1, Math.floor(options.batchSize) || 1);
    // Item −1 is the crop itself, so the baseline comes from the same session and batch shape as the occluded runs.
    const probs = new Float32Array(positions + 1);
    const input = new Float32Array(batchSize * itemLength); // reused: one batch buffer for the whole explanation
    for (let start = -1; start < positions; start += batchSize) {
      // A run resolves without yielding to the event loop: yield, so that a cancel (a message, an abort) gets through.
      await new Promise((resolve) => setTimeout(resolve, 0));
      if (control.signal?.aborted) throw new InferenceFailure('cancelled', 'The explanation was cancelled.');
      const n = Math.min(batchSize, positions - start);
      for (let b = 0; b < n; b++) {
        if (start + b < 0) input.set(crop, 0);
        else occludeInto(input, b * itemLength, crop, grid, start + b, fill);
      }
      // A fixed batch dimension always gets the whole buffer (what follows the n items is ignored).
      const whole = fixedBatch !== null || n === batchSize;
      const out = await this.runOnce(whole ? input : input.subarray(0, n * itemLength), whole ? batchSize : n);
      for (let b = 0; b < n; b++) probs[start + b + 1] = out.probabilities[b * this.classes + classIndex]!;
      control.onProgress?.(Math.max(0, start + n), positions);
    }
    const base = probs[0]!;
    return { drops: probs.slice(1).map((p) => base - p), cells: grid.cells, baseProbability: base };
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await this.session.release();
  }
}

export interface StartModelOptions {
  ort: OrtModule;
  /** The execution provider to create the session on. */
  ep: string;
  /**
   * The verified model file, in a holder that startModel empties (bytes = null) as soon as ONNX Runtime has its own
   * copy of it, so a 100+ MB buffer does not live on through the self-test, or after a failure.
   */
  file: { bytes: Uint8Array | null };
  manifest: ModelManifest;
  /** Merged over { graphOptimizationLevel: 'all' } and the memory options (SESSION_MEMORY_OPTIONS). */
  sessionOptions?: SessionOptions;
  /** When the session cannot be created on `ep`: the runtime and provider to try instead (WebGPU → WASM). */
  fallback?: () => Promise<{ ort: OrtModule; ep: string }>;
  /**
   * The execution providers on which float16 weights are widened to float32 as ORT reads them (see
   * ExternalizeOptions.widenFloat16). Only for a runtime that reads external data through `subarray`, as
   * onnxruntime-web does; onnxruntime-node reads the buffer natively.
   */
  widenFloat16On?: readonly string[];
  /**
   * The execution providers on which each weight is copied out of the file and freed once ORT has read it, and the
   * file freed before the session is created (ExternalizeOptions.releaseAsRead): so the tab never holds the whole file
   * and the weights made from it at once. Only where ORT copies every weight when it reads it (onnxruntime-web's
   * WASM EP); not on a first attempt that may fall back, which needs the file again.
   */
  releaseWeightsOn?: readonly string[];
  /**
   * Free the file's memory at once when ORT has read it (freeNow), not at some later garbage collection: only where
   * the buffer is the model's alone and the runtime copies every weight (onnxruntime-web does, into its heap).
   */
  freeFileWhenRead?: boolean;
  /** Called once the session exists and its self-test starts. */
  onSelfTest?: () => void;
  now?: () => number;
}

export interface StartedModel {
  model: ModelSession;
  ort: OrtModule;
  ep: string;
  /** Why the fallback provider runs it, when it does. */
  fallbackReason?: string;
  selfTestDeviation: number;
  sessionMs: number;
  selfTestMs: number;
}

/**
 * Session options that decide memory: the one place to set them. Measured for issue 17 with onnxruntime-node 1.30 on
 * the ResNet-100 demonstration model (131 MB file, float16-mixed), one process per option: resident memory after
 * creating the session and three batch-1 runs was 765–772 MB with the defaults, enableCpuMemArena: false,
 * enableMemPattern: false, session.disable_prepacking or freeDimensionOverrides { batch: 1 } alike (within noise),
 * and no inference time gain stood out of the noise of a loaded 2-core machine. So none is set: ONNX Runtime's
 * defaults stay until a measurement on a tablet (scripts/bench, LoadTuning.sessionOptions) shows one that wins.
 * (graphOptimizationLevel below 'all' did save 300–480 MB in Node, but ran 4–5× slower: not a trade for a ward.)
 */
const SESSION_MEMORY_OPTIONS: Readonly<SessionOptions> = Object.freeze({});

/**
 * The model, ready to classify: session created (falling back when asked), signature checked, self-test passed.
 * Anything that fails releases what it created and throws an InferenceFailure with the code the UI explains.
 */
export async function startModel(o: StartModelOptions): Promise<StartedModel> {
  const now = o.now ?? (() => performance.now());
  const options: SessionOptions = { graphOptimizationLevel: 'all', ...SESSION_MEMORY_OPTIONS, ...o.sessionOptions };
  const t0 = now();
  let { ort, ep } = o;
  let fallbackReason: string | undefined;
  let model: ModelSession;
  const weightsFor = (ep: string, last: boolean): ExternalizeOptions => ({
    widenFloat16: o.widenFloat16On?.includes(ep) === true,
    releaseAsRead: last && o.releaseWeightsOn?.includes(ep) === true,
  });
  const bytes = o.file.bytes;
  if (!bytes) throw new InferenceFailure('session', 'The model file was already handed to ONNX Runtime.');
  try {
    try {
      model = await openModelSession(ort, bytes, o.manifest, { ...options, executionProviders: [ep] }, weightsFor(ep, !o.fallback));
    } catch (e) {
      if (!(e instanceof InferenceFailure && e.code === 'session') || !o.fallback) throw e;
      ({ ort, ep } = await o.fallback());
      fallbackReason = e.detail ?? e.message;
      model = await openModelSession(ort, bytes, o.manifest, { ...options, executionProviders: [ep] }, weightsFor(ep, true));
    }
  } finally {
    o.file.bytes = null;
    if (o.freeFileWhenRead) freeNow(bytes.buffer);
  }
  const t1 = now();
  // The self-test proves this device's backend computes what the model's publisher computed (and warms it up).
  o.onSelfTest?.();
  let deviation: number;
  try {
    deviation = await model.selfTestDeviation();
  } catch (e) {
    await model.release();
    throw e;
  }
  const t2 = now();
  if (!(deviation <= o.manifest.selfTest.tolerance)) {
    await model.release();
    throw new InferenceFailure(
      'model-self-test',
      `The model failed its self-test on this device (${ep}): outputs differ from the expected ones by ${deviation.toExponential(2)}, more than the allowed ${o.manifest.selfTest.tolerance}.`,
    );
  }
  return { model, ort, ep, ...(fallbackReason !== undefined ? { fallbackReason } : {}), selfTestDeviation: deviation, sessionMs: t1 - t0, selfTestMs: t2 - t1 };
}
