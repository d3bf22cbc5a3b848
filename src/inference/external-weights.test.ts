import { describe, expect, it } from 'vitest';
import { EXTERNAL_FILE, externalizeWeights } from './external-weights';

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
