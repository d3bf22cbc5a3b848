import { describe, expect, it } from 'vitest';
import { trackWasmMemories, wasmMemoryBytes } from './wasm-memory';

// (module (memory (export "memory") 3))
const EXPORTS_MEMORY = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 5, 3, 1, 0, 3, 7, 10, 1, 6, 109, 101, 109, 111, 114, 121, 2, 0]);
const PAGE = 65536;

describe('WebAssembly memory tracking', () => {
  it('counts memories made by the constructor and exported by instantiated modules, as they grow', async () => {
    // A scope of its own: the test does not patch this realm's WebAssembly for the other tests.
    const api = { Memory: WebAssembly.Memory, instantiate: WebAssembly.instantiate, instantiateStreaming: WebAssembly.instantiateStreaming };
    const before = wasmMemoryBytes();
    trackWasmMemories(api);
    trackWasmMemories(api); // twice: no double counting
    const made = new api.Memory({ initial: 2, maximum: 10 });
    expect(made).toBeInstanceOf(WebAssembly.Memory);
    expect(wasmMemoryBytes() - before).toBe(2 * PAGE);
    made.grow(3);
    expect(wasmMemoryBytes() - before).toBe(5 * PAGE);
    const { instance } = await api.instantiate(EXPORTS_MEMORY);
    expect(instance.exports.memory).toBeInstanceOf(WebAssembly.Memory);
    expect(wasmMemoryBytes() - before).toBe(8 * PAGE);
    // A memory made outside the tracked API is not counted.
    new WebAssembly.Memory({ initial: 1 });
    expect(wasmMemoryBytes() - before).toBe(8 * PAGE);
  });
});
