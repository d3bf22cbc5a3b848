// @ts-check
/**
 * Pure helpers (no fs, no dependencies) to read a TFLite model flatbuffer and
 * to add standard TFLite model metadata (tflite-support `metadata_schema.fbs`,
 * file identifier "M001") describing an image input, so that MediaPipe Tasks
 * (e.g. FaceDetector) accepts a float32 model that ships without metadata.
 *
 * How the model is rewritten (a "surgical prepend", deterministic):
 *
 *   [new header: root offset + "TFL3"]
 *   [new Model table + vtable]              fields copied from the old root,
 *                                           buffers/metadata replaced
 *   [new buffers vector]                    old Buffer tables + 1 new one
 *   [new metadata vector]                   old Metadata tables + 1 new one
 *   [new Metadata table {name: "TFLITE_METADATA", buffer: N}]
 *   [new Buffer table, its data (16-byte aligned) = ModelMetadata flatbuffer]
 *   [padding to a multiple of 16 bytes]
 *   [the original file, byte for byte]      its old root table becomes dead
 *
 * FlatBuffers offsets (uoffset_t) only point forward, so everything new is
 * placed before the original bytes and may point into them; nothing in the
 * original bytes changes, and because the prefix length is a multiple of 16
 * every original buffer keeps its 16-byte alignment.
 *
 * Field ids used below follow upstream `tensorflow/lite/schema/schema.fbs`
 * and `tensorflow_lite_support/metadata/metadata_schema.fbs` (a union takes
 * two vtable slots: `<name>_type` then `<name>`). See the schema subsets in
 * this folder (`*.subset.fbs`) used to check the output with `flatc`.
 */

export const TFLITE_FILE_IDENTIFIER = 'TFL3';
export const METADATA_FILE_IDENTIFIER = 'M001';
export const METADATA_BUFFER_NAME = 'TFLITE_METADATA';

// --- field ids: tensorflow/lite/schema/schema.fbs -------------------------
const MODEL = {
  version: 0,
  operator_codes: 1,
  subgraphs: 2,
  description: 3,
  buffers: 4,
  metadata_buffer: 5,
  metadata: 6,
  signature_defs: 7,
};
/** Model fields that are offsets (vectors/strings); version is a uint. */
const MODEL_OFFSET_FIELDS = new Set([1, 2, 3, 4, 5, 6, 7]);
const MODEL_FIELD_COUNT = 8;
const OPERATOR_CODE = { deprecated_builtin_code: 0, custom_code: 1, version: 2, builtin_code: 3 };
const SUBGRAPH = { tensors: 0, inputs: 1, outputs: 2, operators: 3, name: 4 };
const TENSOR = { shape: 0, type: 1, buffer: 2, name: 3, quantization: 4, is_variable: 5 };
const OPERATOR = {
  opcode_index: 0,
  inputs: 1,
  outputs: 2,
  builtin_options_type: 3,
  builtin_options: 4,
  custom_options: 5,
  custom_options_format: 6,
};
const BUFFER = { data: 0, offset: 1, size: 2 };
const METADATA = { name: 0, buffer: 1 };

// --- field ids: tensorflow_lite_support/metadata/metadata_schema.fbs ------
const MODEL_METADATA = {
  name: 0,
  description: 1,
  version: 2,
  subgraph_metadata: 3,
  author: 4,
  license: 5,
  associated_files: 6,
  min_parser_version: 7,
};
const SUBGRAPH_METADATA = {
  name: 0,
  description: 1,
  input_tensor_metadata: 2,
  output_tensor_metadata: 3,
};
const TENSOR_METADATA = {
  name: 0,
  description: 1,
  dimension_names: 2,
  content: 3,
  process_units: 4,
  stats: 5,
  associated_files: 6,
};
const CONTENT = { content_properties_type: 0, content_properties: 1, range: 2 };
const CONTENT_PROPERTIES = { NONE: 0, FeatureProperties: 1, ImageProperties: 2, BoundingBoxProperties: 3 };
const IMAGE_PROPERTIES = { color_space: 0, default_size: 1 };
const IMAGE_SIZE = { width: 0, height: 1 };
const PROCESS_UNIT = { options_type: 0, options: 1 };
const PROCESS_UNIT_OPTIONS = { NONE: 0, NormalizationOptions: 1 };
const NORMALIZATION_OPTIONS = { mean: 0, std: 1 };
/** @type {Record<string, number>} */
const COLOR_SPACE = { UNKNOWN: 0, RGB: 1, GRAYSCALE: 2 };

const TENSOR_TYPES = [
  'FLOAT32', 'FLOAT16', 'INT32', 'UINT8', 'INT64', 'STRING', 'BOOL', 'INT16',
  'COMPLEX64', 'INT8', 'FLOAT64', 'COMPLEX128', 'UINT64', 'RESOURCE', 'VARIANT',
  'UINT32', 'UINT16', 'INT4',
];

// ===========================================================================
// Reader
// ===========================================================================

const textDecoder = new TextDecoder('utf-8', { fatal: true });
const textEncoder = new TextEncoder();

/** Minimal bounds-checked FlatBuffers reader over a byte array. */
export class FlatReader {
  /** @param {Uint8Array} bytes */
  constructor(bytes) {
    if (!(bytes instanceof Uint8Array)) throw new TypeError('expected a Uint8Array');
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** @param {number} pos @param {number} size */
  check(pos, size) {
    if (!Number.isInteger(pos) || pos < 0 || pos + size > this.bytes.length) {
      throw new RangeError(`flatbuffer access out of bounds: ${pos}+${size} > ${this.bytes.length}`);
    }
  }
  /** @param {number} p */ u8(p) { this.check(p, 1); return this.view.getUint8(p); }
  /** @param {number} p */ i8(p) { this.check(p, 1); return this.view.getInt8(p); }
  /** @param {number} p */ u16(p) { this.check(p, 2); return this.view.getUint16(p, true); }
  /** @param {number} p */ i32(p) { this.check(p, 4); return this.view.getInt32(p, true); }
  /** @param {number} p */ u32(p) { this.check(p, 4); return this.view.getUint32(p, true); }
  /** @param {number} p */ f32(p) { this.check(p, 4); return this.view.getFloat32(p, true); }
  /** @param {number} p */ u64(p) { this.check(p, 8); return this.view.getBigUint64(p, true); }

  /** 4-character file identifier at bytes 4..7. */
  identifier() {
    this.check(0, 8);
    return String.fromCharCode(...this.bytes.subarray(4, 8));
  }
  /** Position of the root table. */
  root() { return this.u32(0); }
  /** @param {number} table @returns {number} absolute position of the vtable */
  vtable(table) { return table - this.i32(table); }
  /** @param {number} table @returns {number} number of field slots in the vtable */
  fieldCount(table) { return (this.u16(this.vtable(table)) - 4) >> 1; }
  /** @param {number} table @returns {number} inline size of the table */
  tableSize(table) { return this.u16(this.vtable(table) + 2); }
  /**
   * Absolute position of a field's inline data, or 0 if absent.
   * @param {number} table @param {number} id
   */
  field(table, id) {
    const vt = this.vtable(table);
    const vtLen = this.u16(vt);
    if (4 + 2 * id + 2 > vtLen) return 0;
    const off = this.u16(vt + 4 + 2 * id);
    return off ? table + off : 0;
  }
  /** Follow a uoffset stored at `pos`. @param {number} pos */
  deref(pos) { return pos + this.u32(pos); }
  /** @param {number} table @param {number} id @returns {number} target position or 0 */
  ref(table, id) {
    const p = this.field(table, id);
    return p ? this.deref(p) : 0;
  }
  /** @param {number} table @param {number} id @param {number} dflt */
  scalarU8(table, id, dflt = 0) { const p = this.field(table, id); return p ? this.u8(p) : dflt; }
  /** @param {number} table @param {number} id @param {number} dflt */
  scalarI8(table, id, dflt = 0) { const p = this.field(table, id); return p ? this.i8(p) : dflt; }
  /** @param {number} table @param {number} id @param {number} dflt */
  scalarU32(table, id, dflt = 0) { const p = this.field(table, id); return p ? this.u32(p) : dflt; }
  /** @param {number} table @param {number} id @param {number} dflt */
  scalarI32(table, id, dflt = 0) { const p = this.field(table, id); return p ? this.i32(p) : dflt; }
  /** @param {number} table @param {number} id @returns {string | null} */
  string(table, id) {
    const s = this.ref(table, id);
    if (!s) return null;
    const len = this.u32(s);
    this.check(s + 4, len + 1);
    return textDecoder.decode(this.bytes.subarray(s + 4, s + 4 + len));
  }
  /**
   * @param {number} table @param {number} id @param {number} elemSize
   * @returns {{ start: number, length: number } | null}
   */
  vector(table, id, elemSize) {
    const v = this.ref(table, id);
    if (!v) return null;
    const length = this.u32(v);
    this.check(v + 4, length * elemSize);
    return { start: v + 4, length };
  }
  /** @param {number} table @param {number} id @returns {number[]} table positions */
  tableVector(table, id) {
    const v = this.vector(table, id, 4);
    if (!v) return [];
    const out = [];
    for (let i = 0; i < v.length; i++) out.push(this.deref(v.start + 4 * i));
    return out;
  }
  /** @param {number} table @param {number} id @returns {number[] | null} */
  i32Vector(table, id) {
    const v = this.vector(table, id, 4);
    if (!v) return null;
    const out = [];
    for (let i = 0; i < v.length; i++) out.push(this.i32(v.start + 4 * i));
    return out;
  }
  /** @param {number} table @param {number} id @returns {number[] | null} */
  f32Vector(table, id) {
    const v = this.vector(table, id, 4);
    if (!v) return null;
    const out = [];
    for (let i = 0; i < v.length; i++) out.push(this.f32(v.start + 4 * i));
    return out;
  }
  /**
   * Raw inline bytes of every vtable slot of a table, as hex strings (absent
   * slots as null). Used to compare tables whose schema we don't model.
   * @param {number} table @returns {(string | null)[]}
   */
  rawSlots(table) {
    const n = this.fieldCount(table);
    const size = this.tableSize(table);
    const vt = this.vtable(table);
    /** @type {number[]} */
    const offs = [];
    for (let i = 0; i < n; i++) offs.push(this.u16(vt + 4 + 2 * i));
    const sorted = [...new Set(offs.filter((o) => o))].sort((a, b) => a - b);
    return offs.map((o) => {
      if (!o) return null;
      const next = sorted.find((x) => x > o) ?? size;
      this.check(table + o, next - o);
      return toHex(this.bytes.subarray(table + o, table + next));
    });
  }
}

/** @param {Uint8Array} b */
function toHex(b) {
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}

/**
 * @typedef {object} TfliteBufferInfo
 * @property {number} dataOffset absolute byte offset of the buffer's data (0 if none)
 * @property {number} dataLength length of the data in bytes
 * @property {boolean} external true if the Buffer uses offset/size (large models)
 *
 * @typedef {object} TfliteTensorInfo
 * @property {string | null} name
 * @property {number[] | null} shape
 * @property {string} type
 * @property {number} buffer
 * @property {(string | null)[] | null} quantization raw slots of the quantization table
 *
 * @typedef {object} TfliteOperatorInfo
 * @property {number} opcodeIndex
 * @property {number[] | null} inputs
 * @property {number[] | null} outputs
 * @property {number} builtinOptionsType
 * @property {(string | null)[] | null} builtinOptions raw slots of the options table
 * @property {string | null} customOptions hex
 *
 * @typedef {object} TfliteSubgraphInfo
 * @property {string | null} name
 * @property {number[] | null} inputs
 * @property {number[] | null} outputs
 * @property {TfliteTensorInfo[]} tensors
 * @property {TfliteOperatorInfo[]} operators
 *
 * @typedef {object} TfliteModelInfo
 * @property {number} version
 * @property {string | null} description
 * @property {{ builtinCode: number, deprecatedBuiltinCode: number, customCode: string | null, version: number }[]} operatorCodes
 * @property {TfliteSubgraphInfo[]} subgraphs
 * @property {TfliteBufferInfo[]} buffers
 * @property {{ name: string | null, buffer: number }[]} metadata
 * @property {number[] | null} metadataBuffer
 * @property {boolean} hasSignatureDefs
 */

/**
 * Parses the structure of a TFLite model (enough to compare two models and to
 * locate buffers). Throws on a malformed file.
 * @param {Uint8Array} modelBytes
 * @returns {TfliteModelInfo}
 */
export function readTfliteModel(modelBytes) {
  const r = new FlatReader(modelBytes);
  if (r.identifier() !== TFLITE_FILE_IDENTIFIER) {
    throw new Error(`not a TFLite model: file identifier is "${r.identifier()}", expected "${TFLITE_FILE_IDENTIFIER}"`);
  }
  const model = r.root();
  const operatorCodes = r.tableVector(model, MODEL.operator_codes).map((oc) => ({
    deprecatedBuiltinCode: r.scalarI8(oc, OPERATOR_CODE.deprecated_builtin_code, 0),
    customCode: r.string(oc, OPERATOR_CODE.custom_code),
    version: r.scalarI32(oc, OPERATOR_CODE.version, 1),
    builtinCode: r.scalarI32(oc, OPERATOR_CODE.builtin_code, 0),
  }));
  const subgraphs = r.tableVector(model, MODEL.subgraphs).map((sg) => ({
    name: r.string(sg, SUBGRAPH.name),
    inputs: r.i32Vector(sg, SUBGRAPH.inputs),
    outputs: r.i32Vector(sg, SUBGRAPH.outputs),
    tensors: r.tableVector(sg, SUBGRAPH.tensors).map((t) => {
      const q = r.ref(t, TENSOR.quantization);
      return {
        name: r.string(t, TENSOR.name),
        shape: r.i32Vector(t, TENSOR.shape),
        type: TENSOR_TYPES[r.scalarI8(t, TENSOR.type, 0)] ?? `#${r.scalarI8(t, TENSOR.type, 0)}`,
        buffer: r.scalarU32(t, TENSOR.buffer, 0),
        quantization: q ? r.rawSlots(q) : null,
      };
    }),
    operators: r.tableVector(sg, SUBGRAPH.operators).map((op) => {
      const opts = r.ref(op, OPERATOR.builtin_options);
      const custom = r.vector(op, OPERATOR.custom_options, 1);
      return {
        opcodeIndex: r.scalarU32(op, OPERATOR.opcode_index, 0),
        inputs: r.i32Vector(op, OPERATOR.inputs),
        outputs: r.i32Vector(op, OPERATOR.outputs),
        builtinOptionsType: r.scalarU8(op, OPERATOR.builtin_options_type, 0),
        builtinOptions: opts ? r.rawSlots(opts) : null,
        customOptions: custom ? toHex(modelBytes.subarray(custom.start, custom.start + custom.length)) : null,
      };
    }),
  }));
  const buffers = r.tableVector(model, MODEL.buffers).map((b) => {
    const data = r.vector(b, BUFFER.data, 1);
    return {
      dataOffset: data && data.length ? data.start : 0,
      dataLength: data ? data.length : 0,
      external: r.field(b, BUFFER.offset) !== 0 && r.u64(r.field(b, BUFFER.offset)) > 1n,
    };
  });
  const metadata = r.tableVector(model, MODEL.metadata).map((m) => ({
    name: r.string(m, METADATA.name),
    buffer: r.scalarU32(m, METADATA.buffer, 0),
  }));
  return {
    version: r.scalarU32(model, MODEL.version, 0),
    description: r.string(model, MODEL.description),
    operatorCodes,
    subgraphs,
    buffers,
    metadata,
    metadataBuffer: r.i32Vector(model, MODEL.metadata_buffer),
    hasSignatureDefs: r.field(model, MODEL.signature_defs) !== 0,
  };
}

/**
 * @typedef {object} TensorMetadataInfo
 * @property {string | null} name
 * @property {string | null} description
 * @property {string | null} colorSpace "RGB", "GRAYSCALE", "UNKNOWN" or null without ImageProperties
 * @property {number | null} width default_size.width
 * @property {number | null} height default_size.height
 * @property {number[] | null} mean NormalizationOptions.mean
 * @property {number[] | null} std NormalizationOptions.std
 *
 * @typedef {object} ModelMetadataInfo
 * @property {string} identifier file identifier of the metadata flatbuffer ("M001")
 * @property {number} bufferIndex index in Model.buffers
 * @property {string | null} name
 * @property {string | null} description
 * @property {string | null} version
 * @property {string | null} author
 * @property {string | null} license
 * @property {string | null} minParserVersion
 * @property {{ name: string | null, description: string | null, inputs: TensorMetadataInfo[], outputs: TensorMetadataInfo[] }[]} subgraphs
 */

/**
 * Extracts the "TFLITE_METADATA" ModelMetadata flatbuffer bytes of a model.
 * @param {Uint8Array} modelBytes
 * @returns {{ bytes: Uint8Array, bufferIndex: number } | null}
 */
export function extractMetadataBuffer(modelBytes) {
  const info = readTfliteModel(modelBytes);
  const entry = info.metadata.find((m) => m.name === METADATA_BUFFER_NAME);
  if (!entry) return null;
  const buf = info.buffers[entry.buffer];
  if (!buf) throw new Error(`${METADATA_BUFFER_NAME} refers to missing buffer ${entry.buffer}`);
  return {
    bytes: modelBytes.subarray(buf.dataOffset, buf.dataOffset + buf.dataLength),
    bufferIndex: entry.buffer,
  };
}

/**
 * Reads the TFLite model metadata ("TFLITE_METADATA" entry), or null if the
 * model has none.
 * @param {Uint8Array} modelBytes
 * @returns {ModelMetadataInfo | null}
 */
export function readTfliteMetadata(modelBytes) {
  const extracted = extractMetadataBuffer(modelBytes);
  if (!extracted) return null;
  const r = new FlatReader(extracted.bytes);
  const identifier = r.identifier();
  const mm = r.root();
  /** @param {number} tm @returns {TensorMetadataInfo} */
  const tensor = (tm) => {
    /** @type {TensorMetadataInfo} */
    const out = {
      name: r.string(tm, TENSOR_METADATA.name),
      description: r.string(tm, TENSOR_METADATA.description),
      colorSpace: null,
      width: null,
      height: null,
      mean: null,
      std: null,
    };
    const content = r.ref(tm, TENSOR_METADATA.content);
    if (content && r.scalarU8(content, CONTENT.content_properties_type) === CONTENT_PROPERTIES.ImageProperties) {
      const ip = r.ref(content, CONTENT.content_properties);
      if (ip) {
        const cs = r.scalarI8(ip, IMAGE_PROPERTIES.color_space, 0);
        out.colorSpace = Object.keys(COLOR_SPACE).find((k) => COLOR_SPACE[k] === cs) ?? `#${cs}`;
        const size = r.ref(ip, IMAGE_PROPERTIES.default_size);
        if (size) {
          out.width = r.scalarU32(size, IMAGE_SIZE.width, 0);
          out.height = r.scalarU32(size, IMAGE_SIZE.height, 0);
        }
      }
    }
    for (const pu of r.tableVector(tm, TENSOR_METADATA.process_units)) {
      if (r.scalarU8(pu, PROCESS_UNIT.options_type) !== PROCESS_UNIT_OPTIONS.NormalizationOptions) continue;
      const no = r.ref(pu, PROCESS_UNIT.options);
      if (!no) continue;
      out.mean = r.f32Vector(no, NORMALIZATION_OPTIONS.mean);
      out.std = r.f32Vector(no, NORMALIZATION_OPTIONS.std);
    }
    return out;
  };
  return {
    identifier,
    bufferIndex: extracted.bufferIndex,
    name: r.string(mm, MODEL_METADATA.name),
    description: r.string(mm, MODEL_METADATA.description),
    version: r.string(mm, MODEL_METADATA.version),
    author: r.string(mm, MODEL_METADATA.author),
    license: r.string(mm, MODEL_METADATA.license),
    minParserVersion: r.string(mm, MODEL_METADATA.min_parser_version),
    subgraphs: r.tableVector(mm, MODEL_METADATA.subgraph_metadata).map((sg) => ({
      name: r.string(sg, SUBGRAPH_METADATA.name),
      description: r.string(sg, SUBGRAPH_METADATA.description),
      inputs: r.tableVector(sg, SUBGRAPH_METADATA.input_tensor_metadata).map(tensor),
      outputs: r.tableVector(sg, SUBGRAPH_METADATA.output_tensor_metadata).map(tensor),
    })),
  };
}

// ===========================================================================
// Writer: a small deterministic "forward" FlatBuffers serializer.
// Objects are laid out parent first, children after (uoffsets point forward),
// each vtable directly before its table. No vtable sharing/deduplication.
// ===========================================================================

/**
 * @typedef {'u8' | 'i8' | 'u16' | 'u32' | 'i32' | 'f32' | 'u64'} ScalarKind
 * @typedef {{ kind: 'table', fields: FieldSpec[] }} TableNode
 * @typedef {{ kind: 'string', value: string }} StringNode
 * @typedef {{ kind: 'scalars', type: ScalarKind, values: (number | bigint)[] }} ScalarVectorNode
 * @typedef {{ kind: 'bytes', value: Uint8Array, align: number }} BytesNode
 * @typedef {{ kind: 'offsets', items: Node[] }} OffsetVectorNode
 * @typedef {{ kind: 'external', pos: number }} ExternalNode  position in the appended original file
 * @typedef {TableNode | StringNode | ScalarVectorNode | BytesNode | OffsetVectorNode | ExternalNode} Node
 * @typedef {{ id: number, type: ScalarKind, value: number | bigint } | { id: number, type: 'ref', value: Node }} FieldSpec
 */

/** @type {Record<ScalarKind, number>} */
const SCALAR_SIZE = { u8: 1, i8: 1, u16: 2, u32: 4, i32: 4, f32: 4, u64: 8 };

/** @param {FieldSpec[]} fields @returns {TableNode} */
const table = (fields) => ({ kind: 'table', fields: fields.filter(Boolean) });
/** @param {string} value @returns {StringNode} */
const str = (value) => ({ kind: 'string', value });
/** @param {ScalarKind} type @param {(number | bigint)[]} values @returns {ScalarVectorNode} */
const scalars = (type, values) => ({ kind: 'scalars', type, values });
/** @param {Node[]} items @returns {OffsetVectorNode} */
const offsets = (items) => ({ kind: 'offsets', items });
/** @param {number} id @param {Node | null | undefined} node @returns {FieldSpec} */
const ref = (id, node) => /** @type {FieldSpec} */ (node ? { id, type: 'ref', value: node } : null);
/** @param {number} id @param {ScalarKind} type @param {number | bigint} value @returns {FieldSpec} */
const scalar = (id, type, value) => ({ id, type, value });

class ByteSink {
  constructor() {
    this.buf = new Uint8Array(1024);
    this.len = 0;
  }
  /** @param {number} n */
  reserve(n) {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length;
    while (cap < this.len + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }
  /** Appends n zero bytes and returns their start. @param {number} n */
  alloc(n) {
    this.reserve(n);
    const at = this.len;
    this.buf.fill(0, at, at + n);
    this.len += n;
    return at;
  }
  /** Pads with zeros so that (len + extra) % align === 0. @param {number} align @param {number} extra */
  pad(align, extra = 0) {
    const rem = (this.len + extra) % align;
    if (rem) this.alloc(align - rem);
  }
  view() {
    return new DataView(this.buf.buffer, 0, this.buf.length);
  }
  /** @param {number} pos @param {ScalarKind} type @param {number | bigint} v */
  put(pos, type, v) {
    const dv = this.view();
    switch (type) {
      case 'u8': dv.setUint8(pos, Number(v)); break;
      case 'i8': dv.setInt8(pos, Number(v)); break;
      case 'u16': dv.setUint16(pos, Number(v), true); break;
      case 'u32': dv.setUint32(pos, Number(v), true); break;
      case 'i32': dv.setInt32(pos, Number(v), true); break;
      case 'f32': dv.setFloat32(pos, Number(v), true); break;
      case 'u64': dv.setBigUint64(pos, BigInt(v), true); break;
      default: throw new Error(`unknown scalar type ${type}`);
    }
  }
  bytes() {
    return this.buf.slice(0, this.len);
  }
}

/**
 * Serializes `root` as a FlatBuffer with the given 4-character identifier.
 * External nodes point into bytes that will be appended after the output;
 * the output length is padded to a multiple of `padTo` so those bytes keep
 * their alignment.
 * @param {TableNode} root
 * @param {string} identifier
 * @param {number} padTo
 * @returns {{ bytes: Uint8Array, externalFixups: { at: number, pos: number }[] }}
 */
function serialize(root, identifier, padTo) {
  const out = new ByteSink();
  out.alloc(8); // root uoffset + identifier
  for (let i = 0; i < 4; i++) out.buf[4 + i] = identifier.charCodeAt(i);
  /** @type {{ at: number, node: Node }[]} */
  const queue = [{ at: 0, node: root }];
  /** @type {{ at: number, pos: number }[]} */
  const externalFixups = [];
  /** @type {Map<Node, number>} */
  const placed = new Map();

  /** @param {number} at @param {number} target */
  const patch = (at, target) => {
    if (target <= at) throw new Error('internal error: backward uoffset');
    out.put(at, 'u32', target - at);
  };

  // Breadth-first: a node is written after every node that refers to it.
  while (queue.length) {
    const { at, node } = /** @type {{ at: number, node: Node }} */ (queue.shift());
    if (node.kind === 'external') {
      externalFixups.push({ at, pos: node.pos });
      continue;
    }
    const already = placed.get(node);
    if (already !== undefined) {
      patch(at, already);
      continue;
    }
    const pos = writeNode(node);
    placed.set(node, pos);
    patch(at, pos);
  }

  /** @param {Node} node @returns {number} position the uoffset must point to */
  function writeNode(node) {
    switch (node.kind) {
      case 'string': {
        const b = textEncoder.encode(node.value);
        out.pad(4);
        const p = out.alloc(4 + b.length + 1);
        out.put(p, 'u32', b.length);
        out.buf.set(b, p + 4);
        return p;
      }
      case 'bytes': {
        out.pad(Math.max(4, node.align), 4);
        const p = out.alloc(4 + node.value.length);
        out.put(p, 'u32', node.value.length);
        out.buf.set(node.value, p + 4);
        return p;
      }
      case 'scalars': {
        const size = SCALAR_SIZE[node.type];
        out.pad(Math.max(4, size), 4);
        const p = out.alloc(4 + size * node.values.length);
        out.put(p, 'u32', node.values.length);
        node.values.forEach((v, i) => out.put(p + 4 + i * size, node.type, v));
        return p;
      }
      case 'offsets': {
        out.pad(4);
        const p = out.alloc(4 + 4 * node.items.length);
        out.put(p, 'u32', node.items.length);
        node.items.forEach((item, i) => queue.push({ at: p + 4 + 4 * i, node: item }));
        return p;
      }
      case 'table':
        return writeTable(node);
      default:
        throw new Error(`cannot serialize node kind ${/** @type {any} */ (node).kind}`);
    }
  }

  /** @param {TableNode} node */
  function writeTable(node) {
    const ids = node.fields.map((f) => f.id);
    if (new Set(ids).size !== ids.length) throw new Error('duplicate field id');
    const numSlots = ids.length ? Math.max(...ids) + 1 : 0;
    // Inline layout: soffset, then fields by decreasing size (stable by id).
    const sized = node.fields
      .map((f) => ({ f, size: f.type === 'ref' ? 4 : SCALAR_SIZE[f.type] }))
      .sort((a, b) => b.size - a.size || a.f.id - b.f.id);
    const maxAlign = Math.max(4, ...sized.map((s) => s.size));
    let inline = 4;
    /** @type {Map<number, number>} */
    const fieldOffset = new Map();
    for (const { f, size } of sized) {
      inline = Math.ceil(inline / size) * size;
      fieldOffset.set(f.id, inline);
      inline += size;
    }
    inline = Math.ceil(inline / 4) * 4;
    const vtLen = 4 + 2 * numSlots;
    // vtable immediately before the table; the table start must be aligned.
    out.pad(maxAlign, vtLen);
    const vt = out.alloc(vtLen);
    const t = out.alloc(inline);
    out.put(vt, 'u16', vtLen);
    out.put(vt + 2, 'u16', inline);
    for (const [id, off] of fieldOffset) out.put(vt + 4 + 2 * id, 'u16', off);
    out.put(t, 'i32', t - vt);
    for (const f of node.fields) {
      const p = t + /** @type {number} */ (fieldOffset.get(f.id));
      if (f.type === 'ref') queue.push({ at: p, node: f.value });
      else out.put(p, f.type, f.value);
    }
    return t;
  }

  out.pad(padTo);
  return { bytes: out.bytes(), externalFixups };
}

/**
 * @typedef {object} ImageInputMetadataOptions
 * @property {string} [name] ModelMetadata.name
 * @property {string} [description] ModelMetadata.description
 * @property {string} [version] ModelMetadata.version
 * @property {string} [author] ModelMetadata.author
 * @property {string} [license] ModelMetadata.license
 * @property {'RGB' | 'GRAYSCALE'} [colorSpace] default "RGB"
 * @property {number} [width] default: from the input tensor shape [1, H, W, C]
 * @property {number} [height] default: from the input tensor shape
 * @property {number[]} [mean] default [127.5]
 * @property {number[]} [std] default [127.5]
 * @property {string} [inputName] default: the input tensor's name
 * @property {string} [inputDescription]
 * @property {{ name?: string, description?: string }[]} [outputs] metadata for the
 *   outputs, one per model output (default: the output tensors' names)
 * @property {string} [minParserVersion] default "1.0.0" (the fields written here
 *   all exist since metadata schema 1.0.0)
 */

/**
 * Builds a standalone ModelMetadata flatbuffer ("M001").
 * @param {Required<Pick<ImageInputMetadataOptions, 'colorSpace' | 'width' | 'height' | 'mean' | 'std' | 'minParserVersion'>> & ImageInputMetadataOptions} o
 * @returns {Uint8Array}
 */
export function buildImageModelMetadata(o) {
  const colorSpace = COLOR_SPACE[o.colorSpace];
  if (colorSpace === undefined || colorSpace === 0) throw new Error(`unsupported color space ${o.colorSpace}`);
  for (const [k, v] of /** @type {[string, number][]} */ ([['width', o.width], ['height', o.height]])) {
    if (!Number.isInteger(v) || v <= 0 || v > 0xffffffff) throw new Error(`invalid ${k}: ${v}`);
  }
  if (!o.mean.length || o.mean.length !== o.std.length) throw new Error('mean and std must be non-empty and of the same length');
  if (o.std.some((s) => !(s > 0) || !Number.isFinite(s))) throw new Error('std values must be positive');
  if (o.mean.some((m) => !Number.isFinite(m))) throw new Error('mean values must be finite');

  const input = table([
    ref(TENSOR_METADATA.name, o.inputName ? str(o.inputName) : null),
    ref(TENSOR_METADATA.description, o.inputDescription ? str(o.inputDescription) : null),
    ref(
      TENSOR_METADATA.content,
      table([
        scalar(CONTENT.content_properties_type, 'u8', CONTENT_PROPERTIES.ImageProperties),
        ref(
          CONTENT.content_properties,
          table([
            scalar(IMAGE_PROPERTIES.color_space, 'i8', colorSpace),
            ref(
              IMAGE_PROPERTIES.default_size,
              table([scalar(IMAGE_SIZE.width, 'u32', o.width), scalar(IMAGE_SIZE.height, 'u32', o.height)]),
            ),
          ]),
        ),
      ]),
    ),
    ref(
      TENSOR_METADATA.process_units,
      offsets([
        table([
          scalar(PROCESS_UNIT.options_type, 'u8', PROCESS_UNIT_OPTIONS.NormalizationOptions),
          ref(
            PROCESS_UNIT.options,
            table([
              ref(NORMALIZATION_OPTIONS.mean, scalars('f32', o.mean)),
              ref(NORMALIZATION_OPTIONS.std, scalars('f32', o.std)),
            ]),
          ),
        ]),
      ]),
    ),
  ]);
  const outputs = (o.outputs ?? []).map((out) =>
    table([
      ref(TENSOR_METADATA.name, out.name ? str(out.name) : null),
      ref(TENSOR_METADATA.description, out.description ? str(out.description) : null),
    ]),
  );
  const root = table([
    ref(MODEL_METADATA.name, o.name ? str(o.name) : null),
    ref(MODEL_METADATA.description, o.description ? str(o.description) : null),
    ref(MODEL_METADATA.version, o.version ? str(o.version) : null),
    ref(
      MODEL_METADATA.subgraph_metadata,
      offsets([
        table([
          ref(SUBGRAPH_METADATA.input_tensor_metadata, offsets([input])),
          ref(SUBGRAPH_METADATA.output_tensor_metadata, outputs.length ? offsets(outputs) : null),
        ]),
      ]),
    ),
    ref(MODEL_METADATA.author, o.author ? str(o.author) : null),
    ref(MODEL_METADATA.license, o.license ? str(o.license) : null),
    ref(MODEL_METADATA.min_parser_version, str(o.minParserVersion)),
  ]);
  return serialize(root, METADATA_FILE_IDENTIFIER, 4).bytes;
}

/**
 * Returns a new TFLite model identical to `modelBytes` plus a
 * "TFLITE_METADATA" ModelMetadata describing its single image input
 * (ImageProperties + NormalizationOptions). Deterministic: same input and
 * options give the same bytes. Throws if the model already has
 * TFLITE_METADATA, has several subgraphs or inputs, or uses Model fields this
 * code does not know.
 * @param {Uint8Array} modelBytes
 * @param {ImageInputMetadataOptions} [opts]
 * @returns {Uint8Array}
 */
export function addImageInputMetadata(modelBytes, opts = {}) {
  const info = readTfliteModel(modelBytes);
  if (info.metadata.some((m) => m.name === METADATA_BUFFER_NAME)) {
    throw new Error(`model already has ${METADATA_BUFFER_NAME}`);
  }
  const sg = info.subgraphs[0];
  if (!sg || info.subgraphs.length !== 1) throw new Error(`expected 1 subgraph, got ${info.subgraphs.length}`);
  if (!sg.inputs || sg.inputs.length !== 1) throw new Error(`expected 1 input, got ${sg.inputs?.length ?? 0}`);
  const inputTensor = sg.tensors[/** @type {number} */ (sg.inputs[0])];
  const shape = inputTensor?.shape;
  if (!shape || shape.length !== 4 || shape[0] !== 1) {
    throw new Error(`expected an input of shape [1, H, W, C], got ${JSON.stringify(shape)}`);
  }
  if (info.buffers.some((b) => b.external)) {
    throw new Error('models with external (offset/size) buffers are not supported');
  }

  const r = new FlatReader(modelBytes);
  const oldRoot = r.root();
  if (r.fieldCount(oldRoot) > MODEL_FIELD_COUNT) {
    for (let id = MODEL_FIELD_COUNT; id < r.fieldCount(oldRoot); id++) {
      if (r.field(oldRoot, id)) throw new Error(`model uses unknown Model field id ${id}; refusing to rewrite`);
    }
  }

  const outputs =
    opts.outputs ??
    (sg.outputs ?? []).map((i) => ({ name: sg.tensors[i]?.name ?? undefined }));
  if (outputs.length && outputs.length !== (sg.outputs ?? []).length) {
    throw new Error(`got ${outputs.length} output metadata entries for ${(sg.outputs ?? []).length} outputs`);
  }
  const metadataBytes = buildImageModelMetadata({
    ...opts,
    colorSpace: opts.colorSpace ?? 'RGB',
    height: opts.height ?? /** @type {number} */ (shape[1]),
    width: opts.width ?? /** @type {number} */ (shape[2]),
    mean: opts.mean ?? [127.5],
    std: opts.std ?? [127.5],
    inputName: opts.inputName ?? inputTensor.name ?? undefined,
    outputs,
    minParserVersion: opts.minParserVersion ?? '1.0.0',
  });

  // New Model table: copy every present field of the old root; offsets become
  // references to the old objects (which will sit after the new prefix).
  /** @type {FieldSpec[]} */
  const fields = [];
  for (let id = 0; id < MODEL_FIELD_COUNT; id++) {
    const p = r.field(oldRoot, id);
    if (!p || id === MODEL.buffers || id === MODEL.metadata) continue;
    if (MODEL_OFFSET_FIELDS.has(id)) fields.push(ref(id, { kind: 'external', pos: r.deref(p) }));
    else fields.push(scalar(id, 'u32', r.u32(p)));
  }
  const oldBuffers = r.tableVector(oldRoot, MODEL.buffers);
  const oldMetadata = r.tableVector(oldRoot, MODEL.metadata);
  const newBufferIndex = oldBuffers.length;
  /** @type {Node[]} */
  const bufferItems = oldBuffers.map((pos) => /** @type {Node} */ ({ kind: 'external', pos }));
  bufferItems.push(table([ref(BUFFER.data, { kind: 'bytes', value: metadataBytes, align: 16 })]));
  /** @type {Node[]} */
  const metadataItems = oldMetadata.map((pos) => /** @type {Node} */ ({ kind: 'external', pos }));
  metadataItems.push(
    table([ref(METADATA.name, str(METADATA_BUFFER_NAME)), scalar(METADATA.buffer, 'u32', newBufferIndex)]),
  );
  fields.push(ref(MODEL.buffers, offsets(bufferItems)));
  fields.push(ref(MODEL.metadata, offsets(metadataItems)));

  const { bytes: prefix, externalFixups } = serialize(table(fields), TFLITE_FILE_IDENTIFIER, 16);
  const out = new Uint8Array(prefix.length + modelBytes.length);
  out.set(prefix, 0);
  out.set(modelBytes, prefix.length);
  const dv = new DataView(out.buffer);
  for (const { at, pos } of externalFixups) dv.setUint32(at, prefix.length + pos - at, true);
  return out;
}
