import { describe, expect, it } from 'vitest';
import { blockedRequests, installNetworkGuard, isSameOrigin } from '../../src/privacy/network-guard';

describe('network guard', () => {
  it('tells same-origin URLs from others', () => {
    const o = 'http://localhost:4173';
    expect(isSameOrigin('/models/demo/model.onnx', o)).toBe(true);
    expect(isSameOrigin('http://localhost:4173/x', o)).toBe(true);
    expect(isSameOrigin('blob:http://localhost:4173/abc', o)).toBe(true);
    expect(isSameOrigin('https://odml.pa.googleapis.com/v1/log', o)).toBe(false);
    expect(isSameOrigin('http://localhost:5173/', o)).toBe(false);
  });

  it('refuses a fetch to another origin without calling the network, and passes same-origin ones through', async () => {
    const calls: string[] = [];
    const scope = {
      location: { origin: 'http://localhost:4173' },
      fetch: async (input: RequestInfo | URL) => {
        calls.push(String(input));
        return new Response('ok');
      },
      navigator: {},
    } as unknown as typeof globalThis;
    installNetworkGuard(scope);
    await expect(scope.fetch('https://odml.pa.googleapis.com/v1/log', { method: 'POST' })).rejects.toThrow(/nothing leaves this device/);
    expect(calls).toEqual([]);
    expect(blockedRequests().at(-1)?.origin).toBe('https://odml.pa.googleapis.com');
    await expect((await scope.fetch('/models/demo/manifest.json')).text()).resolves.toBe('ok');
    expect(calls).toEqual(['/models/demo/manifest.json']);
  });
});
