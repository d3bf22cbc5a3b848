// Settings section "Records on this device": encryption, passphrase change, inactivity lock.
import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { KDF, newPassphraseProblem } from '../../records/crypto';
import { updateSettings, useSettings } from '../../settings/settings';
import { Choice, SettingsSection } from '../settings/SettingsSection';
import { PassphraseField } from './PassphraseField';
import { EncryptionSetup, LockButton } from './RecordsGate';
import { recordsErrorMessage } from './errors';
import { useVault } from './vault-context';
import './records.css';
import { useAdmin } from '../admin/admin-context';

const LOCK_AFTER_CHOICES = [1, 5, 15, 30, 60] as const;

function ChangePassphrase() {
  const { t } = useTranslation('records');
  const { vault } = useVault();
  const { requireAdmin } = useAdmin();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [confirm, setConfirm] = useState('');
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const invalid = newPassphraseProblem(next, confirm);
    if (invalid) return setMessage({ ok: false, text: t(invalid.key, invalid.values) });
    if (!(await requireAdmin('records-settings'))) return setMessage({ ok: false, text: t('admin.refused', { ns: 'settings' }) });
    setBusy(true);
    try {
      const unreadable = await vault.changePassphrase(current, next);
      setMessage({
        ok: true,
        text: unreadable.length
          ? `${t('settings.changed')} ${t('settings.changedWithUnreadable', { count: unreadable.length, ids: unreadable.map((u) => `${u.id} (${t(`settings.unreadable.${u.reason}`)})`).join(', ') })}`
          : t('settings.changed'),
      });
      setCurrent('');
      setNext('');
      setConfirm('');
    } catch (err) {
      const m = recordsErrorMessage(err);
      setMessage({ ok: false, text: t(m.key, m.values) });
    } finally {
      setBusy(false);
    }
  };
  return (
    <form onSubmit={(e) => void submit(e)} className="records-form" data-testid="change-passphrase">
      <h4>{t('settings.change')}</h4>
      <PassphraseField label={t('settings.current')} kind="current" value={current} onChange={setCurrent} testId="change-current" />
      <PassphraseField label={t('settings.next')} kind="new" value={next} onChange={setNext} testId="change-next" />
      <PassphraseField label={t('setup.confirm')} kind="new" value={confirm} onChange={setConfirm} testId="change-confirm" />
      {message && (
        <p className={message.ok ? 'records-saved' : 'error'} role={message.ok ? 'status' : 'alert'}>
          {message.text}
        </p>
      )}
      <button type="submit" disabled={busy || !current} data-testid="change-submit">
        {busy ? t('setup.working') : t('settings.changeSubmit')}
      </button>
    </form>
  );
}

export function RecordsSettingsSection() {
  const { t } = useTranslation('records');
  const { state } = useVault();
  const { lockAfterMinutes } = useSettings();
  const { requireAdmin } = useAdmin();
  const encrypted = state.status === 'locked' || state.status === 'unlocked';
  return (
    <SettingsSection id="records" title={t('settings.title')} description={t('settings.description')}>
      <p data-testid="records-encryption-status" data-encrypted={encrypted}>
        {encrypted
          ? t('settings.encrypted', { iterations: new Intl.NumberFormat().format(KDF.iterations) })
          : state.status === 'plain'
            ? t('settings.notEncrypted')
            : t('opening')}
      </p>
      {state.status === 'plain' && (
        <details>
          <summary>{t('settings.enable')}</summary>
          <EncryptionSetup allowSkip={false} />
        </details>
      )}
      {state.status === 'setup' && <EncryptionSetup />}
      {encrypted && (
        <>
          <h4>{t('settings.lockAfter')}</h4>
          <Choice<string>
            name="lock-after"
            legend={t('settings.lockAfter')}
            value={String(lockAfterMinutes)}
            options={LOCK_AFTER_CHOICES.map((m) => ({ value: String(m), label: t('settings.minutes', { count: m }) }))}
            onChange={(v) => void requireAdmin('records-settings').then((ok) => ok && updateSettings({ lockAfterMinutes: Number(v) }))}
          />
          <LockButton />
          <ChangePassphrase />
        </>
      )}
    </SettingsSection>
  );
}
