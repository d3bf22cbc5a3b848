// The realm's own WebAssembly patched, as the inference worker does (a file of its own: vitest isolates test files).
import { describe, expect, it } from 'vitest';
import { trackWasmMemories, wasmMemoryBytes } from './wasm-memory';

// (module (memory (export "memory") 3))
const EXPORTS_MEMORY = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 5, 3, 1, 0, 3, 7, 10, 1, 6, 109, 101, 109, 111, 114, 121, 2, 0]);

describe('WebAssembly memory tracking of the realm itself', () => {
  it('counts a memory a module exports, although WebAssembly.Memory is then the counting subclass', async () => {
    trackWasmMemories();
    const before = wasmMemoryBytes();
    await WebAssembly.instantiate(EXPORTS_MEMORY);
    expect(wasmMemoryBytes() - before).toBe(3 * 65536);
    new WebAssembly.Memory({ initial: 1 });
    expect(wasmMemoryBytes() - before).toBe(4 * 65536);
  });
});
