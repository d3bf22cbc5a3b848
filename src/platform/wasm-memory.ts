// The size of the WebAssembly memories this realm has created (ONNX Runtime's in the inference worker): the heap a
// model lives in, which JS heap figures do not include and which never shrinks. Memories are counted as they are
// made (the WebAssembly.Memory constructor, for the threaded builds that import their memory) or as modules that
// export one are instantiated; they are held weakly, so a memory the runtime dropped stops counting once collected.

type WasmApi = Pick<typeof WebAssembly, 'Memory' | 'instantiate' | 'instantiateStreaming'>;

const memories = new Set<WeakRef<WebAssembly.Memory>>();
const seen = new WeakSet<WebAssembly.Memory>();
const tracked = new WeakSet<object>();

// The native class, taken before any patching: once the realm's WebAssembly.Memory is the counting subclass, a memory
// a module exports is not an instance of it.
const NativeMemory = WebAssembly.Memory;

function remember(memory: unknown): void {
  if (memory instanceof NativeMemory && !seen.has(memory)) {
    seen.add(memory);
    memories.add(new WeakRef(memory));
  }
}

function rememberExports(result: WebAssembly.Instance | WebAssembly.WebAssemblyInstantiatedSource): void {
  const instance = result instanceof WebAssembly.Instance ? result : result.instance;
  for (const value of Object.values(instance.exports)) remember(value);
}

/** Starts counting the memories made through `api` (the realm's WebAssembly object); call before the runtime loads. */
export function trackWasmMemories(api: WasmApi = WebAssembly): void {
  if (tracked.has(api)) return;
  tracked.add(api);
  const Original = api.Memory;
  // A subclass: every memory made is still a WebAssembly.Memory to the modules and to instanceof checks.
  api.Memory = class extends Original {
    constructor(descriptor: WebAssembly.MemoryDescriptor) {
      super(descriptor);
      remember(this);
    }
  };
  const instantiate = api.instantiate.bind(api) as (...a: unknown[]) => Promise<WebAssembly.Instance | WebAssembly.WebAssemblyInstantiatedSource>;
  api.instantiate = (async (...args: unknown[]) => {
    const result = await instantiate(...args);
    rememberExports(result);
    return result;
  }) as typeof WebAssembly.instantiate;
  if (typeof api.instantiateStreaming === 'function') {
    const streaming = api.instantiateStreaming.bind(api);
    api.instantiateStreaming = async (...args: Parameters<typeof WebAssembly.instantiateStreaming>) => {
      const result = await streaming(...args);
      rememberExports(result);
      return result;
    };
  }
}

/** Bytes of the tracked memories still alive. */
export function wasmMemoryBytes(): number {
  let bytes = 0;
  for (const ref of memories) {
    const memory = ref.deref();
    if (memory) bytes += memory.buffer.byteLength;
    else memories.delete(ref);
  }
  return bytes;
}
