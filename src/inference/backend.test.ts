import { describe, expect, it } from 'vitest';
import { chooseBackend, isSoftwareAdapter, wasmThreadCount } from './backend';

const hardware = { vendor: 'nvidia', architecture: 'hopper', software: false };
const swiftshader = { vendor: 'google', architecture: 'swiftshader', software: true };

describe('chooseBackend', () => {
  it('uses WebGPU on a hardware adapter', () => {
    expect(chooseBackend('auto', hardware, 2).ep).toBe('webgpu');
  });
  it('treats a software adapter as no GPU for automatic choice', () => {
    const b = chooseBackend('auto', swiftshader, 2);
    expect(b.ep).toBe('wasm');
    expect(b.reason).toMatch(/software-emulated/);
  });
  it('honours an explicit WebGPU request even on a software adapter', () => {
    expect(chooseBackend('webgpu', swiftshader, 2).ep).toBe('webgpu');
  });
  it('falls back to WASM without an adapter, and honours an explicit WASM request', () => {
    expect(chooseBackend('auto', null, 2)).toMatchObject({ ep: 'wasm', threads: 2, reason: 'no WebGPU adapter on this device' });
    expect(chooseBackend('webgpu', null, 1).ep).toBe('wasm');
    expect(chooseBackend('wasm', hardware, 4).ep).toBe('wasm');
  });
});

describe('isSoftwareAdapter', () => {
  it('recognises SwiftShader, llvmpipe and fallback adapters', () => {
    expect(isSoftwareAdapter({ vendor: 'google', architecture: 'swiftshader' })).toBe(true);
    expect(isSoftwareAdapter({ description: 'llvmpipe (LLVM 15.0.6, 256 bits)' })).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'intel', architecture: 'gen-12lp' }, true)).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'apple', architecture: 'common-3' })).toBe(false);
  });
});

describe('wasmThreadCount', () => {
  it('uses one thread without cross-origin isolation, else up to 4 cores', () => {
    expect(wasmThreadCount(false, 8)).toBe(1);
    expect(wasmThreadCount(true, 2)).toBe(2);
    expect(wasmThreadCount(true, 16)).toBe(4);
    expect(wasmThreadCount(true, undefined)).toBe(1);
  });
});
