import { describe, expect, it } from 'vitest';
import {
  ACCUMULATORS,
  buildPeakModule,
  expectedResult,
  flopsPerIteration,
  instantiatePeak,
  simdSupported,
  sleb,
  uleb,
  X,
  Y,
} from '../../scripts/bench/page/simd-peak';

describe('SIMD peak kernel (hand-encoded WebAssembly)', () => {
  it('encodes LEB128 as the binary format does', () => {
    expect(uleb(0)).toEqual([0]);
    expect(uleb(0xe4)).toEqual([0xe4, 0x01]); // f32x4.add's sub-opcode after the 0xFD prefix
    expect(uleb(624485)).toEqual([0xe5, 0x8e, 0x26]);
    expect(sleb(1)).toEqual([1]);
    expect(sleb(-1)).toEqual([0x7f]);
    expect(sleb(64)).toEqual([0xc0, 0x00]);
    expect(sleb(-123456)).toEqual([0xc0, 0xbb, 0x78]);
  });

  it('validates (Node has SIMD128) and uses the SIMD opcodes', () => {
    const bytes = buildPeakModule();
    expect(WebAssembly.validate(bytes)).toBe(true);
    expect(simdSupported()).toBe(true);
    const hex = Buffer.from(bytes).toString('hex');
    expect(hex).toContain('fde601'); // f32x4.mul
    expect(hex).toContain('fde401'); // f32x4.add
    expect(hex).toContain('fd13'); // f32x4.splat
    expect(hex).toContain('fd0c'); // v128.const
    for (const k of [1, 4, 16]) expect(WebAssembly.validate(buildPeakModule(k))).toBe(true);
  });

  it('returns the accumulator sum computed step by step in f32', () => {
    const run = instantiatePeak();
    for (const n of [0, 1, 2, 3, 17, 250]) expect(run(n, X, Y)).toBe(expectedResult(n, X, Y));
    expect(run(5, 0.5, 0.25)).toBe(expectedResult(5, 0.5, 0.25));
    const small = instantiatePeak(3);
    expect(small(9, 1.5, -0.75)).toBe(expectedResult(9, 1.5, -0.75, 3));
    // n = 0 is the sum of the initial values: an independent check of expectedResult's bookkeeping.
    let sum = 0;
    for (let k = 0; k < ACCUMULATORS; k++) for (let j = 0; j < 4; j++) sum += 1 + k / 8 + j / 32;
    expect(run(0, X, Y)).toBeCloseTo(sum, 4);
  });

  it('counts 8 FLOPs per accumulator per iteration (4 lanes × mul + add)', () => {
    expect(flopsPerIteration(12)).toBe(96);
    expect(flopsPerIteration(1)).toBe(8);
  });
});
