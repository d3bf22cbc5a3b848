import { describe, expect, it } from 'vitest';
import { assessCapabilities, detectCapabilities, IMPACT, type Capabilities } from './capabilities';

const all = Object.fromEntries(Object.keys(IMPACT).map((k) => [k, true])) as Capabilities;

describe('capabilities', () => {
  it('a complete browser misses nothing', () => {
    expect(assessCapabilities(all)).toEqual({ missing: [], canScreen: true });
  });

  it('WebKit as tested here (isolated, no SharedArrayBuffer): screening works, on one thread', () => {
    expect(assessCapabilities({ ...all, 'wasm-threads': false })).toEqual({ missing: [{ id: 'wasm-threads', impact: 'slower' }], canScreen: true });
  });

  it('no WebGL2, no SIMD or no Web Crypto: no screening; no IndexedDB: no storage but screening', () => {
    for (const id of ['webgl2', 'wasm-simd', 'web-crypto', 'webassembly'] as const) expect(assessCapabilities({ ...all, [id]: false }).canScreen).toBe(false);
    const noStore = assessCapabilities({ ...all, indexeddb: false, 'service-worker': false });
    expect(noStore.canScreen).toBe(true);
    expect(noStore.missing.map((m) => m.impact)).toEqual(['no-storage', 'no-offline']);
  });

  it('detects in Node what Node has (no DOM, no WebGL2, no IndexedDB)', async () => {
    const c = await detectCapabilities();
    expect(c.webassembly).toBe(true);
    expect(c['wasm-simd']).toBe(true);
    expect(c['web-crypto']).toBe(true);
    expect(c.webgl2).toBe(false);
    expect(c.indexeddb).toBe(false);
  });
});
