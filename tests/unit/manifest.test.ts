import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  checkSessionSignature,
  ManifestError,
  selfTestDeviation,
  selfTestImage,
  sha256Hex,
  validateManifest,
  verifyModelBytes,
  type ModelManifest,
} from '../../src/model/manifest';
import { exampleManifest, exampleValidationReport } from './fixtures/manifest';

const modelBytes = new TextEncoder().encode('not really an onnx file, but bytes with a known hash');

function validManifest(): Promise<ModelManifest> {
  return exampleManifest(modelBytes, { id: 'facies-demo-ir100', version: '0.1.0' });
}

function problemsOf(raw: unknown): string[] {
  try {
    validateManifest(raw);
    return [];
  } catch (e) {
    expect(e).toBeInstanceOf(ManifestError);
    return (e as ManifestError).problems;
  }
}

describe('validateManifest', () => {
  it('accepts a complete manifest', async () => {
    const m = await validManifest();
    expect(validateManifest(JSON.parse(JSON.stringify(m)))).toEqual(m);
  });

  it('rejects non-objects and lists every problem at once', async () => {
    expect(problemsOf(null)).toEqual(['manifest is not a JSON object']);
    expect(problemsOf([])).toEqual(['manifest is not a JSON object']);
    const m = { ...(await validManifest()), id: '', cosfaceScale: -1, head: 'softmax' };
    const p = problemsOf(m);
    expect(p.some((x) => x.startsWith('id is not in the expected form'))).toBe(true);
    expect(p).toContain('cosfaceScale must be greater than 0 (found -1)');
    expect(p).toContain('head must be one of "cosface", "arcface" (found "softmax")');
  });

  it('names missing fields and wrong types', async () => {
    const m: Record<string, unknown> = { ...(await validManifest()) };
    delete m.created;
    delete m.publisher;
    m.version = 3;
    m.demonstration = 'yes';
    (m.classes as { displayName: Record<string, string> }[])[2]!.displayName = { en: 'Alagille' };
    const p = problemsOf(m);
    expect(p).toContain('created is missing');
    expect(p).toContain('publisher is missing');
    expect(p).toContain('version must be text (found 3)');
    expect(p).toContain('demonstration must be true or false (found "yes")');
    expect(p).toContain('classes[2].displayName.zh-CN is missing');
  });

  it('rejects an output shape that does not match the class count', async () => {
    const m = await validManifest();
    m.output.shape = [-1, 3];
    expect(problemsOf(m)).toContain('output.shape must be [N, 4]: the manifest lists 4 classes but the output has 3');
  });

  it('rejects a self-test with the wrong number of probabilities, a bad input size, or a silly tolerance', async () => {
    const m = await validManifest();
    m.selfTest = { inputRgbBase64: Buffer.alloc(10).toString('base64'), expected: [0.5, 0.5], tolerance: 0.01 };
    const p = problemsOf(m);
    expect(p).toContain('selfTest.inputRgbBase64 must encode 112×112×3 bytes');
    expect(p).toContain('selfTest.expected must list 4 probabilities, one per class (found 2)');
    m.selfTest.tolerance = 0.5;
    expect(problemsOf(m)).toEqual(['selfTest.tolerance must be at most 0.05 (found 0.5)']);
  });

  it('rejects duplicate class ids, a wrong input size and a demonstration model that claims validation', async () => {
    const m = await validManifest();
    m.classes[1] = { id: 'wbs', displayName: { en: 'again', 'zh-CN': '再' } };
    m.clinicalValidation = { status: 'external', summary: 'trust me', by: 'me', dataset: 'mine' };
    const p = problemsOf(m);
    expect(p).toContain('classes[1].id "wbs" is duplicated');
    expect(p).toContain('a demonstration model cannot claim clinical validation');
    m.input.shape = [1, 3, 224, 224];
    expect(problemsOf(m)).toEqual(['input.shape[2] must be 112', 'input.shape[3] must be 112']);
  });

  it('rejects a malformed hash', async () => {
    const m = await validManifest();
    m.file.sha256 = 'ABC';
    expect(problemsOf(m)[0]).toMatch(/^file\.sha256 is not in the expected form/);
  });

  it('requires a consistent validation report for a model that is not a demonstration', async () => {
    const m = await validManifest();
    m.demonstration = false;
    expect(problemsOf(m)).toEqual(['validation is missing: a model that is not a demonstration must carry its validation report']);
    m.validation = exampleValidationReport([
      [3, 0, 0, 0],
      [0, 2, 0, 0],
      [0, 0, 2, 0],
      [1, 0, 0, 2],
    ]);
    expect(problemsOf(m)).toEqual([]);
    m.validation.confusionMatrix[0] = [3, 1, 0, 0];
    delete (m.validation.perClass as Record<string, unknown>).algs;
    m.validation.accuracy = { mean: 1.2, sd: 0 };
    m.clinicalValidation = { status: 'internal', summary: 'Cross-validated' };
    const p = problemsOf(m);
    expect(p).toEqual(['validation.accuracy.mean must be at most 1 (found 1.2)']);
    m.validation.accuracy = { mean: 0.8, sd: 0.05 };
    expect(problemsOf(m)).toEqual([
      'clinicalValidation.by and clinicalValidation.dataset must say who validated the model and on what patients (status "internal")',
      'validation.perClass must give metrics for each class: wbs, ns, algs, non_gs',
      'validation.confusionMatrix row "wbs" sums to 4, but the dataset has 3 wbs cases',
    ]);
  });

  it('describes optimised weight storage consistently', async () => {
    const m = await validManifest();
    const source = { sha256: 'a'.repeat(64), bytes: 260_584_423 };
    m.weights = { storage: 'float16-mixed', keptFloat32: ['/backbone/conv1/'], source, maxProbabilityDrift: 4e-4 };
    expect(problemsOf(m)).toEqual([]);
    m.weights = { storage: 'float16-mixed', source, maxProbabilityDrift: 4e-4 };
    expect(problemsOf(m)).toEqual(['weights.keptFloat32 must name the nodes kept in float32 when weights.storage is "float16-mixed"']);
    m.weights = { storage: 'float16', keptFloat32: ['/MatMul'], source, maxProbabilityDrift: 4e-4 };
    expect(problemsOf(m)).toEqual(['weights.keptFloat32 is only for weights.storage "float16-mixed" (found "float16")']);
    m.weights = { storage: 'int4' as 'float16', source: { sha256: 'x', bytes: 0 }, maxProbabilityDrift: 2 };
    expect(problemsOf(m)).toHaveLength(4);
  });

  it('declares how the app must run the model: TTA, fusion, and the head for embedding fusion', async () => {
    const m = await validManifest();
    m.inference = { tta: 'flip-grey', fusion: 'mean-log-probability' };
    expect(problemsOf(m)).toEqual([]);
    m.inference = { tta: 'flip', fusion: 'mean-embedding' };
    expect(problemsOf(m)).toEqual(['inference.embedding must name the embedding output and the class weights when inference.fusion is "mean-embedding"']);
    const weights = Buffer.from(new Float32Array(4 * 8).buffer).toString('base64');
    m.inference.embedding = { output: 'embedding', dimension: 8, classWeightsBase64: weights };
    expect(problemsOf(m)).toEqual([]);
    m.inference.embedding = { output: m.output.name, dimension: 16, classWeightsBase64: weights };
    expect(problemsOf(m)).toEqual([
      'inference.embedding.classWeightsBase64 must encode 4×16 float32 values (256 bytes)',
      'inference.embedding.output must be a second output, not the probabilities output',
    ]);
    m.inference = { tta: 'none', fusion: 'mean-probability', embedding: { output: 'embedding', dimension: 8, classWeightsBase64: weights } };
    expect(problemsOf(m)).toEqual(['inference.embedding is only for inference.fusion "mean-embedding" (found "mean-probability")']);
    m.inference = { tta: 'sideways' as 'flip', fusion: 'mean-probability' };
    expect(problemsOf(m)).toHaveLength(1);
  });

  it('refuses figures obtained with another TTA or fusion than the app would run', async () => {
    const m = await validManifest();
    m.demonstration = false;
    m.validation = exampleValidationReport([
      [3, 0, 0, 0],
      [0, 2, 0, 0],
      [0, 0, 2, 0],
      [1, 0, 0, 2],
    ]);
    m.validation.tta = 'flip-grey';
    // No inference block means flip TTA and mean-probability fusion.
    expect(problemsOf(m)).toEqual(['validation.tta is "flip-grey" but the app would run "flip" (inference.tta): the figures must come from the same TTA']);
    m.inference = { tta: 'flip-grey', fusion: 'mean-probability' };
    expect(problemsOf(m)).toEqual([]);
    const level = {
      accuracy: m.validation.accuracy,
      macroF1: m.validation.macroF1,
      balancedAccuracy: m.validation.macroF1,
      perClass: m.validation.perClass,
      confusionMatrix: m.validation.confusionMatrix,
    };
    m.validation.patientLevel = { fusion: 'mean-log-probability', rules: { 'mean-probability': level } };
    expect(problemsOf(m)).toEqual([
      'validation.patientLevel.fusion is "mean-log-probability" but inference.fusion is "mean-probability"',
      'validation.patientLevel.rules must give the figures of the chosen rule "mean-log-probability"',
    ]);
    m.validation.patientLevel.fusion = 'mean-probability';
    expect(problemsOf(m)).toEqual([]);
  });

  it('keeps the bundled and test manifests valid', async () => {
    const { readFile } = await import('node:fs/promises');
    for (const id of ['demo', 'test-tiny']) {
      const text = await readFile(new URL(`../../models/${id}/manifest.json`, import.meta.url), 'utf8').catch(() => null);
      if (text) expect(validateManifest(JSON.parse(text)).id).toMatch(/^facies-/);
    }
  });
});

describe('verifyModelBytes', () => {
  it('accepts the file the manifest describes', async () => {
    await expect(verifyModelBytes(await validManifest(), modelBytes)).resolves.toBeUndefined();
  });
  it('refuses a truncated file', async () => {
    await expect(verifyModelBytes(await validManifest(), modelBytes.slice(0, 10))).rejects.toThrow(/incomplete/);
  });
  it('refuses a file with one byte changed', async () => {
    const tampered = modelBytes.slice();
    tampered[3]! ^= 1;
    await expect(verifyModelBytes(await validManifest(), tampered)).rejects.toThrow(/altered or corrupted/);
  });
  it('computes the standard SHA-256', async () => {
    expect(await sha256Hex(new TextEncoder().encode('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});

describe('checkSessionSignature', () => {
  const sig = (outShape: (number | string)[], inputName = 'input') => ({
    inputs: [{ name: inputName, shape: ['batch', 3, 112, 112] }],
    outputs: [{ name: 'probabilities', shape: outShape }],
  });
  it('accepts a graph with the declared input and output', async () => {
    const m = await validManifest();
    expect(() => checkSessionSignature(m, sig(['batch', 4]))).not.toThrow();
  });
  it('refuses a model whose output has a different number of classes', async () => {
    const m = await validManifest();
    expect(() => checkSessionSignature(m, sig(['batch', 3]))).toThrow(/output "probabilities" has shape \[batch, 3\]/);
  });
  it('refuses a model whose input is named differently', async () => {
    const m = await validManifest();
    expect(() => checkSessionSignature(m, sig(['batch', 4], 'data'))).toThrow(/no input named "input"/);
  });
});

describe('self-test', () => {
  it('measures the largest deviation, and treats NaN or a wrong length as a failure', async () => {
    const m = await validManifest();
    expect(selfTestDeviation(m, [0.1, 0.2, 0.3, 0.4])).toBe(0);
    expect(selfTestDeviation(m, [0.1, 0.25, 0.3, 0.35])).toBeCloseTo(0.05, 12);
    expect(selfTestDeviation(m, [0.1, NaN, 0.3, 0.4])).toBe(Infinity);
    expect(selfTestDeviation(m, [0.5, 0.5])).toBe(Infinity);
  });
  it('decodes the input as an opaque 112×112 RGBA image', async () => {
    const m = await validManifest();
    const rgb = Buffer.alloc(112 * 112 * 3);
    rgb[0] = 10;
    rgb[1] = 20;
    rgb[2] = 30;
    rgb[3] = 40;
    m.selfTest.inputRgbBase64 = rgb.toString('base64');
    const img = selfTestImage(m);
    expect([img.width, img.height, img.data.length]).toEqual([112, 112, 112 * 112 * 4]);
    expect(Array.from(img.data.slice(0, 8))).toEqual([10, 20, 30, 255, 40, 0, 0, 255]);
  });
});

describe('sha256Hex', () => {
  it('is SHA-256, also across its 8 MiB slices and for a view into a larger buffer', async () => {
    expect(await sha256Hex(new Uint8Array(0))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(await sha256Hex(new TextEncoder().encode('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    const big = new Uint8Array((8 << 20) * 2 + 12345).map((_, i) => (i * 31 + (i >> 13)) & 0xff);
    expect(await sha256Hex(big)).toBe(createHash('sha256').update(big).digest('hex'));
    const view = big.subarray(1000, 1000 + (8 << 20) + 7);
    expect(await sha256Hex(view)).toBe(createHash('sha256').update(view).digest('hex'));
    expect(await sha256Hex(view.slice().buffer)).toBe(createHash('sha256').update(view).digest('hex'));
  });
});
