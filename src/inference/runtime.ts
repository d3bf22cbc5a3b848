// Choosing the execution provider and starting ONNX Runtime on it, in the worker (browser APIs: navigator.gpu,
// crossOriginIsolated, the self-hosted runtime files). The rule itself is pure and tested: ./backend.ts.
import type * as Ort from 'onnxruntime-web';
import { chooseBackend, isSoftwareAdapter, wasmThreadCount, type AdapterFacts } from './backend';
import type { BackendInfo, BackendPreference, LoadTuning } from './protocol';
import { warmUpModel } from './warm-up-model';

export type WebOrt = typeof Ort;

interface GpuAdapterLike {
  info?: { vendor?: string; architecture?: string; description?: string };
  isFallbackAdapter?: boolean;
}

async function gpuAdapter(): Promise<AdapterFacts | null> {
  const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<GpuAdapterLike | null> } }).gpu;
  if (!gpu) return null;
  try {
    const adapter = await gpu.requestAdapter();
    if (!adapter) return null;
    const info = adapter.info ?? {};
    return {
      vendor: info.vendor ?? '',
      architecture: info.architecture ?? '',
      software: isSoftwareAdapter(info, (adapter as GpuAdapterLike).isFallbackAdapter === true),
    };
  } catch {
    return null;
  }
}

/** The ONNX Runtime build for `ep`, its WASM threads set (ORT fixes them when it first starts). */
export async function importOrt(ep: BackendInfo['ep'], threads: number): Promise<WebOrt> {
  // The native WebGPU EP build (it has PRelu on the GPU); the plain WASM build is smaller and CPU-only.
  const ort: WebOrt = ep === 'webgpu' ? await import('onnxruntime-web/webgpu') : await import('onnxruntime-web/wasm');
  // Self-hosted runtime files: ORT's own threads must not re-import the app bundle.
  ort.env.wasm.wasmPaths = new URL('/vendor/ort/', self.location.origin).href;
  ort.env.wasm.numThreads = threads;
  return ort;
}

export interface Runtime {
  ort: WebOrt;
  backend: BackendInfo;
  threads: number;
  /** Choosing the backend and starting ORT on it; runs while the model is read or downloaded. */
  startMs: number;
}

export async function startRuntime(preference: BackendPreference, tuning: LoadTuning | undefined): Promise<Runtime> {
  const t0 = performance.now();
  const threadsPossible = self.crossOriginIsolated && typeof SharedArrayBuffer !== 'undefined';
  const threads = threadsPossible && tuning?.threads ? tuning.threads : wasmThreadCount(threadsPossible, navigator.hardwareConcurrency);
  const backend = chooseBackend(preference, preference === 'wasm' ? null : await gpuAdapter(), threads);
  const ort = await importOrt(backend.ep, threads);
  if (tuning?.ortVerboseLog) ort.env.logLevel = 'verbose'; // before ORT starts: its environment's logger takes it then
  if (tuning?.runtimeWarmUp === false) return { ort, backend, threads, startMs: performance.now() - t0 };
  try {
    await (await ort.InferenceSession.create(warmUpModel(), { executionProviders: [backend.ep] })).release();
  } catch {
    // Not fatal here: the model's own session creation reports what is wrong with this backend.
  }
  return { ort, backend, threads, startMs: performance.now() - t0 };
}
