// What this browser can do of what Facies relies on, found out at start so that a missing piece is explained in the
// user's language (what does not work, what still does) instead of surfacing later as a raw JavaScript error.
// Detection touches the browser; the judgement (assessCapabilities) is pure and unit-tested.

export type CapabilityId =
  'webassembly' | 'wasm-simd' | 'wasm-threads' | 'webgl2' | 'web-crypto' | 'indexeddb' | 'service-worker' | 'decompression' | 'ed25519';

export type Capabilities = Record<CapabilityId, boolean>;

/** What a missing capability costs: no screening at all, or less of something. */
export type CapabilityImpact = 'no-screening' | 'slower' | 'no-storage' | 'no-offline' | 'no-packages' | 'ecdsa-only';

export const IMPACT: Record<CapabilityId, CapabilityImpact> = {
  // ONNX Runtime Web and MediaPipe are WebAssembly; ORT's builds need 128-bit SIMD.
  webassembly: 'no-screening',
  'wasm-simd': 'no-screening',
  // MediaPipe converts every image on a WebGL2 context, also with its CPU delegate.
  webgl2: 'no-screening',
  // The model file's SHA-256 is checked before it is used.
  'web-crypto': 'no-screening',
  'wasm-threads': 'slower',
  indexeddb: 'no-storage',
  'service-worker': 'no-offline',
  decompression: 'no-packages',
  ed25519: 'ecdsa-only',
};

export interface CapabilityReport {
  missing: { id: CapabilityId; impact: CapabilityImpact }[];
  canScreen: boolean;
}

export function assessCapabilities(c: Capabilities): CapabilityReport {
  const missing = (Object.keys(IMPACT) as CapabilityId[]).filter((id) => !c[id]).map((id) => ({ id, impact: IMPACT[id] }));
  return { missing, canScreen: !missing.some((m) => m.impact === 'no-screening') };
}

/** A module using one 128-bit SIMD instruction (i32x4.dot_i16x8_s), as ONNX Runtime Web checks for. */
const SIMD_TEST = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 2, 1, 0, 10, 30, 1, 28, 0, 65, 0, 253, 15, 253, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 253,
  186, 1, 26, 11,
]);

const safely = async (probe: () => boolean | Promise<boolean>) => {
  try {
    return await probe();
  } catch {
    return false;
  }
};

export async function detectCapabilities(scope: typeof globalThis = globalThis): Promise<Capabilities> {
  const wasm = typeof scope.WebAssembly === 'object';
  return {
    webassembly: wasm,
    'wasm-simd': wasm && (await safely(() => scope.WebAssembly.validate(SIMD_TEST))),
    // WebAssembly threads need both: WebKit is cross-origin isolated yet has no SharedArrayBuffer.
    'wasm-threads': typeof scope.SharedArrayBuffer === 'function' && scope.crossOriginIsolated === true,
    webgl2: await safely(() => !!scope.document?.createElement('canvas').getContext('webgl2')),
    'web-crypto': typeof scope.crypto?.subtle?.digest === 'function',
    indexeddb: typeof scope.indexedDB === 'object' && scope.indexedDB !== null,
    'service-worker': 'serviceWorker' in (scope.navigator ?? {}),
    decompression: typeof scope.DecompressionStream === 'function' && (await safely(() => !!new scope.DecompressionStream('deflate-raw'))),
    ed25519: await safely(async () => !!(await scope.crypto.subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify']))),
  };
}
