// Settings → Administrator lock: set the PIN, change or remove it (with the current one), lock admin actions now.
import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { ADMIN_LIMITS } from '../../admin/admin-lock';
import { SettingsSection } from '../settings/SettingsSection';
import { checkMessage, useAdmin } from './admin-context';

export function AdminSection() {
  const { t } = useTranslation('settings');
  const { lock, isSet, changed } = useAdmin();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [confirm, setConfirm] = useState('');
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const run = async (work: () => Promise<void>) => {
    setBusy(true);
    setMessage(null);
    try {
      await work();
    } finally {
      setBusy(false);
    }
  };
  const save = (e: FormEvent) => {
    e.preventDefault();
    if (next.length < ADMIN_LIMITS.minLength) return setMessage({ ok: false, text: t('admin.tooShort') });
    if (next !== confirm) return setMessage({ ok: false, text: t('admin.mismatch') });
    void run(async () => {
      const check = await lock.set(next, current);
      if (!check.ok) return setMessage({ ok: false, text: checkMessage(t, check) });
      setCurrent('');
      setNext('');
      setConfirm('');
      changed();
      setMessage({ ok: true, text: t('admin.saved') });
    });
  };
  const remove = () =>
    void run(async () => {
      const check = await lock.remove(current);
      if (!check.ok) return setMessage({ ok: false, text: checkMessage(t, check) });
      setCurrent('');
      changed();
      setMessage({ ok: true, text: t('admin.saved') });
    });
  return (
    <SettingsSection id="admin" title={t('admin.title')} description={t('admin.description')}>
      <p data-testid="admin-status" data-set={isSet} className={isSet ? undefined : 'notice'}>
        {t(isSet ? 'admin.isSet' : 'admin.notSet')}
      </p>
      <form className="records-form" onSubmit={save}>
        {isSet && (
          <label className="field">
            <span>{t('admin.currentPin')}</span>
            <input type="password" autoComplete="current-password" value={current} onChange={(e) => setCurrent(e.target.value)} data-testid="admin-current" />
          </label>
        )}
        <label className="field">
          <span>{t('admin.newPin')}</span>
          <input type="password" autoComplete="new-password" value={next} onChange={(e) => setNext(e.target.value)} data-testid="admin-new" />
        </label>
        <label className="field">
          <span>{t('admin.confirmPin')}</span>
          <input type="password" autoComplete="new-password" value={confirm} onChange={(e) => setConfirm(e.target.value)} data-testid="admin-confirm" />
        </label>
        <div className="records-actions">
          <button type="submit" disabled={busy} data-testid="admin-save">
            {t(isSet ? 'admin.change' : 'admin.set')}
          </button>
          {isSet && (
            <>
              <button type="button" className="secondary" disabled={busy || !current} onClick={remove} data-testid="admin-remove">
                {t('admin.remove')}
              </button>
              <button type="button" className="secondary" onClick={() => lock.lock()} data-testid="admin-lock-now">
                {t('admin.lockNow')}
              </button>
            </>
          )}
        </div>
        {message && (
          <p className={message.ok ? 'records-saved' : 'error'} role={message.ok ? 'status' : 'alert'} data-testid="admin-message">
            {message.text}
          </p>
        )}
      </form>
    </SettingsSection>
  );
}
