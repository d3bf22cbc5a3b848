// @ts-check
/**
 * Pure helpers (no fs) to read a TFLite model flatbuffer and to add standard
 * TFLite model metadata (tflite-support `metadata_schema.fbs`, file identifier
 * "M001") describing an image input, so that MediaPipe Tasks (e.g.
 * FaceDetector) accepts a float32 model that ships without metadata. Reading
 * and writing go through the `flatbuffers` runtime (ByteBuffer, Builder), with
 * thin accessors by field id below instead of flatc-generated classes: only a
 * few fields are used, and flatc's TypeScript for the two schema subsets is
 * 39 files, about 3,000 lines.
 *
 * How the model is rewritten (a "surgical prepend", deterministic), in file
 * order; the Builder puts each vtable just before its table (or reuses an
 * identical one) and pads for alignment:
 *
 *   [new header: root offset + "TFL3"]
 *   [new Model table]                       fields copied from the old root,
 *                                           buffers/metadata replaced
 *   [new metadata vector]                   old Metadata tables + 1 new one
 *   [new buffers vector]                    old Buffer tables + 1 new one
 *   [new Metadata table {name: "TFLITE_METADATA", buffer: N}, its name]
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
import { Builder, ByteBuffer, Encoding } from 'flatbuffers';

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
  'FLOAT32',
  'FLOAT16',
  'INT32',
  'UINT8',
  'INT64',
  'STRING',
  'BOOL',
  'INT16',
  'COMPLEX64',
  'INT8',
  'FLOAT64',
  'COMPLEX128',
  'UINT64',
  'RESOURCE',
  'VARIANT',
  'UINT32',
  'UINT16',
  'INT4',
];

// ===========================================================================
// Reader
// ===========================================================================

const textDecoder = new TextDecoder('utf-8', { fatal: true });

/**
 * The runtime's ByteBuffer does not check bounds (a read past the end gives 0
 * or undefined); a malformed file must throw instead. Every read of the runtime
 * ends in one of these three.
 */
class CheckedByteBuffer extends ByteBuffer {
  /** @param {number} pos @param {number} size */
  check(pos, size) {
    if (!Number.isInteger(pos) || pos < 0 || pos + size > this.capacity()) {
      throw new RangeError(`flatbuffer access out of bounds: ${pos}+${size} > ${this.capacity()}`);
    }
  }
  /** @override @param {number} p */
  readUint8(p) {
    this.check(p, 1);
    return super.readUint8(p);
  }
  /** @override @param {number} p */
  readUint16(p) {
    this.check(p, 2);
    return super.readUint16(p);
  }
  /** @override @param {number} p */
  readInt32(p) {
    this.check(p, 4);
    return super.readInt32(p);
  }
}

/** A table of a flatbuffer, with accessors by field id (vtable slot). */
class Table {
  /** @param {CheckedByteBuffer} bb @param {number} pos */
  constructor(bb, pos) {
    this.bb = bb;
    this.pos = pos;
  }
  /** The root table of a flatbuffer and its file identifier. @param {Uint8Array} bytes */
  static root(bytes) {
    const bb = new CheckedByteBuffer(bytes);
    return { root: new Table(bb, bb.__indirect(0)), identifier: bb.getBufferIdentifier() };
  }
  vtable() {
    return this.pos - this.bb.readInt32(this.pos);
  }
  /** Number of field slots in the vtable. */
  fieldCount() {
    return (this.bb.readUint16(this.vtable()) - 4) >> 1;
  }
  /** Absolute position of a field's inline data, or 0 if absent. @param {number} id */
  field(id) {
    const off = this.bb.__offset(this.pos, 4 + 2 * id);
    return off ? this.pos + off : 0;
  }
  /** @param {number} id @param {number} dflt */
  u8(id, dflt = 0) {
    const p = this.field(id);
    return p ? this.bb.readUint8(p) : dflt;
  }
  /** @param {number} id @param {number} dflt */
  i8(id, dflt = 0) {
    const p = this.field(id);
    return p ? this.bb.readInt8(p) : dflt;
  }
  /** @param {number} id @param {number} dflt */
  u32(id, dflt = 0) {
    const p = this.field(id);
    return p ? this.bb.readUint32(p) : dflt;
  }
  /** @param {number} id @param {number} dflt */
  i32(id, dflt = 0) {
    const p = this.field(id);
    return p ? this.bb.readInt32(p) : dflt;
  }
  /** @param {number} id @returns {string | null} */
  string(id) {
    const p = this.field(id);
    if (!p) return null;
    const s = this.bb.__indirect(p);
    this.bb.check(s + 4, this.bb.readUint32(s) + 1);
    return textDecoder.decode(/** @type {Uint8Array} */ (this.bb.__string(p, Encoding.UTF8_BYTES)));
  }
  /** @param {number} id @returns {Table | null} */
  table(id) {
    const p = this.field(id);
    return p ? new Table(this.bb, this.bb.__indirect(p)) : null;
  }
  /**
   * @param {number} id @param {number} elemSize
   * @returns {{ start: number, length: number } | null}
   */
  vector(id, elemSize) {
    const p = this.field(id);
    if (!p) return null;
    const start = this.bb.__vector(p);
    const length = this.bb.readUint32(start - 4);
    this.bb.check(start, length * elemSize);
    return { start, length };
  }
  /** @param {number} id @returns {Table[]} */
  tables(id) {
    const v = this.vector(id, 4);
    if (!v) return [];
    return Array.from({ length: v.length }, (_, i) => new Table(this.bb, this.bb.__indirect(v.start + 4 * i)));
  }
  /** @param {number} id @returns {number[] | null} */
  i32s(id) {
    const v = this.vector(id, 4);
    return v && Array.from({ length: v.length }, (_, i) => this.bb.readInt32(v.start + 4 * i));
  }
  /** @param {number} id @returns {number[] | null} */
  f32s(id) {
    const v = this.vector(id, 4);
    return v && Array.from({ length: v.length }, (_, i) => this.bb.readFloat32(v.start + 4 * i));
  }
  /** @param {number} id @returns {string | null} hex */
  bytesHex(id) {
    const v = this.vector(id, 1);
    return v && toHex(this.bb.bytes().subarray(v.start, v.start + v.length));
  }
  /**
   * Raw inline bytes of every vtable slot, as hex strings (absent slots as
   * null). Read by hand from the vtable: it compares tables whose schema we
   * don't model (quantization, builtin options), which no accessor can.
   * @returns {(string | null)[]}
   */
  rawSlots() {
    const vt = this.vtable();
    const size = this.bb.readUint16(vt + 2);
    const offs = Array.from({ length: this.fieldCount() }, (_, i) => this.bb.readUint16(vt + 4 + 2 * i));
    const sorted = [...new Set(offs.filter((o) => o))].sort((a, b) => a - b);
    return offs.map((o) => {
      if (!o) return null;
      const next = sorted.find((x) => x > o) ?? size;
      this.bb.check(this.pos + o, next - o);
      return toHex(this.bb.bytes().subarray(this.pos + o, this.pos + next));
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
  const { root: model, identifier } = Table.root(modelBytes);
  if (identifier !== TFLITE_FILE_IDENTIFIER) {
    throw new Error(`not a TFLite model: file identifier is "${identifier}", expected "${TFLITE_FILE_IDENTIFIER}"`);
  }
  const operatorCodes = model.tables(MODEL.operator_codes).map((oc) => ({
    deprecatedBuiltinCode: oc.i8(OPERATOR_CODE.deprecated_builtin_code, 0),
    customCode: oc.string(OPERATOR_CODE.custom_code),
    version: oc.i32(OPERATOR_CODE.version, 1),
    builtinCode: oc.i32(OPERATOR_CODE.builtin_code, 0),
  }));
  const subgraphs = model.tables(MODEL.subgraphs).map((sg) => ({
    name: sg.string(SUBGRAPH.name),
    inputs: sg.i32s(SUBGRAPH.inputs),
    outputs: sg.i32s(SUBGRAPH.outputs),
    tensors: sg.tables(SUBGRAPH.tensors).map((t) => ({
      name: t.string(TENSOR.name),
      shape: t.i32s(TENSOR.shape),
      type: TENSOR_TYPES[t.i8(TENSOR.type, 0)] ?? `#${t.i8(TENSOR.type, 0)}`,
      buffer: t.u32(TENSOR.buffer, 0),
      quantization: t.table(TENSOR.quantization)?.rawSlots() ?? null,
    })),
    operators: sg.tables(SUBGRAPH.operators).map((op) => ({
      opcodeIndex: op.u32(OPERATOR.opcode_index, 0),
      inputs: op.i32s(OPERATOR.inputs),
      outputs: op.i32s(OPERATOR.outputs),
      builtinOptionsType: op.u8(OPERATOR.builtin_options_type, 0),
      builtinOptions: op.table(OPERATOR.builtin_options)?.rawSlots() ?? null,
      customOptions: op.bytesHex(OPERATOR.custom_options),
    })),
  }));
  const buffers = model.tables(MODEL.buffers).map((b) => {
    const data = b.vector(BUFFER.data, 1);
    const offset = b.field(BUFFER.offset);
    return {
      dataOffset: data && data.length ? data.start : 0,
      dataLength: data ? data.length : 0,
      external: offset !== 0 && b.bb.readUint64(offset) > 1n,
    };
  });
  const metadata = model.tables(MODEL.metadata).map((m) => ({
    name: m.string(METADATA.name),
    buffer: m.u32(METADATA.buffer, 0),
  }));
  return {
    version: model.u32(MODEL.version, 0),
    description: model.string(MODEL.description),
    operatorCodes,
    subgraphs,
    buffers,
    metadata,
    metadataBuffer: model.i32s(MODEL.metadata_buffer),
    hasSignatureDefs: model.field(MODEL.signature_defs) !== 0,
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
  const { root: mm, identifier } = Table.root(extracted.bytes);
  /** @param {Table} tm @returns {TensorMetadataInfo} */
  const tensor = (tm) => {
    /** @type {TensorMetadataInfo} */
    const out = {
      name: tm.string(TENSOR_METADATA.name),
      description: tm.string(TENSOR_METADATA.description),
      colorSpace: null,
      width: null,
      height: null,
      mean: null,
      std: null,
    };
    const content = tm.table(TENSOR_METADATA.content);
    if (content && content.u8(CONTENT.content_properties_type) === CONTENT_PROPERTIES.ImageProperties) {
      const ip = content.table(CONTENT.content_properties);
      if (ip) {
        const cs = ip.i8(IMAGE_PROPERTIES.color_space, 0);
        out.colorSpace = Object.keys(COLOR_SPACE).find((k) => COLOR_SPACE[k] === cs) ?? `#${cs}`;
        const size = ip.table(IMAGE_PROPERTIES.default_size);
        if (size) {
          out.width = size.u32(IMAGE_SIZE.width, 0);
          out.height = size.u32(IMAGE_SIZE.height, 0);
        }
      }
    }
    for (const pu of tm.tables(TENSOR_METADATA.process_units)) {
      if (pu.u8(PROCESS_UNIT.options_type) !== PROCESS_UNIT_OPTIONS.NormalizationOptions) continue;
      const no = pu.table(PROCESS_UNIT.options);
      if (!no) continue;
      out.mean = no.f32s(NORMALIZATION_OPTIONS.mean);
      out.std = no.f32s(NORMALIZATION_OPTIONS.std);
    }
    return out;
  };
  return {
    identifier,
    bufferIndex: extracted.bufferIndex,
    name: mm.string(MODEL_METADATA.name),
    description: mm.string(MODEL_METADATA.description),
    version: mm.string(MODEL_METADATA.version),
    author: mm.string(MODEL_METADATA.author),
    license: mm.string(MODEL_METADATA.license),
    minParserVersion: mm.string(MODEL_METADATA.min_parser_version),
    subgraphs: mm.tables(MODEL_METADATA.subgraph_metadata).map((sg) => ({
      name: sg.string(SUBGRAPH_METADATA.name),
      description: sg.string(SUBGRAPH_METADATA.description),
      inputs: sg.tables(SUBGRAPH_METADATA.input_tensor_metadata).map(tensor),
      outputs: sg.tables(SUBGRAPH_METADATA.output_tensor_metadata).map(tensor),
    })),
  };
}

// ===========================================================================
// Writer
// ===========================================================================

/**
 * Writes one table (the Builder needs its strings, vectors and subtables
 * written before); `add` adds its fields.
 * @param {Builder} b @param {Record<string, number>} fieldIds @param {() => void} add
 * @returns {number} its offset
 */
function table(b, fieldIds, add) {
  b.startObject(Object.keys(fieldIds).length);
  add();
  return b.endObject();
}

/** @param {Builder} b @param {number[]} items offsets @returns {number} */
function offsetVector(b, items) {
  b.startVector(4, items.length, 4);
  for (let i = items.length - 1; i >= 0; i--) b.addOffset(/** @type {number} */ (items[i]));
  return b.endVector();
}

/** @param {Builder} b @param {number[]} values @returns {number} */
function f32Vector(b, values) {
  b.startVector(4, values.length, 4);
  for (let i = values.length - 1; i >= 0; i--) b.addFloat32(/** @type {number} */ (values[i]));
  return b.endVector();
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
  for (const [k, v] of /** @type {[string, number][]} */ ([
    ['width', o.width],
    ['height', o.height],
  ])) {
    if (!Number.isInteger(v) || v <= 0 || v > 0xffffffff) throw new Error(`invalid ${k}: ${v}`);
  }
  if (!o.mean.length || o.mean.length !== o.std.length) throw new Error('mean and std must be non-empty and of the same length');
  if (o.std.some((s) => !(s > 0) || !Number.isFinite(s))) throw new Error('std values must be positive');
  if (o.mean.some((m) => !Number.isFinite(m))) throw new Error('mean values must be finite');

  const b = new Builder(1024);
  /** @param {string | undefined} s */
  const string = (s) => (s ? b.createString(s) : 0);

  const inputName = string(o.inputName);
  const inputDescription = string(o.inputDescription);
  const defaultSize = table(b, IMAGE_SIZE, () => {
    b.addFieldInt32(IMAGE_SIZE.width, o.width, 0);
    b.addFieldInt32(IMAGE_SIZE.height, o.height, 0);
  });
  const imageProperties = table(b, IMAGE_PROPERTIES, () => {
    b.addFieldInt8(IMAGE_PROPERTIES.color_space, colorSpace, 0);
    b.addFieldOffset(IMAGE_PROPERTIES.default_size, defaultSize, 0);
  });
  const content = table(b, CONTENT, () => {
    b.addFieldInt8(CONTENT.content_properties_type, CONTENT_PROPERTIES.ImageProperties, 0);
    b.addFieldOffset(CONTENT.content_properties, imageProperties, 0);
  });
  const mean = f32Vector(b, o.mean);
  const std = f32Vector(b, o.std);
  const normalization = table(b, NORMALIZATION_OPTIONS, () => {
    b.addFieldOffset(NORMALIZATION_OPTIONS.mean, mean, 0);
    b.addFieldOffset(NORMALIZATION_OPTIONS.std, std, 0);
  });
  const processUnit = table(b, PROCESS_UNIT, () => {
    b.addFieldInt8(PROCESS_UNIT.options_type, PROCESS_UNIT_OPTIONS.NormalizationOptions, 0);
    b.addFieldOffset(PROCESS_UNIT.options, normalization, 0);
  });
  const processUnits = offsetVector(b, [processUnit]);
  const input = table(b, TENSOR_METADATA, () => {
    b.addFieldOffset(TENSOR_METADATA.name, inputName, 0);
    b.addFieldOffset(TENSOR_METADATA.description, inputDescription, 0);
    b.addFieldOffset(TENSOR_METADATA.content, content, 0);
    b.addFieldOffset(TENSOR_METADATA.process_units, processUnits, 0);
  });
  const outputs = (o.outputs ?? []).map((out) => {
    const name = string(out.name);
    const description = string(out.description);
    return table(b, TENSOR_METADATA, () => {
      b.addFieldOffset(TENSOR_METADATA.name, name, 0);
      b.addFieldOffset(TENSOR_METADATA.description, description, 0);
    });
  });
  const inputVector = offsetVector(b, [input]);
  const outputVector = outputs.length ? offsetVector(b, outputs) : 0;
  const subgraph = table(b, SUBGRAPH_METADATA, () => {
    b.addFieldOffset(SUBGRAPH_METADATA.input_tensor_metadata, inputVector, 0);
    b.addFieldOffset(SUBGRAPH_METADATA.output_tensor_metadata, outputVector, 0);
  });
  const subgraphs = offsetVector(b, [subgraph]);
  const strings = {
    name: string(o.name),
    description: string(o.description),
    version: string(o.version),
    author: string(o.author),
    license: string(o.license),
    minParserVersion: b.createString(o.minParserVersion),
  };
  const root = table(b, MODEL_METADATA, () => {
    b.addFieldOffset(MODEL_METADATA.name, strings.name, 0);
    b.addFieldOffset(MODEL_METADATA.description, strings.description, 0);
    b.addFieldOffset(MODEL_METADATA.version, strings.version, 0);
    b.addFieldOffset(MODEL_METADATA.subgraph_metadata, subgraphs, 0);
    b.addFieldOffset(MODEL_METADATA.author, strings.author, 0);
    b.addFieldOffset(MODEL_METADATA.license, strings.license, 0);
    b.addFieldOffset(MODEL_METADATA.min_parser_version, strings.minParserVersion, 0);
  });
  b.finish(root, METADATA_FILE_IDENTIFIER);
  return b.asUint8Array().slice();
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

  const { root: oldRoot } = Table.root(modelBytes);
  for (let id = MODEL_FIELD_COUNT; id < oldRoot.fieldCount(); id++) {
    if (oldRoot.field(id)) throw new Error(`model uses unknown Model field id ${id}; refusing to rewrite`);
  }

  const outputs = opts.outputs ?? (sg.outputs ?? []).map((i) => ({ name: sg.tensors[i]?.name ?? undefined }));
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

  // Builder offsets count back from the end of what it has written, and the
  // original file goes right after the Builder's output: the object at `pos`
  // in it is at offset -pos. The runtime writes a uoffset to it like to any of
  // its own objects (forward, hence valid), whatever the output length.
  /** @param {number} pos */
  const inOriginal = (pos) => -pos;
  const b = new Builder(1024);
  // Buffer.data is `force_align: 16` (upstream schema); finish() then pads the
  // output to a multiple of 16 (its largest alignment), as the original needs.
  b.startVector(1, metadataBytes.length, 16);
  for (let i = metadataBytes.length - 1; i >= 0; i--) b.addInt8(/** @type {number} */ (metadataBytes[i]));
  const data = b.endVector();
  const buffer = table(b, BUFFER, () => b.addFieldOffset(BUFFER.data, data, 0));
  const name = b.createString(METADATA_BUFFER_NAME);
  const oldBuffers = oldRoot.tables(MODEL.buffers);
  const metadataEntry = table(b, METADATA, () => {
    b.addFieldOffset(METADATA.name, name, 0);
    b.addFieldInt32(METADATA.buffer, oldBuffers.length, 0);
  });
  const buffers = offsetVector(b, [...oldBuffers.map((t) => inOriginal(t.pos)), buffer]);
  const metadata = offsetVector(b, [...oldRoot.tables(MODEL.metadata).map((t) => inOriginal(t.pos)), metadataEntry]);
  // New Model table: every present field of the old root but buffers/metadata,
  // pointing to the old objects.
  const model = table(b, MODEL, () => {
    for (let id = 0; id < MODEL_FIELD_COUNT; id++) {
      const p = oldRoot.field(id);
      if (!p || id === MODEL.buffers || id === MODEL.metadata) continue;
      if (id === MODEL.version) b.addFieldInt32(id, oldRoot.bb.readUint32(p), 0);
      else b.addFieldOffset(id, inOriginal(oldRoot.bb.__indirect(p)), 0);
    }
    b.addFieldOffset(MODEL.buffers, buffers, 0);
    b.addFieldOffset(MODEL.metadata, metadata, 0);
  });
  b.finish(model, TFLITE_FILE_IDENTIFIER);
  const prefix = b.asUint8Array();
  if (prefix.length % 16) throw new Error('internal error: prefix length is not a multiple of 16');
  const out = new Uint8Array(prefix.length + modelBytes.length);
  out.set(prefix, 0);
  out.set(modelBytes, prefix.length);
  return out;
}
