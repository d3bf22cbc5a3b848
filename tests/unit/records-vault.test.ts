import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RecordsVault } from '../../src/records/vault';
import { CaseStore } from '../../src/records/store';
import { sampleCase } from './records-fixtures';

const settled = async (v: RecordsVault) => {
  for (let i = 0; i < 50 && v.current.state.status === 'opening'; i++) await new Promise((r) => setTimeout(r, 5));
  return v.current.state.status;
};

afterEach(() => vi.useRealTimers());

describe('records session', () => {
  it('first run asks; encrypted records lock after the configured inactivity, and activity postpones it', async () => {
    const vault = new RecordsVault(new CaseStore('vault-test-1'), 60_000);
    expect(await settled(vault)).toBe('setup');
    await vault.enableEncryption('a long passphrase');
    expect(vault.current.state.status).toBe('unlocked');
    await vault.store.add(sampleCase(), vault.key());

    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    vault.setLockAfter(5 * 60_000);
    vi.advanceTimersByTime(4 * 60_000);
    vault.touch(); // the clinician taps the screen
    vi.advanceTimersByTime(4 * 60_000);
    expect(vault.current.state.status).toBe('unlocked');
    vi.advanceTimersByTime(90_000);
    expect(vault.current.state.status).toBe('locked');
    expect(() => vault.key()).toThrow();
    vi.useRealTimers();

    await expect(vault.unlock('wrong passphrase')).rejects.toThrow('wrong passphrase');
    expect(vault.current.state.status).toBe('locked');
    await vault.unlock('a long passphrase');
    expect((await vault.store.get('case-0001', vault.key())).patientRef).toBe('MRN-48213');
    vault.lock();
    expect(vault.current.state.status).toBe('locked');
  }, 60_000);

  it('without encryption the records are open and have no key', async () => {
    const vault = new RecordsVault(new CaseStore('vault-test-2'));
    expect(await settled(vault)).toBe('setup');
    await vault.chooseNoEncryption();
    expect(vault.current.state.status).toBe('plain');
    expect(vault.key()).toBeNull();
  });
});
