// One thread of the SIMD peak measurement (simd-peak.ts): instantiates the kernel it is sent, runs it for the asked
// iterations and times it. It imports nothing: simd-peak.ts, which starts this worker, stays out of its bundle.
import type { WorkerReply, WorkerRequest } from './simd-peak';

type Kernel = (n: number, x: number, y: number) => number;
let kernel: Kernel | null = null;

self.onmessage = (e: MessageEvent<WorkerRequest>) => {
  let reply: WorkerReply;
  try {
    if (e.data.module) kernel = new WebAssembly.Instance(e.data.module).exports.run as Kernel;
    if (!kernel) throw new Error('no kernel: send the module first');
    const t = performance.now();
    const result = kernel(e.data.iterations, e.data.x, e.data.y);
    reply = { ms: performance.now() - t, result };
  } catch (err) {
    reply = { error: String(err) };
  }
  (self as unknown as Worker).postMessage(reply);
};
