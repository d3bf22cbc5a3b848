// Conference demo (kiosk) mode returns to the start when nobody has touched the screen for a while,
// so the next visitor never sees the previous visitor's photo or result. Framework-free for unit tests.

/** Choices offered in Settings, in seconds. */
export const KIOSK_RESET_CHOICES = [30, 60, 90, 180, 300] as const;

/** The events that count as someone using the app. */
export const ACTIVITY_EVENTS = ['pointerdown', 'keydown', 'wheel', 'touchstart'] as const;

/**
 * Calls onIdle once timeoutMs after the last activity; activity after that starts a new wait.
 * Timers are injected so the behaviour is testable with fake clocks.
 */
export class InactivityTimer {
  private handle: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly timeoutMs: number,
    private readonly onIdle: () => void,
    // Wrapped: a browser's setTimeout called as a method of another object throws "Illegal invocation".
    private readonly timers: { set: (f: () => void, ms: number) => ReturnType<typeof setTimeout>; clear: (h: ReturnType<typeof setTimeout>) => void } = {
      set: (f, ms) => setTimeout(f, ms),
      clear: (h) => clearTimeout(h),
    },
  ) {
    if (!(timeoutMs > 0)) throw new RangeError(`inactivity timeout must be positive, got ${timeoutMs}`);
  }

  /** Someone used the app: restart the wait. */
  activity(): void {
    this.stop();
    this.handle = this.timers.set(() => {
      this.handle = undefined;
      this.onIdle();
    }, this.timeoutMs);
  }

  stop(): void {
    if (this.handle !== undefined) this.timers.clear(this.handle);
    this.handle = undefined;
  }

  get waiting(): boolean {
    return this.handle !== undefined;
  }
}
