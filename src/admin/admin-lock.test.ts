import { describe, expect, it } from 'vitest';
import { ADMIN_LIMITS, AdminLock } from './admin-lock';

function memoryStorage() {
  const m = new Map<string, string>();
  return {
    getItem: (k: string) => m.get(k) ?? null,
    setItem: (k: string, v: string) => void m.set(k, v),
    removeItem: (k: string) => void m.delete(k),
    dump: () => [...m.values()].join('\n'),
  };
}

describe('administrator lock', () => {
  it('keeps only a PBKDF2 verifier, never the PIN, and checks entries against it across instances (a reload)', async () => {
    const storage = memoryStorage();
    const lock = new AdminLock(storage);
    expect(lock.isSet()).toBe(false);
    expect(lock.isOpen()).toBe(true);
    expect(await lock.set('ward-7-admin')).toEqual({ ok: true });
    expect(storage.dump()).not.toContain('ward-7-admin');
    expect(JSON.parse(storage.dump()).iterations).toBe(600_000);
    const again = new AdminLock(storage);
    expect(again.isSet()).toBe(true);
    expect(again.isOpen()).toBe(false);
    expect(await again.verify('ward-7-admin')).toEqual({ ok: true });
    expect(again.isOpen()).toBe(true);
    again.lock();
    expect(again.isOpen()).toBe(false);
  }, 30_000);

  it('throttles wrong entries, and the wait survives a reload', async () => {
    let t = 1_000_000;
    const storage = memoryStorage();
    const lock = new AdminLock(storage, () => t);
    await lock.set('123456');
    for (let i = 0; i < ADMIN_LIMITS.freeAttempts - 1; i++) expect(await lock.verify('000000')).toEqual({ ok: false, reason: 'wrong', retryInMs: 0 });
    expect(await lock.verify('000000')).toEqual({ ok: false, reason: 'wrong', retryInMs: 30_000 });
    // Even the right PIN is not checked while blocked, also by a fresh instance.
    const reloaded = new AdminLock(storage, () => t);
    expect(await reloaded.verify('123456')).toMatchObject({ ok: false, reason: 'throttled' });
    t += 30_001;
    expect(await reloaded.verify('000000')).toEqual({ ok: false, reason: 'wrong', retryInMs: 60_000 });
    t += 60_001;
    expect(await reloaded.verify('123456')).toEqual({ ok: true });
    expect(await reloaded.verify('000000')).toEqual({ ok: false, reason: 'wrong', retryInMs: 0 });
  }, 60_000);

  it('a change or removal needs the current PIN; a short PIN is refused', async () => {
    const lock = new AdminLock(memoryStorage());
    await expect(lock.set('12345')).rejects.toThrow(RangeError);
    await lock.set('first-pin');
    expect(await lock.set('second-pin', 'not-it')).toMatchObject({ ok: false, reason: 'wrong' });
    expect(await lock.set('second-pin', 'first-pin')).toEqual({ ok: true });
    expect(await lock.verify('first-pin')).toMatchObject({ ok: false });
    expect(await lock.remove('second-pin')).toEqual({ ok: true });
    expect(lock.isSet()).toBe(false);
  }, 60_000);
});
