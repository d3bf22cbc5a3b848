import { describe, expect, it } from 'vitest';
import {
  checkSessionSignature,
  ManifestError,
  MANIFEST_FORMAT,
  selfTestDeviation,
  selfTestImage,
  sha256Hex,
  validateManifest,
  verifyModelBytes,
  type ModelManifest,
} from '../../src/model/manifest';

const modelBytes = new TextEncoder().encode('not really an onnx file, but bytes with a known hash');

async function validManifest(): Promise<ModelManifest> {
  return {
    format: MANIFEST_FORMAT,
    id: 'facies-demo-ir100',
    version: '0.1.0',
    name: 'Demo',
    demonstration: true,
    architecture: 'iresnet100',
    head: 'cosface',
    input: { name: 'input', shape: [-1, 3, 112, 112], layout: 'NCHW', colorSpace: 'RGB' },
    normalization: { mean: [127.5, 127.5, 127.5], std: [127.5, 127.5, 127.5] },
    alignment: { template: 'arcface-112', points: ['right-eye', 'left-eye', 'nose-tip', 'mouth-centre'] },
    output: { name: 'probabilities', shape: [-1, 4] },
    classes: ['wbs', 'ns', 'algs', 'non_gs'].map((id) => ({ id, displayName: { en: id } })),
    cosfaceScale: 64,
    temperature: 1,
    file: { name: 'model.onnx', sha256: await sha256Hex(modelBytes), bytes: modelBytes.byteLength },
    clinicalValidation: { status: 'none', summary: 'Untrained.' },
    selfTest: { inputRgbBase64: Buffer.alloc(112 * 112 * 3, 7).toString('base64'), expected: [0.1, 0.2, 0.3, 0.4], tolerance: 1e-4 },
  };
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
    expect(p).toContain('id must be a non-empty string');
    expect(p).toContain('cosfaceScale must be a positive number');
    expect(p).toContain('head must be "cosface" or "arcface"');
  });

  it('rejects an output shape that does not match the class count', async () => {
    const m = await validManifest();
    m.output.shape = [-1, 3];
    expect(problemsOf(m)).toContain('output.shape must be [N, 4]');
  });

  it('rejects a self-test with the wrong number of probabilities, a bad input size, or a silly tolerance', async () => {
    const m = await validManifest();
    m.selfTest = { inputRgbBase64: Buffer.alloc(10).toString('base64'), expected: [0.5, 0.5], tolerance: 0.5 };
    const p = problemsOf(m);
    expect(p).toContain('selfTest.inputRgbBase64 must encode 112×112×3 bytes');
    expect(p).toContain('selfTest.expected must list 4 probabilities per class');
    expect(p).toContain('selfTest.tolerance must be in (0, 0.05]');
  });

  it('rejects duplicate class ids, a wrong input size and a demonstration model that claims validation', async () => {
    const m = await validManifest();
    m.classes[1] = { id: 'wbs', displayName: { en: 'again' } };
    m.input.shape = [1, 3, 224, 224];
    m.clinicalValidation = { status: 'external', summary: 'trust me' };
    const p = problemsOf(m);
    expect(p).toContain('classes[1].id "wbs" is duplicated');
    expect(p).toContain('input.shape must be [N, 3, 112, 112] (N = -1 for a dynamic batch)');
    expect(p).toContain('a demonstration model cannot claim clinical validation');
  });

  it('rejects a malformed hash', async () => {
    const m = await validManifest();
    m.file.sha256 = 'ABC';
    expect(problemsOf(m)).toContain('file.sha256 must be 64 lowercase hex digits');
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
    rgb[0] = 10; rgb[1] = 20; rgb[2] = 30; rgb[3] = 40;
    m.selfTest.inputRgbBase64 = rgb.toString('base64');
    const img = selfTestImage(m);
    expect([img.width, img.height, img.data.length]).toEqual([112, 112, 112 * 112 * 4]);
    expect(Array.from(img.data.slice(0, 8))).toEqual([10, 20, 30, 255, 40, 0, 0, 255]);
  });
});
