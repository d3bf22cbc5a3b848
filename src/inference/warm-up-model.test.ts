import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { warmUpModel } from './warm-up-model';

describe('warm-up model', () => {
  it('is a valid ONNX graph that ONNX Runtime runs: y = x', async () => {
    const session = await ort.InferenceSession.create(warmUpModel());
    const out = await session.run({ x: new ort.Tensor('float32', new Float32Array([0.25]), [1]) });
    expect(Array.from(out.y!.data as Float32Array)).toEqual([0.25]);
    await session.release();
  });
});
