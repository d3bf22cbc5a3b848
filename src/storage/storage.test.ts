import { describe, expect, it } from 'vitest';
import { formatBytes } from './storage';

describe('storage sizes', () => {
  it('formats bytes per locale in decimal units', () => {
    expect(formatBytes(260_584_423, 'en')).toBe('261 MB');
    expect(formatBytes(1_234_000_000, 'en')).toBe('1.2 GB');
    expect(formatBytes(512, 'en')).toBe('512 byte');
    expect(formatBytes(260_584_423, 'zh-CN')).toMatch(/^261\s?MB$/);
  });
});
