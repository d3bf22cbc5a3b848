import { describe, expect, it } from 'vitest';
import { freeNow } from './free-now';

describe('freeNow', () => {
  it('detaches the buffer where the runtime can (its views become empty), once', () => {
    const calls: number[] = [];
    let detached = false;
    const fake = {
      get detached() {
        return detached;
      },
      transfer(length: number) {
        calls.push(length);
        detached = true;
        return new ArrayBuffer(length);
      },
    } as unknown as ArrayBuffer;
    freeNow(fake);
    freeNow(fake); // already detached: transfer would throw
    expect(calls).toEqual([0]);
    const real = new ArrayBuffer(16);
    const view = new Uint8Array(real);
    freeNow(real);
    // Node 20 has no transfer (the buffer then waits for the collector); Node 22+ and the browsers detach it.
    expect(view.length).toBe('transfer' in real ? 0 : 16);
  });

  it('leaves a SharedArrayBuffer alone (it cannot be detached)', () => {
    const shared = new SharedArrayBuffer(8);
    expect(() => freeNow(shared)).not.toThrow();
    expect(shared.byteLength).toBe(8);
  });
});
