// The UI side of the worker protocol (src/inference/client.ts) against a scripted stand-in for the worker:
// replies settle the right request with the right type, progress is routed, an AbortSignal cancels an explanation.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { FromWorker, ToWorker } from '../../src/inference/protocol';

class FakeWorker {
  static last: FakeWorker;
  onmessage: ((e: MessageEvent<FromWorker>) => void) | null = null;
  onerror: ((e: ErrorEvent) => void) | null = null;
  sent: { msg: ToWorker; transfer: Transferable[] }[] = [];
  terminated = false;
  constructor() {
    FakeWorker.last = this;
  }
  postMessage(msg: ToWorker, transfer: Transferable[] = []) {
    this.sent.push({ msg, transfer });
  }
  reply(msg: FromWorker) {
    this.onmessage?.({ data: msg } as MessageEvent<FromWorker>);
  }
  terminate() {
    this.terminated = true;
  }
}

beforeEach(() => vi.stubGlobal('Worker', FakeWorker));
afterEach(() => vi.unstubAllGlobals());

const { InferenceClient, InferenceError } = await import('../../src/inference/client');

describe('InferenceClient', () => {
  it('transfers the input, and resolves classify with the result of its own request', async () => {
    const client = new InferenceClient();
    const w = FakeWorker.last;
    const input = new Float32Array(3 * 112 * 112);
    const pending = client.classify(input, 1);
    const { msg, transfer } = w.sent[0]!;
    expect(msg).toMatchObject({ type: 'classify', batch: 1 });
    expect(transfer).toEqual([input.buffer]);
    w.reply({ type: 'result', requestId: msg.requestId + 100, probabilities: new Float32Array(4), batch: 1, inferenceMs: 1 }); // someone else's
    const probabilities = Float32Array.from([0.1, 0.2, 0.3, 0.4]);
    const embeddings = new Float32Array(8);
    w.reply({ type: 'result', requestId: msg.requestId, probabilities, embeddings, batch: 1, inferenceMs: 5 });
    await expect(pending).resolves.toEqual({ probabilities, embeddings, inferenceMs: 5 });
  });

  it('rejects with the worker error code, and on a reply of the wrong type', async () => {
    const client = new InferenceClient();
    const w = FakeWorker.last;
    const a = client.classify(new Float32Array(1), 1);
    w.reply({ type: 'error', requestId: w.sent[0]!.msg.requestId, code: 'not-ready', message: 'The model is not loaded yet.' });
    await expect(a).rejects.toMatchObject({ code: 'not-ready' });
    const b = client.load('/models/demo/', 'auto');
    w.reply({ type: 'explanation', requestId: w.sent[1]!.msg.requestId, drops: new Float32Array(1), cells: 1, baseProbability: 0, elapsedMs: 0 });
    await expect(b).rejects.toBeInstanceOf(InferenceError);
  });

  it('routes load progress, then resolves with the ready model', async () => {
    const client = new InferenceClient();
    const w = FakeWorker.last;
    const stages: string[] = [];
    const loading = client.load('/models/demo/', 'wasm', (p) => stages.push(p.stage));
    const requestId = w.sent[0]!.msg.requestId;
    w.reply({ type: 'progress', requestId, stage: 'download', loaded: 1, total: 2 });
    w.reply({ type: 'progress', requestId, stage: 'self-test' });
    const ready = { selfTestDeviation: 0 } as never;
    w.reply({ type: 'ready', requestId, ready });
    await expect(loading).resolves.toBe(ready);
    expect(stages).toEqual(['download', 'self-test']);
  });

  it('sends a cancel when the signal aborts an explanation, and never for one already aborted', async () => {
    const client = new InferenceClient();
    const w = FakeWorker.last;
    const controller = new AbortController();
    const job = client.explain(new Float32Array(3 * 112 * 112), 0, { patch: 28, stride: 14, batchSize: 4, signal: controller.signal });
    const { msg } = w.sent[0]!;
    expect(msg).not.toHaveProperty('signal'); // not cloneable: it stays on this side
    controller.abort();
    expect(w.sent[1]!.msg).toEqual({ type: 'cancel', requestId: msg.requestId });
    w.reply({ type: 'error', requestId: msg.requestId, code: 'cancelled', message: 'The explanation was cancelled.' });
    await expect(job.result).rejects.toMatchObject({ code: 'cancelled' });

    const before = w.sent.length;
    const aborted = client.explain(new Float32Array(1), 0, { patch: 28, stride: 14, batchSize: 4, signal: AbortSignal.abort() });
    await expect(aborted.result).rejects.toMatchObject({ code: 'cancelled' });
    expect(w.sent.length).toBe(before);
  });

  it('rejects what is pending when terminated', async () => {
    const client = new InferenceClient();
    const pending = client.classify(new Float32Array(1), 1);
    client.terminate();
    expect(FakeWorker.last.terminated).toBe(true);
    await expect(pending).rejects.toMatchObject({ code: 'session' });
  });
});
