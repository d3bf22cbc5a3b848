// Which execution provider runs the model. Pure, so the rule is unit-tested.
import type { BackendInfo, BackendPreference } from './protocol';

export interface AdapterFacts {
  vendor: string;
  architecture: string;
  /** Software rasteriser (SwiftShader) or an adapter the browser marks as fallback. */
  software: boolean;
}

export function isSoftwareAdapter(info: { vendor?: string; architecture?: string; description?: string }, isFallbackAdapter = false): boolean {
  const text = `${info.vendor ?? ''} ${info.architecture ?? ''} ${info.description ?? ''}`.toLowerCase();
  return isFallbackAdapter || text.includes('swiftshader') || text.includes('llvmpipe') || text.includes('software');
}

/**
 * WebGPU first — but a software adapter runs the ResNet-100 ~100× slower than WASM, so "auto" treats it as no GPU.
 * An explicit "webgpu" preference is honoured even on a software adapter (parity tests on small models).
 */
export function chooseBackend(preference: BackendPreference, adapter: AdapterFacts | null, wasmThreads: number): BackendInfo {
  const wasm = (reason: string): BackendInfo => ({ ep: 'wasm', threads: wasmThreads, reason, ...(adapter ? { adapter } : {}) });
  if (preference === 'wasm') return wasm('WASM requested');
  if (!adapter) return wasm('no WebGPU adapter on this device');
  if (preference === 'webgpu')
    return { ep: 'webgpu', threads: wasmThreads, adapter, reason: adapter.software ? 'WebGPU requested (software adapter)' : 'WebGPU requested' };
  if (adapter.software) return wasm(`WebGPU adapter is software-emulated (${adapter.architecture || adapter.vendor}); WASM is faster`);
  return { ep: 'webgpu', threads: wasmThreads, adapter, reason: 'hardware WebGPU adapter' };
}

/**
 * WASM threads to ask for: all cores up to 4 when WebAssembly threads can run, else 1. They need both cross-origin
 * isolation and SharedArrayBuffer: Safari's engine (WebKitGTK 2.50 here) is isolated yet has no SharedArrayBuffer.
 */
export function wasmThreadCount(threadsPossible: boolean, hardwareConcurrency: number | undefined): number {
  if (!threadsPossible) return 1;
  return Math.max(1, Math.min(4, hardwareConcurrency ?? 1));
}
