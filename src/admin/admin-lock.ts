// The administrator lock of a shared ward or booth tablet: a PIN or passphrase set by whoever sets the device up,
// kept only as a PBKDF2-SHA-256 verifier (never in clear), with attempt throttling that survives a reload. It guards
// what a visitor must not do: leave kiosk mode, install, activate or delete a model, trust or distrust a publisher
// key, change the records' encryption, erase the device. Framework-free; the UI asks through src/app/admin.

import { fromBase64, toBase64 } from '../encoding/base64';

export const ADMIN_LIMITS = Object.freeze({
  /** The records' key derivation floor (src/records/crypto.ts): a stolen verifier costs as much to attack. */
  iterations: 600_000,
  minLength: 6,
  /** Wrong entries allowed before waiting; then 30 s, 60 s, 2 min, … up to 15 min between tries. */
  freeAttempts: 3,
  baseDelayMs: 30_000,
  maxDelayMs: 15 * 60_000,
  /** An entered PIN lets the admin act for this long without entering it again (in this tab only). */
  unlockedMs: 5 * 60_000,
});

interface Stored {
  format: 'facies-admin-lock/1';
  salt: string;
  iterations: number;
  verifier: string;
  failures: number;
  /** Epoch ms before which no entry is checked. */
  blockedUntil: number;
}

export type AdminCheck = { ok: true } | { ok: false; reason: 'wrong' | 'throttled' | 'not-set'; retryInMs: number };

type KeyValueStore = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

const KEY = 'facies.adminLock';
const buf = (b: Uint8Array) => b as Uint8Array<ArrayBuffer>;

async function derive(pin: string, salt: Uint8Array, iterations: number): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey('raw', buf(new TextEncoder().encode(pin.normalize('NFC'))), 'PBKDF2', false, ['deriveBits']);
  return new Uint8Array(await crypto.subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt: buf(salt), iterations }, key, 256));
}

/** Compares in time that does not depend on where the first difference is. */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

export class AdminLock {
  private unlockedUntil = 0;

  constructor(
    private readonly storage: KeyValueStore,
    private readonly now: () => number = Date.now,
  ) {}

  private read(): Stored | null {
    try {
      const v = JSON.parse(this.storage.getItem(KEY) ?? 'null') as Stored | null;
      return v && v.format === 'facies-admin-lock/1' && typeof v.verifier === 'string' ? v : null;
    } catch {
      return null;
    }
  }

  private write(v: Stored): void {
    this.storage.setItem(KEY, JSON.stringify(v));
  }

  isSet(): boolean {
    return this.read() !== null;
  }

  /** Whether an admin action may run now without asking: no PIN is set, or it was entered a moment ago. */
  isOpen(): boolean {
    return !this.isSet() || this.now() < this.unlockedUntil;
  }

  /** Sets the PIN, or changes it (the current one must be given and right). */
  async set(pin: string, current?: string): Promise<AdminCheck> {
    if (pin.length < ADMIN_LIMITS.minLength) throw new RangeError(`the administrator PIN needs at least ${ADMIN_LIMITS.minLength} characters`);
    if (this.isSet()) {
      const check = await this.verify(current ?? '');
      if (!check.ok) return check;
    }
    const salt = crypto.getRandomValues(new Uint8Array(16));
    const verifier = await derive(pin, salt, ADMIN_LIMITS.iterations);
    this.write({
      format: 'facies-admin-lock/1',
      salt: toBase64(salt),
      iterations: ADMIN_LIMITS.iterations,
      verifier: toBase64(verifier),
      failures: 0,
      blockedUntil: 0,
    });
    this.unlockedUntil = this.now() + ADMIN_LIMITS.unlockedMs;
    return { ok: true };
  }

  /** Checks an entry; a right one opens admin actions for a while, a wrong one counts towards the throttle. */
  async verify(pin: string): Promise<AdminCheck> {
    const stored = this.read();
    if (!stored) return { ok: false, reason: 'not-set', retryInMs: 0 };
    const now = this.now();
    if (now < stored.blockedUntil) return { ok: false, reason: 'throttled', retryInMs: stored.blockedUntil - now };
    const right = sameBytes(await derive(pin, fromBase64(stored.salt), stored.iterations), fromBase64(stored.verifier));
    if (right) {
      this.write({ ...stored, failures: 0, blockedUntil: 0 });
      this.unlockedUntil = this.now() + ADMIN_LIMITS.unlockedMs;
      return { ok: true };
    }
    const failures = stored.failures + 1;
    const over = failures - ADMIN_LIMITS.freeAttempts;
    const delay = over >= 0 ? Math.min(ADMIN_LIMITS.maxDelayMs, ADMIN_LIMITS.baseDelayMs * 2 ** over) : 0;
    this.write({ ...stored, failures, blockedUntil: delay ? this.now() + delay : 0 });
    return { ok: false, reason: 'wrong', retryInMs: delay };
  }

  /** Ends the admin's moment: the next admin action asks again. */
  lock(): void {
    this.unlockedUntil = 0;
  }

  /** Removes the PIN (the current one must be given): the device is open to anyone again. */
  async remove(current: string): Promise<AdminCheck> {
    const check = await this.verify(current);
    if (check.ok) this.storage.removeItem(KEY);
    return check;
  }
}
