// The administrator lock in the UI: every admin action goes through requireAdmin(), which runs at once when no PIN
// is set or it was entered a moment ago, and otherwise asks for it in a dialog (wrong entries are throttled by the
// lock itself, src/admin/admin-lock.ts).
import { createContext, useCallback, useContext, useMemo, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { AdminLock, type AdminCheck } from '../../admin/admin-lock';

export type AdminAction =
  'leave-kiosk' | 'install-model' | 'activate-model' | 'delete-model' | 'trust-key' | 'distrust-key' | 'records-settings' | 'erase' | 'admin-settings';

interface Admin {
  lock: AdminLock;
  /** Whether a PIN is set (re-read after each change). */
  isSet: boolean;
  /** Resolves true when the action may run: no PIN set, entered a moment ago, or entered now. */
  requireAdmin: (action: AdminAction) => Promise<boolean>;
  /** Call after setting, changing or removing the PIN. */
  changed: () => void;
}

const AdminContext = createContext<Admin | null>(null);

export function AdminProvider({ children }: { children: ReactNode }) {
  const lock = useMemo(() => new AdminLock(localStorage), []);
  const [isSet, setIsSet] = useState(() => lock.isSet());
  const [asking, setAsking] = useState<{ action: AdminAction; answer: (ok: boolean) => void } | null>(null);
  const requireAdmin = useCallback(
    (action: AdminAction) => (lock.isOpen() ? Promise.resolve(true) : new Promise<boolean>((answer) => setAsking({ action, answer }))),
    [lock],
  );
  const changed = useCallback(() => setIsSet(lock.isSet()), [lock]);
  const admin = useMemo(() => ({ lock, isSet, requireAdmin, changed }), [lock, isSet, requireAdmin, changed]);
  return (
    <AdminContext.Provider value={admin}>
      {children}
      {asking && (
        <AdminPrompt
          lock={lock}
          action={asking.action}
          onDone={(ok) => {
            setAsking(null);
            asking.answer(ok);
          }}
        />
      )}
    </AdminContext.Provider>
  );
}

export function useAdmin(): Admin {
  const admin = useContext(AdminContext);
  if (!admin) throw new Error('useAdmin outside AdminProvider');
  return admin;
}

/** The words for a refused entry, in the user's language. */
export function checkMessage(t: (k: string, o?: Record<string, unknown>) => string, check: Exclude<AdminCheck, { ok: true }>): string {
  const seconds = Math.ceil(check.retryInMs / 1000);
  if (check.reason === 'throttled') return t('admin.throttled', { seconds });
  return seconds > 0 ? t('admin.wrongWait', { seconds }) : t('admin.wrong');
}

function AdminPrompt({ lock, action, onDone }: { lock: AdminLock; action: AdminAction; onDone: (ok: boolean) => void }) {
  const { t } = useTranslation('settings');
  const [pin, setPin] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const field = useRef<HTMLInputElement>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    const check = await lock.verify(pin);
    setBusy(false);
    if (check.ok) return onDone(true);
    setPin('');
    setError(checkMessage(t, check));
    field.current?.focus();
  };
  return (
    <div className="admin-backdrop">
      <form
        className="admin-prompt records-card"
        role="dialog"
        aria-modal="true"
        aria-labelledby="admin-prompt-title"
        onSubmit={(e) => void submit(e)}
        data-testid="admin-prompt"
        data-action={action}
      >
        <h2 id="admin-prompt-title">{t('admin.promptTitle')}</h2>
        <p>{t(`admin.actions.${action}`)}</p>
        <label className="field">
          <span>{t('admin.pin')}</span>
          <input
            ref={field}
            type="password"
            autoComplete="current-password"
            autoFocus
            value={pin}
            onChange={(e) => setPin(e.target.value)}
            data-testid="admin-pin"
          />
        </label>
        {error && (
          <p className="error" role="alert" data-testid="admin-pin-error">
            {error}
          </p>
        )}
        <div className="records-actions">
          <button type="submit" disabled={busy || !pin} data-testid="admin-pin-submit">
            {busy ? t('admin.checking') : t('admin.confirm')}
          </button>
          <button type="button" className="secondary" onClick={() => onDone(false)} data-testid="admin-pin-cancel">
            {t('admin.cancel')}
          </button>
        </div>
      </form>
    </div>
  );
}
