// A new version is installed: say so, and switch only when the user chooses to (never mid-screening).
import { useTranslation } from 'react-i18next';
import { applyUpdate, useAppUpdate } from '../../sw/register';
import './offline.css';

export function UpdatePrompt() {
  const { t } = useTranslation('offline');
  const { updateWaiting } = useAppUpdate();
  if (!updateWaiting) return null;
  return (
    <div className="update-prompt" role="status" aria-live="polite" data-testid="update-prompt">
      <span>{t('update.available')}</span>
      <span className="update-hint">{t('update.hint')}</span>
      <button type="button" onClick={applyUpdate} data-testid="update-reload">
        {t('update.reload')}
      </button>
    </div>
  );
}
