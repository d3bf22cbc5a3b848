import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { InactivityTimer } from './inactivity';

describe('kiosk inactivity reset', () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  it('resets once after the timeout with no activity', () => {
    const onIdle = vi.fn();
    const timer = new InactivityTimer(90_000, onIdle);
    timer.activity();
    vi.advanceTimersByTime(89_999);
    expect(onIdle).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(onIdle).toHaveBeenCalledTimes(1);
    expect(timer.waiting).toBe(false);
    vi.advanceTimersByTime(1_000_000);
    expect(onIdle).toHaveBeenCalledTimes(1);
  });

  it('each touch restarts the wait', () => {
    const onIdle = vi.fn();
    const timer = new InactivityTimer(30_000, onIdle);
    timer.activity();
    for (let i = 0; i < 5; i++) {
      vi.advanceTimersByTime(20_000);
      timer.activity();
    }
    expect(onIdle).not.toHaveBeenCalled();
    vi.advanceTimersByTime(30_000);
    expect(onIdle).toHaveBeenCalledTimes(1);
  });

  it('stop cancels a pending reset; a bad timeout is refused', () => {
    const onIdle = vi.fn();
    const timer = new InactivityTimer(1_000, onIdle);
    timer.activity();
    timer.stop();
    vi.advanceTimersByTime(5_000);
    expect(onIdle).not.toHaveBeenCalled();
    expect(() => new InactivityTimer(0, onIdle)).toThrow(RangeError);
    expect(() => new InactivityTimer(Number.NaN, onIdle)).toThrow(RangeError);
  });
});
