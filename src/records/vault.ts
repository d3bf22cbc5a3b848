// The records session of this tab: the store, the unlocked key (memory only), the inactivity lock, and news from
// other tabs (a case saved, encryption turned on, "lock now"). Framework-free; React subscribes to it.
import type { DataKey } from './crypto';
import { CaseStore } from './store';

export type VaultState =
  | { status: 'opening' }
  | { status: 'failed'; error: unknown }
  /** First run: the clinician has not yet chosen whether to encrypt. */
  | { status: 'setup' }
  | { status: 'plain' }
  | { status: 'locked' }
  | { status: 'unlocked'; key: DataKey };

type Message = { type: 'changed' } | { type: 'encryption' } | { type: 'lock' };

export class RecordsVault {
  private state: VaultState = { status: 'opening' };
  /** Bumped whenever cases change here or in another tab: lists reload on it. */
  private rev = 0;
  private listeners = new Set<() => void>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private lastActivity = Date.now();
  private channel: BroadcastChannel | null = null;
  private snapshot = { state: this.state, revision: this.rev };

  constructor(
    readonly store = new CaseStore(),
    private lockAfterMs = 5 * 60_000,
  ) {
    if (typeof BroadcastChannel !== 'undefined') {
      this.channel = new BroadcastChannel('facies-records');
      this.channel.onmessage = (e: MessageEvent<Message>) => {
        if (e.data.type === 'changed') this.bump();
        else if (e.data.type === 'lock') this.lock(false);
        else void this.refresh();
      };
    }
    void this.refresh();
  }

  get current() {
    return this.snapshot;
  }

  subscribe = (l: () => void) => {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  };

  private set(state: VaultState) {
    this.state = state;
    this.emit();
  }

  private emit() {
    this.snapshot = { state: this.state, revision: this.rev };
    for (const l of this.listeners) l();
  }

  private bump() {
    this.rev++;
    this.emit();
  }

  /** Reads the encryption setting again (first open, another tab changed it, or the data was erased). */
  async refresh(): Promise<void> {
    try {
      const setting = await this.store.encryption();
      if (!setting) this.set({ status: 'setup' });
      else if (setting.mode === 'none') this.set({ status: 'plain' });
      else if (this.state.status === 'unlocked' && this.state.key.keyId === setting.envelope.keyId) this.bump();
      else this.set({ status: 'locked' });
    } catch (error) {
      this.set({ status: 'failed', error });
    }
  }

  /** The key to read and write cases with: null without encryption; throws when locked. */
  key(): DataKey | null {
    if (this.state.status === 'unlocked') return this.state.key;
    if (this.state.status === 'plain') return null;
    throw new Error(`records are ${this.state.status}`);
  }

  /** Call after writing cases: lists here and in other tabs reload. */
  changed() {
    this.bump();
    this.channel?.postMessage({ type: 'changed' } satisfies Message);
  }

  async chooseNoEncryption() {
    await this.store.chooseNoEncryption();
    this.set({ status: 'plain' });
    this.channel?.postMessage({ type: 'encryption' } satisfies Message);
  }

  async enableEncryption(passphrase: string) {
    const key = await this.store.enableEncryption(passphrase);
    this.unlocked(key);
    this.channel?.postMessage({ type: 'encryption' } satisfies Message);
  }

  async unlock(passphrase: string) {
    this.unlocked(await this.store.unlock(passphrase));
  }

  /**
   * Every case is re-sealed with a new key; other tabs lock (their key is no longer the current one). Returns the
   * cases that could not be (damaged ones keep the previous key, which the new passphrase opens too).
   */
  async changePassphrase(current: string, next: string) {
    const key = await this.store.changePassphrase(current, next);
    this.unlocked(key);
    this.channel?.postMessage({ type: 'encryption' } satisfies Message);
    return this.store.unreadableCases(key);
  }

  private unlocked(key: DataKey) {
    this.lastActivity = Date.now();
    this.set({ status: 'unlocked', key });
    this.arm();
  }

  /** Forgets the key. `everywhere`: other tabs of this device lock too. */
  lock(everywhere = true) {
    clearTimeout(this.timer);
    if (this.state.status === 'unlocked') this.set({ status: 'locked' });
    if (everywhere) this.channel?.postMessage({ type: 'lock' } satisfies Message);
  }

  setLockAfter(ms: number) {
    this.lockAfterMs = ms;
    this.arm();
  }

  /** The clinician is using the app: the inactivity clock starts again. */
  touch() {
    this.lastActivity = Date.now();
  }

  private arm() {
    clearTimeout(this.timer);
    if (this.state.status !== 'unlocked') return;
    const left = this.lastActivity + this.lockAfterMs - Date.now();
    if (left <= 0) this.lock(false);
    else this.timer = setTimeout(() => this.arm(), Math.min(left, 30_000));
  }
}
