// The model's weights handed to ONNX Runtime as external data that is the model file itself, without a copy.
//
// ONNX Runtime Web copies a model given as bytes into its WebAssembly heap and parses it there, so every weight is in
// the heap twice while the session is built (the file, then the tensor made from it), and a WebAssembly heap never
// shrinks: that copy stays in the tab's memory for as long as the model is loaded. Given as external data, a weight
// is copied from the JS buffer straight into its tensor. So the graph is rewritten here with every large top-level
// initializer pointing into the original file (`location` = EXTERNAL_FILE, `offset` = where its raw_data lies in
// that file): the file on the device, its hash and the manifest stay as they are, and ORT reads the weights from the
// same buffer that was verified. Measured on the demo ResNet-100 (onnxruntime-web, WASM, one thread): heap after the
// session 575 → 429 MB, session creation 4.9 → 3.7 s, identical probabilities.
//
// On WASM the float16 weights of a float16-mixed model can also be widened to float32 as ORT reads them
// (ExternalizeOptions.widenFloat16), so that ORT never holds them in float16 or constant-folds their Casts, and each
// weight can be served from a copy of its own that is freed once ORT has read it (ExternalizeOptions.releaseAsRead).
//
// Only what this needs of protobuf's wire format is read: ModelProto.graph (7); in GraphProto, node (1), initializer
// (5), input (11) and output (12) names; in a NodeProto, input, output, op_type and attributes (a Cast's `to`, and
// whether any has a subgraph); in a TensorProto, name, data_type, raw_data and whether it is external. Everything else
// is copied byte for byte.
import { freeNow } from '../platform/free-now';

/** The name the rewritten graph gives the external data file (ORT's externalData `path`). */
export const EXTERNAL_FILE = 'model.onnx';

/** Initializers smaller than this stay in the graph: moving them gains nothing. */
const MIN_EXTERNAL_BYTES = 1024;

/** The name of the virtual float32 file of the widened float16 weights. */
export const FLOAT32_FILE = 'weights.float32';

const MODEL_GRAPH = 7;
const GRAPH_NODE = 1;
const GRAPH_INITIALIZER = 5;
const GRAPH_INPUT = 11;
const GRAPH_OUTPUT = 12;
const GRAPH_VALUE_INFO = 13;
const VALUE_INFO_NAME = 1;
const NODE_INPUT = 1;
const NODE_OUTPUT = 2;
const NODE_OP_TYPE = 4;
const NODE_ATTRIBUTE = 5;
const NODE_DOMAIN = 7;
const ATTRIBUTE_NAME = 1;
const ATTRIBUTE_I = 3;
const ATTRIBUTE_G = 6;
const ATTRIBUTE_GRAPHS = 11;
const TENSOR_DATA_TYPE = 2;
const TENSOR_NAME = 8;
const TENSOR_RAW_DATA = 9;
const TENSOR_EXTERNAL_DATA = 13;
const TENSOR_DATA_LOCATION = 14;
const DATA_LOCATION_EXTERNAL = 1;
const LENGTH_DELIMITED = 2;
const TYPE_FLOAT = 1;
const TYPE_FLOAT16 = 10;

export interface ExternalWeights {
  /** The graph without the moved weights (a valid ModelProto). */
  graph: Uint8Array;
  /** ORT's externalData: the file itself, and the virtual float32 file when weights were widened. */
  files: { path: string; data: Uint8Array }[];
  /** Initializers moved out as they are, and their bytes. */
  tensors: number;
  bytes: number;
  /** float16 initializers widened to float32 (their Casts removed), and their float32 bytes. */
  widened: number;
  widenedBytes: number;
  /** Frees the virtual files' scratch buffer and, with releaseAsRead, the weights' copies: call once ORT has created the session. */
  release(): void;
}

interface Field {
  number: number;
  wireType: number;
  /** The whole field, tag included. */
  start: number;
  end: number;
  /** For length-delimited fields: where the payload starts. */
  payload: number;
}

class WireError extends Error {}

function readVarint(buf: Uint8Array, at: number, end: number): [value: number, next: number] {
  let value = 0;
  let scale = 1;
  for (let i = at; i < end && i < at + 10; i++) {
    const byte = buf[i]!;
    value += (byte & 0x7f) * scale; // arithmetic, not bit shifts: values past 2^31 stay exact (up to 2^53)
    if (byte < 0x80) return [value, i + 1];
    scale *= 128;
  }
  throw new WireError('truncated varint');
}

/** The fields of the message in buf[start, end), in order. */
function* fields(buf: Uint8Array, start: number, end: number): Generator<Field> {
  let at = start;
  while (at < end) {
    const [tag, afterTag] = readVarint(buf, at, end);
    const number = Math.floor(tag / 8);
    const wireType = tag % 8;
    let next: number;
    let payload = afterTag;
    if (wireType === 0) next = readVarint(buf, afterTag, end)[1];
    else if (wireType === 1) next = afterTag + 8;
    else if (wireType === 5) next = afterTag + 4;
    else if (wireType === LENGTH_DELIMITED) {
      const [length, afterLength] = readVarint(buf, afterTag, end);
      payload = afterLength;
      next = afterLength + length;
    } else throw new WireError(`unsupported wire type ${wireType}`);
    if (number === 0 || next > end) throw new WireError('field past the end of its message');
    yield { number, wireType, start: at, end: next, payload };
    at = next;
  }
}

function varint(value: number): number[] {
  const out: number[] = [];
  while (value >= 0x80) {
    out.push((value % 128) | 0x80);
    value = Math.floor(value / 128);
  }
  out.push(value);
  return out;
}

const utf8 = new TextEncoder();

/** A message being written: parts are views of the original buffer or small new arrays, joined once at the end. */
class Writer {
  readonly parts: Uint8Array[] = [];
  length = 0;
  push(part: Uint8Array): void {
    this.parts.push(part);
    this.length += part.length;
  }
  bytes(number: number, payload: Uint8Array | Writer): void {
    const length = payload.length;
    this.push(Uint8Array.from([...varint(number * 8 + LENGTH_DELIMITED), ...varint(length)]));
    if (payload instanceof Writer) for (const part of payload.parts) this.push(part);
    else this.push(payload);
  }
  varintField(number: number, value: number): void {
    this.push(Uint8Array.from([...varint(number * 8), ...varint(value)]));
  }
  join(): Uint8Array {
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const part of this.parts) {
      out.set(part, at);
      at += part.length;
    }
    return out;
  }
}

function entry(key: string, value: string): Writer {
  const w = new Writer();
  w.bytes(1, utf8.encode(key));
  w.bytes(2, utf8.encode(value));
  return w;
}

function externalEntries(w: Writer, location: string, offset: number, length: number): void {
  w.bytes(TENSOR_EXTERNAL_DATA, entry('location', location));
  w.bytes(TENSOR_EXTERNAL_DATA, entry('offset', String(offset)));
  w.bytes(TENSOR_EXTERNAL_DATA, entry('length', String(length)));
  w.varintField(TENSOR_DATA_LOCATION, DATA_LOCATION_EXTERNAL);
}

const decoder = new TextDecoder();
const text = (buf: Uint8Array, f: Field) => decoder.decode(buf.subarray(f.payload, f.end));

function valueInfoName(buf: Uint8Array, field: Field): string {
  for (const f of fields(buf, field.payload, field.end)) if (f.number === VALUE_INFO_NAME && f.wireType === LENGTH_DELIMITED) return text(buf, f);
  return '';
}

interface Initializer {
  name: string;
  dataType: number;
  /** raw_data, unless the tensor is already external (then it is left alone). */
  raw: Field | null;
}

function readInitializer(buf: Uint8Array, field: Field): Initializer {
  let name = '';
  let dataType = 0;
  let raw: Field | null = null;
  let external = false;
  for (const f of fields(buf, field.payload, field.end)) {
    if (f.number === TENSOR_NAME && f.wireType === LENGTH_DELIMITED) name = text(buf, f);
    else if (f.number === TENSOR_DATA_TYPE && f.wireType === 0) dataType = readVarint(buf, f.payload, f.end)[0];
    else if (f.number === TENSOR_RAW_DATA && f.wireType === LENGTH_DELIMITED) raw = f;
    // Already external (or a shape this does not know): left for ORT to read as it is.
    else if (f.number === TENSOR_EXTERNAL_DATA || f.number === TENSOR_DATA_LOCATION) external = true;
  }
  return { name, dataType, raw: external || !raw || raw.end - raw.payload < MIN_EXTERNAL_BYTES ? null : raw };
}

interface Node {
  inputs: string[];
  outputs: string[];
  /** For a Cast: its `to` data type. */
  castTo: number | null;
  /** A node with a subgraph (If, Loop, Scan) may read any outer name: no initializer is renamed then. */
  hasSubgraph: boolean;
}

function readNode(buf: Uint8Array, field: Field): Node {
  const node: Node = { inputs: [], outputs: [], castTo: null, hasSubgraph: false };
  let opType = '';
  let domain = '';
  for (const f of fields(buf, field.payload, field.end)) {
    if (f.wireType !== LENGTH_DELIMITED) continue;
    if (f.number === NODE_INPUT) node.inputs.push(text(buf, f));
    else if (f.number === NODE_DOMAIN) domain = text(buf, f);
    else if (f.number === NODE_OUTPUT) node.outputs.push(text(buf, f));
    else if (f.number === NODE_OP_TYPE) opType = text(buf, f);
    else if (f.number === NODE_ATTRIBUTE) {
      let name = '';
      let i: number | null = null;
      for (const a of fields(buf, f.payload, f.end)) {
        if (a.number === ATTRIBUTE_NAME && a.wireType === LENGTH_DELIMITED) name = text(buf, a);
        else if (a.number === ATTRIBUTE_I && a.wireType === 0) i = readVarint(buf, a.payload, a.end)[0];
        else if (a.number === ATTRIBUTE_G || a.number === ATTRIBUTE_GRAPHS) node.hasSubgraph = true;
      }
      if (name === 'to') node.castTo = i;
    }
  }
  if (opType !== 'Cast' || (domain !== '' && domain !== 'ai.onnx')) node.castTo = null;
  return node;
}

/** One tensor of a virtual file: where ORT reads it, and the stored bytes it is read from. */
interface Span {
  target: number;
  /** Bytes ORT reads (for a widened tensor, twice its float16 bytes). */
  length: number;
  /** Its stored bytes: a view into the model file, or (releaseAsRead) a copy of its own. */
  source: Uint8Array;
  widen: boolean;
}

let halfToFloatTable: Uint32Array | undefined;

/** The float32 bit pattern of every float16 (exact: float32 holds every float16, subnormals, infinities and NaNs). */
export function halfToFloatBits(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exponent = (h >> 10) & 0x1f;
  let mantissa = h & 0x3ff;
  if (exponent === 0x1f) return (sign | 0x7f800000 | (mantissa << 13)) >>> 0;
  if (exponent !== 0) return (sign | ((exponent + 112) << 23) | (mantissa << 13)) >>> 0;
  if (mantissa === 0) return sign >>> 0;
  let shift = 0; // a subnormal: normalise it
  while ((mantissa & 0x400) === 0) {
    mantissa <<= 1;
    shift += 1;
  }
  return (sign | ((113 - shift) << 23) | ((mantissa & 0x3ff) << 13)) >>> 0;
}

/**
 * A file mounted for ORT that is computed as ORT reads it. ONNX Runtime Web (1.30, `mountExternalData`) reads a
 * mounted file only through `byteLength` and `subarray(begin, end)`, one tensor at a time, and copies each slice into
 * its heap at once. So a widened tensor is computed into one reused scratch buffer (as large as the largest tensor:
 * the ResNet-100's last Gemm, 51 MB) rather than into new ones left to the collector, and a slice is valid only until
 * the next read. With `release`, the stored bytes of every tensor read before are freed at each read: ORT has copied
 * them. tests/unit/session-core.test.ts runs it through onnxruntime-web.
 */
function virtualFile(spans: Span[], total: number, release: boolean): { data: Uint8Array; release: () => void } {
  let scratch: Uint32Array | null = null;
  let served: Span[] = [];
  const slice = (begin = 0, end = total): Uint8Array => {
    begin = Math.max(0, Math.min(total, begin < 0 ? total + begin : begin));
    end = Math.max(begin, Math.min(total, end < 0 ? total + end : end));
    // The spans are in order: those that hold [begin, end), which must be covered without a gap.
    const parts = spans.filter((span) => span.target < end && span.target + span.length > begin);
    for (let i = 0, at = begin; i <= parts.length; i++) {
      const start = i < parts.length ? parts[i]!.target : end;
      if (start > at || (i < parts.length && parts[i]!.source.byteLength === 0))
        throw new RangeError(`no stored bytes for ${at}–${start} of the mounted file (read before, or never there)`);
      if (i < parts.length) at = parts[i]!.target + parts[i]!.length;
    }
    if (release) {
      for (const span of served) if (!parts.includes(span)) freeNow(span.source.buffer);
      served = parts;
    }
    const only = parts.length === 1 ? parts[0]! : null;
    if (only && !only.widen) return only.source.subarray(begin - only.target, end - only.target);
    const first = Math.floor(begin / 4);
    const length = Math.ceil(end / 4) - first;
    if (!scratch || scratch.length < length) {
      if (scratch) freeNow(scratch.buffer);
      scratch = new Uint32Array(length);
    }
    const words = scratch;
    const bytesOut = new Uint8Array(words.buffer, 0, length * 4);
    halfToFloatTable ??= Uint32Array.from({ length: 65536 }, (_, h) => halfToFloatBits(h));
    const table = halfToFloatTable;
    for (const span of parts) {
      const from = Math.max(begin, span.target); // bytes of the virtual file
      const to = Math.min(end, span.target + span.length);
      if (!span.widen) {
        bytesOut.set(span.source.subarray(from - span.target, to - span.target), from - first * 4);
        continue;
      }
      const src = span.source;
      for (let w = Math.floor(from / 4), last = Math.ceil(to / 4); w < last; w++) {
        const at = (w * 4 - span.target) / 2;
        words[w - first] = table[src[at]! | (src[at + 1]! << 8)]!;
      }
    }
    return new Uint8Array(words.buffer, begin - first * 4, end - begin);
  };
  const data = new Uint8Array(0);
  Object.defineProperties(data, { byteLength: { value: total }, subarray: { value: slice } });
  return {
    data,
    release: () => {
      if (scratch) freeNow(scratch.buffer);
      scratch = null;
      if (release) for (const span of spans) freeNow(span.source.buffer);
    },
  };
}

export interface ExternalizeOptions {
  /**
   * Float16 weights that the graph only casts to float32 become float32 initializers read from a virtual file
   * (FLOAT32_FILE) that widens them as ORT reads it, and their Casts go. On WASM, ORT needs them in float32: otherwise
   * it loads the float16 tensors, constant-folds the Casts into new float32 tensors and frees the float16 ones, and
   * the heap, which never shrinks, keeps the high-water mark of all three stages.
   */
  widenFloat16?: boolean;
  /**
   * Each moved tensor's bytes are copied out of the file into a buffer of its own, which is freed as soon as ORT has
   * read it: the caller can free the file before creating the session, and the tab never holds the whole file and
   * the weights ORT has made from it at once. Only for a runtime that copies each tensor as it reads it
   * (onnxruntime-web on WASM); a tensor is served once.
   */
  releaseAsRead?: boolean;
}

/**
 * The graph of the ONNX model `file` with its large top-level initializers as external data in `file` itself, or
 * null when there is nothing to move or the file is not a protobuf this can read (ORT then gets the file as it is,
 * and says what is wrong with it). Pass `files` to ORT as its externalData.
 */
export function externalizeWeights(file: Uint8Array, options: ExternalizeOptions = {}): ExternalWeights | null {
  try {
    const model = new Writer();
    let tensors = 0;
    let bytes = 0;
    let widened = 0;
    let widenedBytes = 0;
    const widenedSpans: Span[] = [];
    const fileSpans: Span[] = [];
    const stored = (raw: Field) => (options.releaseAsRead ? file.slice(raw.payload, raw.end) : file.subarray(raw.payload, raw.end));
    for (const f of fields(file, 0, file.length)) {
      if (f.number !== MODEL_GRAPH || f.wireType !== LENGTH_DELIMITED) {
        model.push(file.subarray(f.start, f.end));
        continue;
      }
      const parts = [...fields(file, f.payload, f.end)];
      const initializers = new Map<Field, Initializer>();
      const nodes = new Map<Field, Node>();
      const pinned = new Set<string>(); // names an initializer must keep: graph inputs and outputs
      for (const g of parts) {
        if (g.wireType !== LENGTH_DELIMITED) continue;
        if (g.number === GRAPH_INITIALIZER) initializers.set(g, readInitializer(file, g));
        else if (g.number === GRAPH_NODE && options.widenFloat16) nodes.set(g, readNode(file, g));
        else if (g.number === GRAPH_INPUT || g.number === GRAPH_OUTPUT) pinned.add(valueInfoName(file, g));
      }
      // float16 initializer name → the Cast to float32 that is its only reader.
      const casts = new Map<string, { field: Field; output: string }>();
      if (![...nodes.values()].some((n) => n.hasSubgraph)) {
        const readers = new Map<string, number>();
        for (const n of nodes.values()) for (const input of n.inputs) readers.set(input, (readers.get(input) ?? 0) + 1);
        const float16 = new Set([...initializers.values()].filter((t) => t.dataType === TYPE_FLOAT16 && t.raw && !pinned.has(t.name)).map((t) => t.name));
        for (const [field, n] of nodes)
          if (n.castTo === TYPE_FLOAT && n.inputs.length === 1 && n.outputs.length === 1 && float16.has(n.inputs[0]!) && readers.get(n.inputs[0]!) === 1)
            casts.set(n.inputs[0]!, { field, output: n.outputs[0]! });
      }
      const dropped = new Set([...casts.values()].map((c) => c.field));
      const graph = new Writer();
      for (const g of parts) {
        if (dropped.has(g) || (g.number === GRAPH_VALUE_INFO && casts.size > 0 && casts.has(valueInfoName(file, g)))) continue;
        const t = initializers.get(g);
        if (!t?.raw) {
          graph.push(file.subarray(g.start, g.end));
          continue;
        }
        const length = t.raw.end - t.raw.payload;
        const w = new Writer();
        const cast = casts.get(t.name);
        for (const x of fields(file, g.payload, g.end)) {
          if (x.number === TENSOR_RAW_DATA || (cast && (x.number === TENSOR_NAME || x.number === TENSOR_DATA_TYPE))) continue;
          w.push(file.subarray(x.start, x.end));
        }
        if (cast) {
          w.bytes(TENSOR_NAME, utf8.encode(cast.output)); // the Cast's output, which its readers read
          w.varintField(TENSOR_DATA_TYPE, TYPE_FLOAT);
          widenedSpans.push({ target: widenedBytes, length: length * 2, source: stored(t.raw), widen: true });
          externalEntries(w, FLOAT32_FILE, widenedBytes, length * 2);
          widened += 1;
          widenedBytes += length * 2;
        } else {
          if (options.releaseAsRead) fileSpans.push({ target: t.raw.payload, length, source: stored(t.raw), widen: false });
          externalEntries(w, EXTERNAL_FILE, t.raw.payload, length);
          tensors += 1;
          bytes += length;
        }
        graph.bytes(GRAPH_INITIALIZER, w);
      }
      model.bytes(MODEL_GRAPH, graph);
    }
    if (tensors + widened === 0) return null;
    const mounted = [
      ...(tensors > 0 ? [{ path: EXTERNAL_FILE, file: options.releaseAsRead ? virtualFile(fileSpans, file.length, true) : null }] : []),
      ...(widened > 0 ? [{ path: FLOAT32_FILE, file: virtualFile(widenedSpans, widenedBytes, options.releaseAsRead === true) }] : []),
    ];
    return {
      graph: model.join(),
      files: mounted.map((m) => ({ path: m.path, data: m.file?.data ?? file })),
      tensors,
      bytes,
      widened,
      widenedBytes,
      release: () => mounted.forEach((m) => m.file?.release()),
    };
  } catch (e) {
    if (e instanceof WireError) return null;
    throw e;
  }
}
