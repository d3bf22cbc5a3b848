// The compute ceiling: this browser's peak WebAssembly SIMD128 f32 throughput, from a tiny module encoded here by
// hand (no dependency), run in 1 and 2 dedicated workers at once. The IR-100's achieved GFLOP/s is reported as a
// fraction of it (scripts/bench/run.ts), a figure that compares across machines.
//
// The kernel: `run(n, x, y) -> f32` keeps ACCUMULATORS independent v128 accumulators in locals (register-resident:
// no memory traffic) and on each of n iterations does acc = acc * x + y on every one of them (f32x4.mul then
// f32x4.add: WebAssembly SIMD128 has no fused multiply-add, so a multiply-add is two instructions and two FLOPs
// per lane). Enough independent chains hide the mul+add latency, so the loop is bound by SIMD throughput. The
// accumulators are summed and returned, so the work cannot be eliminated.

/** Independent accumulators: 12 + x + y = 14 vector registers, within x86-64's 16 XMM and AArch64's 32 V registers. */
export const ACCUMULATORS = 12;
/** 4 f32 lanes × (1 mul + 1 add) per accumulator per iteration. */
export const flopsPerIteration = (accumulators = ACCUMULATORS) => accumulators * 4 * 2;
/** Initial value of accumulator k, lane j (distinct, so a wrong lane or accumulator order shows in the result). */
export const initialLane = (k: number, j: number) => Math.fround(1 + k / 8 + j / 32);

// --- a minimal WebAssembly binary encoder: just what the kernel needs ---

/** Unsigned LEB128 (section sizes, counts, indices, SIMD sub-opcodes). */
export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}
/** Signed LEB128 (i32.const immediates). */
export function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && !(b & 0x40)) || (n === -1 && b & 0x40)) return (out.push(b), out);
    out.push(b | 0x80);
  }
}
const vec = (items: number[][]) => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: number[]) => [id, ...uleb(body.length), ...body];

const T = { i32: 0x7f, f32: 0x7d, v128: 0x7b } as const;
/** Core opcodes (WebAssembly 1.0, §5.4). */
const op = {
  block: 0x02,
  loop: 0x03,
  brIf: 0x0d,
  end: 0x0b,
  emptyType: 0x40,
  localGet: 0x20,
  localSet: 0x21,
  localTee: 0x22,
  i32Const: 0x41,
  i32Eqz: 0x45,
  i32Sub: 0x6b,
  f32Add: 0x92,
} as const;
/** SIMD opcodes: prefix 0xFD, then the sub-opcode as unsigned LEB128 (0xE4 → E4 01). From the SIMD proposal's final opcode table. */
const SIMD = 0xfd;
const simd = {
  v128Const: 0x0c,
  f32x4Splat: 0x13,
  f32x4ExtractLane: 0x1f,
  f32x4Add: 0xe4,
  f32x4Mul: 0xe6,
} as const;
const simdOp = (sub: number) => [SIMD, ...uleb(sub)];
const get = (i: number) => [op.localGet, ...uleb(i)];
const set = (i: number) => [op.localSet, ...uleb(i)];
const f32Bytes = (v: number) => [...new Uint8Array(new Float32Array([v]).buffer)];

/**
 * The module: one exported function `run(n: i32, x: f32, y: f32) -> f32`.
 * Locals: 0 n, 1 x, 2 y (parameters), 3 xv, 4 yv (splats), 5.. the accumulators.
 */
export function buildPeakModule(accumulators = ACCUMULATORS): Uint8Array<ArrayBuffer> {
  const [N, X, Y, XV, YV, ACC] = [0, 1, 2, 3, 4, 5];
  const body: number[] = [];
  // xv = splat(x), yv = splat(y)
  body.push(...get(X), ...simdOp(simd.f32x4Splat), ...set(XV), ...get(Y), ...simdOp(simd.f32x4Splat), ...set(YV));
  // acc_k = v128.const [initialLane(k, 0..3)]
  for (let k = 0; k < accumulators; k++) body.push(...simdOp(simd.v128Const), ...[0, 1, 2, 3].flatMap((j) => f32Bytes(initialLane(k, j))), ...set(ACC + k));
  // block { if n == 0 break; loop { every acc_k = acc_k * xv + yv; n -= 1; continue while n != 0 } }
  body.push(op.block, op.emptyType, ...get(N), op.i32Eqz, op.brIf, 0);
  body.push(op.loop, op.emptyType);
  for (let k = 0; k < accumulators; k++)
    body.push(...get(ACC + k), ...get(XV), ...simdOp(simd.f32x4Mul), ...get(YV), ...simdOp(simd.f32x4Add), ...set(ACC + k));
  body.push(...get(N), op.i32Const, ...sleb(1), op.i32Sub, op.localTee, ...uleb(N), op.brIf, 0, op.end, op.end);
  // s = ((acc_0 + acc_1) + acc_2) + ...; return ((s[0] + s[1]) + s[2]) + s[3]
  body.push(...get(ACC));
  for (let k = 1; k < accumulators; k++) body.push(...get(ACC + k), ...simdOp(simd.f32x4Add));
  body.push(...set(ACC));
  body.push(...get(ACC), ...simdOp(simd.f32x4ExtractLane), 0);
  for (let j = 1; j < 4; j++) body.push(...get(ACC), ...simdOp(simd.f32x4ExtractLane), j, op.f32Add);
  body.push(op.end);

  const locals = vec([[...uleb(2 + accumulators), T.v128]]); // one run of (2 + accumulators) v128 locals
  const func = [...locals, ...body];
  const name = [...new TextEncoder().encode('run')];
  const bytes = [
    ...[0x00, 0x61, 0x73, 0x6d], // \0asm
    ...[0x01, 0x00, 0x00, 0x00], // version 1
    ...section(1, vec([[0x60, ...vec([[T.i32], [T.f32], [T.f32]]), ...vec([[T.f32]])]])), // type: (i32 f32 f32) -> f32
    ...section(3, vec([uleb(0)])), // function 0 has type 0
    ...section(7, vec([[...vec(name.map((c) => [c])), 0x00, ...uleb(0)]])), // export "run" = func 0
    ...section(10, vec([[...uleb(func.length), ...func]])), // code
  ];
  return new Uint8Array(bytes);
}

/** The kernel's result computed in JS, f32 step by step (for the unit test; small n only). */
export function expectedResult(n: number, x: number, y: number, accumulators = ACCUMULATORS): number {
  const f = Math.fround;
  const [xf, yf] = [f(x), f(y)];
  const acc = Array.from({ length: accumulators }, (_, k) => [0, 1, 2, 3].map((j) => initialLane(k, j)));
  for (let i = 0; i < n; i++) for (const a of acc) for (let j = 0; j < 4; j++) a[j] = f(f(a[j]! * xf) + yf);
  const s = acc[0]!.slice();
  for (let k = 1; k < accumulators; k++) for (let j = 0; j < 4; j++) s[j] = f(s[j]! + acc[k]![j]!);
  return f(f(f(s[0]! + s[1]!) + s[2]!) + s[3]!);
}

/** Whether this engine has WebAssembly SIMD128 (validates the kernel itself). */
export function simdSupported(): boolean {
  return typeof WebAssembly === 'object' && WebAssembly.validate(buildPeakModule());
}

export type PeakKernel = (n: number, x: number, y: number) => number;
export function instantiatePeak(accumulators = ACCUMULATORS): PeakKernel {
  const instance = new WebAssembly.Instance(new WebAssembly.Module(buildPeakModule(accumulators)));
  return instance.exports.run as PeakKernel;
}

/** Multiplier and addend: acc converges to y / (1 − x) = 1, so every value stays a normal float (no denormal stalls). */
export const X = 0.999;
export const Y = 0.001;

// --- the measurement, in dedicated workers (simd-peak.worker.ts; a same-origin script, as the CSP's worker-src allows) ---

export interface SimdPeak {
  supported: boolean;
  /** Peak GFLOP/s (mul and add counted as one FLOP each per lane), best of the runs: one worker, and two at once (sum). */
  gflops1: number | null;
  gflops2: number | null;
  accumulators: number;
  iterations: number;
  runs: number;
  /** Each run's time, per worker, in ms. */
  runMs: { 1: number[][]; 2: number[][] };
}

/** To the worker: the compiled kernel once (it imports nothing, so Vite need not bundle this file twice), then runs. */
export type WorkerRequest = { module?: WebAssembly.Module; iterations: number; x: number; y: number };
export type WorkerReply = { ms: number; result: number } | { error: string };

function startWorker(): Worker {
  return new Worker(new URL('./simd-peak.worker.ts', import.meta.url), { type: 'module', name: 'facies-simd-peak' });
}
function ask(worker: Worker, iterations: number, module?: WebAssembly.Module): Promise<{ ms: number; result: number }> {
  return new Promise((resolve, reject) => {
    worker.onmessage = (e: MessageEvent<WorkerReply>) => ('error' in e.data ? reject(new Error(e.data.error)) : resolve(e.data));
    worker.onerror = (e) => reject(new Error(e.message));
    worker.postMessage({ module, iterations, x: X, y: Y } satisfies WorkerRequest);
  });
}

/** Peak GFLOP/s with 1 and 2 workers: calibrated to runs of about `targetMs`, best of `runs` each. */
export async function measureSimdPeak(options: { targetMs?: number; runs?: number } = {}): Promise<SimdPeak> {
  // Short runs, several: on a shared machine the best of them is the one least disturbed by other processes.
  const targetMs = options.targetMs ?? 300;
  const runs = options.runs ?? 7;
  const empty: SimdPeak = { supported: false, gflops1: null, gflops2: null, accumulators: ACCUMULATORS, iterations: 0, runs, runMs: { 1: [], 2: [] } };
  if (!simdSupported()) return empty;
  const module = await WebAssembly.compile(buildPeakModule());
  const workers = [startWorker(), startWorker()];
  try {
    await Promise.all(workers.map((w) => ask(w, 0, module)));
    // Warm-up and calibration on worker 0 (V8 tiers the function up from Liftoff to TurboFan after the first calls).
    let iterations = 1_000_000;
    for (let i = 0; i < 16; i++) {
      const { ms } = await ask(workers[0]!, iterations);
      if (ms > targetMs / 4) {
        iterations = Math.min(2 ** 31 - 1, Math.round((iterations * targetMs) / ms)); // n is an i32
        break;
      }
      iterations *= 2;
    }
    await Promise.all(workers.map((w) => ask(w, Math.round(iterations / 8)))); // warm worker 1 too
    const flops = iterations * flopsPerIteration();
    const best = { 1: 0, 2: 0 };
    const runMs: SimdPeak['runMs'] = { 1: [], 2: [] };
    for (let r = 0; r < runs; r++) {
      for (const n of [1, 2] as const) {
        const ms = (await Promise.all(workers.slice(0, n).map((w) => ask(w, iterations)))).map((x) => x.ms);
        runMs[n].push(ms.map((m) => +m.toFixed(1)));
        // Both workers do the same work at once: the aggregate is their total over the slower one's time.
        best[n] = Math.max(best[n], (n * flops) / (Math.max(...ms) * 1e6));
      }
    }
    return { supported: true, gflops1: +best[1].toFixed(2), gflops2: +best[2].toFixed(2), accumulators: ACCUMULATORS, iterations, runs, runMs };
  } finally {
    workers.forEach((w) => w.terminate());
  }
}
