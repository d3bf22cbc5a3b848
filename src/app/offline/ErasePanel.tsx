// "Erase all data on this device", with confirmation; the app then starts again as on a first visit.
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { appReachable, eraseAllData } from '../../storage/erase';
import { closeModelStore, MODEL_DB_NAME } from '../../model/store';
import { useAdmin } from '../admin/admin-context';

const ERASED_NOTE = 'facies.erased';

type Step =
  | { step: 'idle' }
  | { step: 'confirm' }
  | { step: 'erasing' }
  | { step: 'error'; message: string }
  /** The administrator PIN was not given. */
  | { step: 'refused' }
  // Erased without a connection: the app itself is gone too, so reloading now would show the browser's offline page.
  | { step: 'erasedOffline' };

export function ErasePanel() {
  const { t } = useTranslation('about');
  const [state, setState] = useState<Step>({ step: 'idle' });
  const { requireAdmin } = useAdmin();
  const erase = async () => {
    if (!(await requireAdmin('erase'))) return setState({ step: 'refused' });
    setState({ step: 'erasing' });
    try {
      await closeModelStore();
      await eraseAllData([MODEL_DB_NAME, 'facies-records']);
      if (!(await appReachable())) {
        setState({ step: 'erasedOffline' });
        return;
      }
      // Reload: the model session and every in-memory copy go with the page. The note survives only this tab.
      sessionStorage.setItem(ERASED_NOTE, '1');
      location.reload();
    } catch (e) {
      setState({ step: 'error', message: (e as Error).message });
    }
  };
  // Read in render, removed only once shown: React may discard a first render and run it again before showing
  // anything, and a note removed by the discarded render was never seen (the reload after erasing often does this).
  const [erased] = useState(() => sessionStorage.getItem(ERASED_NOTE) === '1');
  useEffect(() => {
    if (erased) sessionStorage.removeItem(ERASED_NOTE);
  }, [erased]);
  const offline = typeof navigator !== 'undefined' && navigator.onLine === false;
  return (
    <>
      <h3>{t('erase.title')}</h3>
      <p>{t('erase.body')}</p>
      {erased && state.step === 'idle' && (
        <p role="status" data-testid="erase-done">
          {t('erase.done')}
        </p>
      )}
      {state.step === 'erasedOffline' ? (
        <div role="status" data-testid="erase-done" data-offline="true">
          <p>{t('erase.done')}</p>
          <p>{t('erase.doneOffline')}</p>
          <button type="button" onClick={() => location.reload()} data-testid="erase-reload">
            {t('erase.reload')}
          </button>
        </div>
      ) : state.step === 'idle' || state.step === 'error' || state.step === 'refused' ? (
        <button type="button" className="danger" onClick={() => setState({ step: 'confirm' })} data-testid="erase-data">
          {t('erase.action')}
        </button>
      ) : (
        <div className="erase-confirm" role="alertdialog" aria-labelledby="erase-q" data-testid="erase-dialog">
          <p id="erase-q">{t('erase.confirm')}</p>
          {offline && <p data-testid="erase-offline-warning">{t('erase.offlineWarning')}</p>}
          <button type="button" className="danger" onClick={() => void erase()} disabled={state.step === 'erasing'} data-testid="erase-confirm">
            {t('erase.confirmAction')}
          </button>{' '}
          <button type="button" onClick={() => setState({ step: 'idle' })} disabled={state.step === 'erasing'} data-testid="erase-cancel">
            {t('erase.cancel')}
          </button>
        </div>
      )}
      {state.step === 'refused' && (
        <p className="error" role="alert" data-testid="erase-refused">
          {t('admin.refused', { ns: 'settings' })}
        </p>
      )}
      {state.step === 'error' && (
        <p className="error" role="alert">
          {t('erase.failed', { message: state.message })}
        </p>
      )}
    </>
  );
}
