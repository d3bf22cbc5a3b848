import { describe, expect, it } from 'vitest';
import { EXTERNAL_FILE, FLOAT32_FILE, externalizeWeights, halfToFloatBits } from './external-weights';

// A protobuf writer and reader just big enough to build a ModelProto by hand and look inside the rewritten one.
const varint = (v: number): number[] => (v < 0x80 ? [v] : [(v % 128) | 0x80, ...varint(Math.floor(v / 128))]);
const tag = (n: number, wire: number) => varint(n * 8 + wire);
const bytesField = (n: number, payload: number[] | Uint8Array) => [...tag(n, 2), ...varint(payload.length), ...payload];
const intField = (n: number, v: number) => [...tag(n, 0), ...varint(v)];
const text = (s: string) => Array.from(new TextEncoder().encode(s));

type Fields = Map<number, (number | Uint8Array)[]>;
function read(buf: Uint8Array): Fields {
  const out: Fields = new Map();
  let at = 0;
  const next = () => {
    let v = 0;
    for (let scale = 1; ; scale *= 128) {
      const b = buf[at++]!;
      v += (b & 0x7f) * scale;
      if (b < 0x80) return v;
    }
  };
  while (at < buf.length) {
    const t = next();
    let value: number | Uint8Array;
    if (t % 8 === 0) value = next();
    else {
      const length = next();
      value = buf.slice(at, at + length);
      at += length;
    }
    out.set(Math.floor(t / 8), [...(out.get(Math.floor(t / 8)) ?? []), value]);
  }
  return out;
}

function tensor(name: string, raw: number[]): number[] {
  return [...intField(1, raw.length / 4), ...intField(2, 1), ...bytesField(8, text(name)), ...bytesField(9, raw)];
}

const big = Array.from({ length: 4096 }, (_, i) => (i * 7) % 256);
const small = [1, 2, 3, 4, 5, 6, 7, 8];
const node = bytesField(1, [...bytesField(1, text('w')), ...bytesField(4, text('Identity'))]);
const graph = [...node, ...bytesField(2, text('g')), ...bytesField(5, tensor('w', big)), ...bytesField(5, tensor('b', small))];
const model = new Uint8Array([...intField(1, 8), ...bytesField(2, text('facies-test')), ...bytesField(7, graph), ...bytesField(8, [...intField(2, 17)])]);

describe('externalizeWeights', () => {
  it('points a large initializer at its own bytes in the file, and keeps everything else as it was', () => {
    const split = externalizeWeights(model)!;
    expect(split).not.toBeNull();
    expect(split.tensors).toBe(1);
    expect(split.bytes).toBe(big.length);
    expect(split.graph.length).toBeLessThan(model.length - big.length + 100);

    const m = read(split.graph);
    expect(m.get(1)).toEqual([8]);
    expect(new TextDecoder().decode(m.get(2)![0] as Uint8Array)).toBe('facies-test');
    expect(m.get(8)).toEqual([new Uint8Array(intField(2, 17))]);
    const g = read(m.get(7)![0] as Uint8Array);
    expect(g.get(1)).toEqual([new Uint8Array(node.slice(2))]);
    const [moved, kept] = g.get(5) as Uint8Array[];
    expect(kept).toEqual(new Uint8Array(tensor('b', small))); // small: verbatim
    const t = read(moved!);
    expect(t.get(9)).toBeUndefined(); // no raw_data left
    expect(t.get(14)).toEqual([1]); // data_location EXTERNAL
    const entries = Object.fromEntries(
      (t.get(13) as Uint8Array[]).map((e) => {
        const kv = read(e);
        return [new TextDecoder().decode(kv.get(1)![0] as Uint8Array), new TextDecoder().decode(kv.get(2)![0] as Uint8Array)];
      }),
    );
    expect(entries.location).toBe(EXTERNAL_FILE);
    const offset = Number(entries.offset);
    expect(Number(entries.length)).toBe(big.length);
    expect(model.subarray(offset, offset + big.length)).toEqual(new Uint8Array(big)); // the weights, where it says
  });

  it('leaves models it cannot or need not rewrite to ONNX Runtime', () => {
    expect(externalizeWeights(model.subarray(0, model.length - 40))).toBeNull(); // truncated
    expect(externalizeWeights(new Uint8Array([0x0b, 0x01]))).toBeNull(); // a wire type protobuf does not have
    expect(externalizeWeights(new Uint8Array([...intField(1, 8), ...bytesField(7, bytesField(5, tensor('b', small)))]))).toBeNull(); // nothing large
    const alreadyExternal = [...intField(2, 1), ...bytesField(9, big), ...intField(14, 1)];
    expect(externalizeWeights(new Uint8Array(bytesField(7, bytesField(5, alreadyExternal))))).toBeNull();
  });
});

describe('externalizeWeights with widenFloat16', () => {
  // 512 float16 values (1 KiB, the smallest moved): exact ones, ±0, a subnormal, the largest, infinity, and a ramp.
  const specials = [0x3c00, 0xc000, 0x0000, 0x8000, 0x0001, 0x03ff, 0x7bff, 0x7c00, 0xfc00, 0x3555];
  const halves = Array.from({ length: 512 }, (_, i) => specials[i] ?? (0x2000 + i * 37) % 0x7c00);
  const expected = [1, -2, 0, -0, 2 ** -24, 1023 * 2 ** -24, 65504, Infinity, -Infinity, 0.333251953125];
  const raw16 = halves.flatMap((h) => [h & 0xff, h >> 8]);
  const tensor16 = (name: string) => [...intField(1, 512), ...intField(2, 10), ...bytesField(8, text(name)), ...bytesField(9, raw16)];
  const nodeOf = (op: string, inputs: string[], outputs: string[], attributes: number[][] = []) =>
    bytesField(1, [
      ...inputs.flatMap((i) => bytesField(1, text(i))),
      ...outputs.flatMap((o) => bytesField(2, text(o))),
      ...bytesField(4, text(op)),
      ...attributes.flat(),
    ]);
  const castTo = (type: number) => bytesField(5, [...bytesField(1, text('to')), ...intField(3, type), ...intField(20, 2)]);
  const modelOf = (graph: number[]) => new Uint8Array([...intField(1, 8), ...bytesField(7, graph)]);
  const valueInfo = (n: number, name: string) => bytesField(n, bytesField(1, text(name)));
  const decode = (e: Uint8Array) => {
    const kv = read(e);
    return [new TextDecoder().decode(kv.get(1)![0] as Uint8Array), new TextDecoder().decode(kv.get(2)![0] as Uint8Array)];
  };

  it('turns a float16 initializer that only a Cast to float reads into a float32 one, read from a file that widens it as it is read', () => {
    const model = modelOf([
      ...nodeOf('Cast', ['w16'], ['w'], [castTo(1)]),
      ...nodeOf('Conv', ['x', 'w'], ['y']),
      ...bytesField(5, tensor16('w16')),
      ...valueInfo(13, 'w16'),
      ...valueInfo(11, 'x'),
      ...valueInfo(12, 'y'),
    ]);
    const split = externalizeWeights(model, { widenFloat16: true })!;
    expect([split.tensors, split.widened, split.widenedBytes]).toEqual([0, 1, 2048]);
    const g = read(read(split.graph).get(7)![0] as Uint8Array);
    const nodes = (g.get(1) as Uint8Array[]).map((n) => new TextDecoder().decode(read(n).get(4)![0] as Uint8Array));
    expect(nodes).toEqual(['Conv']); // the Cast is gone
    expect(g.get(13)).toBeUndefined(); // and so is the float16 name's value_info
    const t = read((g.get(5) as Uint8Array[])[0]!);
    expect(new TextDecoder().decode(t.get(8)![0] as Uint8Array)).toBe('w'); // the Cast's output
    expect(t.get(2)).toEqual([1]); // float
    expect(t.get(1)).toEqual([512]); // dims kept
    expect(Object.fromEntries((t.get(13) as Uint8Array[]).map(decode))).toEqual({ location: FLOAT32_FILE, offset: '0', length: '2048' });

    expect(split.files.map((f) => f.path)).toEqual([FLOAT32_FILE]);
    const file = split.files[0]!.data;
    expect(file).toBeInstanceOf(Uint8Array);
    expect(file.byteLength).toBe(2048);
    const floats = new Float32Array(file.subarray(0, 2048).slice().buffer);
    expect(Array.from(floats.subarray(0, expected.length))).toEqual(expected);
    expect(Object.is(floats[3], -0)).toBe(true);
    // Any slice, even one that starts or ends inside a float, is the same bytes as the whole.
    const whole = file.subarray(0, 2048).slice();
    expect(file.subarray(6, 1031)).toEqual(whole.slice(6, 1031));
    expect(file.subarray(2040)).toEqual(whole.slice(2040));
    // Slices are written into one scratch buffer (ORT copies each at once), not into a new buffer each.
    expect(file.subarray(0, 8).buffer).toBe(file.subarray(8, 16).buffer);
    split.release();
    expect(file.subarray(0, 8)).toEqual(whole.slice(0, 8)); // still readable after release (a new scratch)
  });

  it('with releaseAsRead, serves every tensor from a copy of its own, so the file can go before ORT reads them', () => {
    const model = modelOf([...nodeOf('Cast', ['w16'], ['w'], [castTo(1)]), ...bytesField(5, tensor16('w16')), ...bytesField(5, tensor('big', big))]);
    const expectedFloats = externalizeWeights(model, { widenFloat16: true })!.files[1]!.data.subarray(0, 2048).slice();
    const bigAt = Array.from(model).findIndex((_, i) => big.every((b, j) => model[i + j] === b));
    const split = externalizeWeights(model, { widenFloat16: true, releaseAsRead: true })!;
    model.fill(0); // the file, freed: nothing is read from it any more
    const [asStored, widened] = split.files;
    expect([asStored!.path, widened!.path]).toEqual([EXTERNAL_FILE, FLOAT32_FILE]);
    expect(asStored!.data.byteLength).toBe(model.length); // the same offsets as in the file
    expect(asStored!.data.subarray(bigAt, bigAt + big.length)).toEqual(new Uint8Array(big));
    expect(widened!.data.subarray(0, 2048)).toEqual(expectedFloats);
    expect(() => asStored!.data.subarray(0, 16)).toThrow(RangeError); // no tensor there
    split.release();
  });

  it('leaves float16 weights as they are when anything else could read them', () => {
    const cases = {
      'a second reader': [...nodeOf('Cast', ['w16'], ['w'], [castTo(1)]), ...nodeOf('Identity', ['w16'], ['v'])],
      'a Cast to another type': nodeOf('Cast', ['w16'], ['w'], [castTo(11)]),
      'a graph output': [...nodeOf('Cast', ['w16'], ['w'], [castTo(1)]), ...valueInfo(12, 'w16')],
      'a subgraph': [
        ...nodeOf('Cast', ['w16'], ['w'], [castTo(1)]),
        ...nodeOf('If', ['c'], ['z'], [bytesField(5, [...bytesField(1, text('then_branch')), ...bytesField(6, [])])]),
      ],
    };
    for (const [why, nodes] of Object.entries(cases)) {
      const split = externalizeWeights(modelOf([...nodes, ...bytesField(5, tensor16('w16'))]), { widenFloat16: true })!;
      expect([why, split.tensors, split.widened]).toEqual([why, 1, 0]); // moved as it is, into the file itself
      expect(split.files.map((f) => f.path)).toEqual([EXTERNAL_FILE]);
    }
    // Without the option nothing is widened.
    const split = externalizeWeights(modelOf([...nodeOf('Cast', ['w16'], ['w'], [castTo(1)]), ...bytesField(5, tensor16('w16'))]))!;
    expect([split.tensors, split.widened]).toEqual([1, 0]);
  });

  it('widens every float16 exactly', () => {
    const view = new DataView(new ArrayBuffer(4));
    const asFloat = (bits: number) => (view.setUint32(0, bits), view.getFloat32(0));
    for (let h = 0; h < 0x10000; h++) {
      const exponent = (h >> 10) & 0x1f;
      const mantissa = h & 0x3ff;
      const sign = h & 0x8000 ? -1 : 1;
      const value =
        exponent === 0x1f ? (mantissa ? NaN : sign * Infinity) : sign * (exponent ? (1 + mantissa / 1024) * 2 ** (exponent - 15) : mantissa * 2 ** -24);
      expect(Object.is(asFloat(halfToFloatBits(h)), value) || (Number.isNaN(value) && Number.isNaN(asFloat(halfToFloatBits(h))))).toBe(true);
    }
  });
});
