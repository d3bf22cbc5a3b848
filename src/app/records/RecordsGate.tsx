// What stands between the clinician and the records: the first-run encryption choice, and the lock.
import { useState, type FormEvent, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { newPassphraseProblem } from '../../records/crypto';
import { ErrorLine } from './ErrorLine';
import { PassphraseField } from './PassphraseField';
import { useVault } from './vault-context';
import { useAdmin } from '../admin/admin-context';

/**
 * First run: encrypt the records with a passphrase (recommended), or keep them without encryption.
 * Also used to turn encryption on later (then without the "no encryption" choice); saved cases get encrypted too.
 */
export function EncryptionSetup({ allowSkip = true }: { allowSkip?: boolean }) {
  const { t } = useTranslation('records');
  const { vault } = useVault();
  const [pass, setPass] = useState('');
  const [confirm, setConfirm] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [problem, setProblem] = useState('');
  const { requireAdmin } = useAdmin();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const invalid = newPassphraseProblem(pass, confirm);
    if (invalid) return setProblem(t(invalid.key, invalid.values));
    // Turning encryption on later is a device setting; the first-run choice at the first save is the clinician's.
    if (!allowSkip && !(await requireAdmin('records-settings'))) return setProblem(t('admin.refused', { ns: 'settings' }));
    setProblem('');
    setBusy(true);
    try {
      await vault.enableEncryption(pass);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="records-card encryption-setup" onSubmit={(e) => void submit(e)} data-testid="encryption-setup">
      <h3>{t('setup.title')}</h3>
      <p>{t('setup.body')}</p>
      <p className="hint">{t('setup.warning')}</p>
      <PassphraseField label={t('setup.passphrase')} kind="new" value={pass} onChange={setPass} testId="encryption-passphrase" />
      <PassphraseField label={t('setup.confirm')} kind="new" value={confirm} onChange={setConfirm} testId="encryption-confirm" />
      {problem && (
        <p className="error" role="alert">
          {problem}
        </p>
      )}
      <ErrorLine error={error} />
      <div className="records-actions">
        <button type="submit" disabled={busy} data-testid="encryption-enable">
          {busy ? t('setup.working') : t('setup.enable')}
        </button>
        {allowSkip && (
          <button
            type="button"
            className="secondary"
            disabled={busy}
            onClick={() => void vault.chooseNoEncryption().catch(setError)}
            data-testid="encryption-skip"
          >
            {t('setup.skip')}
          </button>
        )}
      </div>
    </form>
  );
}

function UnlockForm() {
  const { t } = useTranslation('records');
  const { vault } = useVault();
  const [pass, setPass] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await vault.unlock(pass);
    } catch (err) {
      setError(err);
      setPass('');
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="records-card unlock" onSubmit={(e) => void submit(e)} data-testid="records-locked">
      <h3>{t('lock.title')}</h3>
      <p>{t('lock.body')}</p>
      <PassphraseField label={t('lock.passphrase')} kind="current" value={pass} onChange={setPass} testId="unlock-passphrase" autoFocus />
      <ErrorLine error={error} />
      <button type="submit" disabled={busy || !pass} data-testid="unlock-submit">
        {busy ? t('lock.working') : t('lock.unlock')}
      </button>
    </form>
  );
}

/** Renders its children only when the records can be read and written. */
export function RecordsGate({ children }: { children: ReactNode }) {
  const { t } = useTranslation('records');
  const { state } = useVault();
  switch (state.status) {
    case 'opening':
      return <p className="working">{t('opening')}</p>;
    case 'failed':
      return <ErrorLine error={state.error} />;
    case 'setup':
      return <EncryptionSetup />;
    case 'locked':
      return <UnlockForm />;
    default:
      return <>{children}</>;
  }
}

/** "Lock now", shown wherever records are open and encryption is on. */
export function LockButton() {
  const { t } = useTranslation('records');
  const { vault, state } = useVault();
  if (state.status !== 'unlocked') return null;
  return (
    <button type="button" className="secondary" onClick={() => vault.lock()} data-testid="lock-now">
      {t('lock.now')}
    </button>
  );
}
