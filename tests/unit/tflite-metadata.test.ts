// @vitest-environment node
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { systemTool } from '../../scripts/system-tools';
import {
  addImageInputMetadata,
  extractMetadataBuffer,
  readTfliteMetadata,
  readTfliteModel,
  METADATA_BUFFER_NAME,
} from '../../scripts/face-detector/tflite-metadata.mjs';
import {
  FACE_DETECTOR_METADATA,
  PREPARED_MODEL_SHA256,
  SOURCE_MODEL_PATH,
  SOURCE_MODEL_SHA256,
  buildFaceDetectorModel,
  prepareFaceDetector,
  sha256Hex,
} from '../../scripts/face-detector/prepare.mjs';

const SCHEMA_DIR = path.resolve(__dirname, '../../scripts/face-detector');
const FLATC = systemTool('flatc');

let dir: string;
let source: Uint8Array;
let prepared: Uint8Array;
let preparedPath: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'facies-tflite-metadata-'));
  source = new Uint8Array(await readFile(SOURCE_MODEL_PATH));
  const result = await prepareFaceDetector({ outDir: dir });
  expect(result.written).toBe(true);
  preparedPath = result.path;
  prepared = new Uint8Array(await readFile(preparedPath));
  expect(result.sha256).toBe(sha256Hex(prepared));
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('face detector model preparation', () => {
  it('starts from the pinned source model, which has no TFLite metadata', () => {
    expect(sha256Hex(source)).toBe(SOURCE_MODEL_SHA256);
    expect(readTfliteMetadata(source)).toBeNull();
  });

  it('writes standard TFLite metadata: M001, RGB 128x128, mean/std 127.5', () => {
    const meta = readTfliteMetadata(prepared);
    expect(meta).not.toBeNull();
    expect(meta!.identifier).toBe('M001');
    expect(meta!.name).toBe(FACE_DETECTOR_METADATA.name);
    expect(meta!.minParserVersion).toBe('1.0.0');
    expect(meta!.subgraphs).toHaveLength(1);
    const sg = meta!.subgraphs[0]!;
    expect(sg.inputs).toHaveLength(1);
    expect(sg.inputs[0]).toMatchObject({
      name: 'input',
      colorSpace: 'RGB',
      width: 128,
      height: 128,
      mean: [127.5],
      std: [127.5],
    });
    expect(sg.outputs.map((o) => o.name)).toEqual(['regressors', 'classificators']);

    const model = readTfliteModel(prepared);
    const sourceModel = readTfliteModel(source);
    expect(model.metadata).toEqual([{ name: METADATA_BUFFER_NAME, buffer: sourceModel.buffers.length }]);
    expect(model.buffers).toHaveLength(sourceModel.buffers.length + 1);
    const extracted = extractMetadataBuffer(prepared)!;
    expect(extracted.bufferIndex).toBe(sourceModel.buffers.length);
    expect(model.buffers[extracted.bufferIndex]!.dataOffset % 16).toBe(0);
    expect(new TextDecoder().decode(extracted.bytes.subarray(4, 8))).toBe('M001');
  });

  it('keeps every original buffer byte for byte, at the same alignment', () => {
    const before = readTfliteModel(source).buffers;
    const after = readTfliteModel(prepared).buffers;
    let aligned = 0;
    before.forEach((b, i) => {
      const a = after[i]!;
      expect(a.dataLength, `buffer ${i} length`).toBe(b.dataLength);
      if (!b.dataLength) return;
      expect(a.dataOffset % 16, `buffer ${i} alignment`).toBe(b.dataOffset % 16);
      if (b.dataOffset % 16 === 0) aligned++;
      const same = Buffer.from(source.subarray(b.dataOffset, b.dataOffset + b.dataLength)).equals(
        Buffer.from(prepared.subarray(a.dataOffset, a.dataOffset + a.dataLength)),
      );
      expect(same, `buffer ${i} bytes`).toBe(true);
    });
    expect(aligned).toBeGreaterThan(0);
    // The whole original file follows a prefix whose length is a multiple of 16.
    const prefix = prepared.length - source.length;
    expect(prefix % 16).toBe(0);
    expect(Buffer.from(prepared.subarray(prefix)).equals(Buffer.from(source))).toBe(true);
  });

  it('preserves the operator and tensor structure', () => {
    const before = readTfliteModel(source);
    const after = readTfliteModel(prepared);
    expect(after.version).toBe(before.version);
    expect(after.description).toBe(before.description);
    expect(after.operatorCodes).toEqual(before.operatorCodes);
    expect(after.metadataBuffer).toEqual(before.metadataBuffer);
    expect(after.hasSignatureDefs).toBe(before.hasSignatureDefs);
    expect(after.subgraphs).toEqual(before.subgraphs);
    const sg = after.subgraphs[0]!;
    expect(sg.operators.length).toBeGreaterThan(100);
    expect(sg.tensors[sg.inputs![0]!]).toMatchObject({ name: 'input', shape: [1, 128, 128, 3], type: 'FLOAT32' });
    expect(sg.outputs!.map((i) => sg.tensors[i]!.shape)).toEqual([
      [1, 896, 16],
      [1, 896, 1],
    ]);
  });

  it('is deterministic and matches the pinned output hash', async () => {
    const again = buildFaceDetectorModel(source);
    expect(Buffer.from(again).equals(Buffer.from(prepared))).toBe(true);
    expect(Buffer.from(addImageInputMetadata(source, FACE_DETECTOR_METADATA)).equals(Buffer.from(prepared))).toBe(true);
    expect(sha256Hex(prepared)).toBe(PREPARED_MODEL_SHA256);

    const second = await prepareFaceDetector({ outDir: dir });
    expect(second).toEqual({ path: preparedPath, sha256: PREPARED_MODEL_SHA256, written: false });

    const otherDir = path.join(dir, 'other');
    const third = await prepareFaceDetector({ outDir: otherDir });
    expect(third.written).toBe(true);
    expect(third.sha256).toBe(PREPARED_MODEL_SHA256);
  });

  it('refuses a changed source model and a model that already has metadata', async () => {
    const changed = source.slice();
    changed[changed.length - 1] = changed[changed.length - 1]! ^ 1;
    const changedPath = path.join(dir, 'changed.tflite');
    await writeFile(changedPath, changed);
    await expect(prepareFaceDetector({ outDir: path.join(dir, 'x'), sourcePath: changedPath })).rejects.toThrow(/SHA-256 .* expected 3bc182eb/);
    expect(() => addImageInputMetadata(prepared)).toThrow(/already has TFLITE_METADATA/);
  });

  it('parses with flatc against the schema subsets', async () => {
    const flatcJson = (schema: string, file: string, raw = false): unknown => {
      execFileSync(FLATC, ['--json', '--strict-json', ...(raw ? ['--raw-binary'] : []), '-o', dir, path.join(SCHEMA_DIR, schema), '--', file], {
        stdio: 'pipe',
      });
      return JSON.parse(readFileSync(path.join(dir, `${path.basename(file, path.extname(file))}.json`), 'utf8'));
    };
    const sourceCopy = path.join(dir, 'source.tflite');
    await writeFile(sourceCopy, source);
    const before = flatcJson('tflite-schema.subset.fbs', sourceCopy) as Record<string, unknown> & { buffers: unknown[] };
    const after = flatcJson('tflite-schema.subset.fbs', preparedPath) as Record<string, unknown> & {
      buffers: { data: number[] }[];
      metadata: unknown;
    };
    expect(after.metadata).toEqual([{ name: 'TFLITE_METADATA', buffer: before.buffers.length }]);
    const metadataBuffer = after.buffers.pop()!;
    delete (after as Record<string, unknown>).metadata;
    expect(after).toEqual(before);

    const metaPath = path.join(dir, 'metadata.bin');
    await writeFile(metaPath, Uint8Array.from(metadataBuffer.data));
    const meta = flatcJson('metadata-schema.subset.fbs', metaPath, true);
    expect(meta).toMatchObject({
      min_parser_version: '1.0.0',
      subgraph_metadata: [
        {
          input_tensor_metadata: [
            {
              name: 'input',
              content: {
                content_properties_type: 'ImageProperties',
                content_properties: { color_space: 'RGB', default_size: { width: 128, height: 128 } },
              },
              process_units: [{ options_type: 'NormalizationOptions', options: { mean: [127.5], std: [127.5] } }],
            },
          ],
          output_tensor_metadata: [{ name: 'regressors' }, { name: 'classificators' }],
        },
      ],
    });
  });
});
