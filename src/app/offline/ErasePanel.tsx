// "Erase all data on this device", with confirmation; the app then starts again as on a first visit.
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { eraseAllData } from '../../storage/erase';
import { closeModelStore, MODEL_DB_NAME } from '../../model/store';

const ERASED_NOTE = 'facies.erased';

type Step = { step: 'idle' } | { step: 'confirm' } | { step: 'erasing' } | { step: 'error'; message: string };

export function ErasePanel() {
  const { t } = useTranslation('about');
  const [state, setState] = useState<Step>({ step: 'idle' });
  const erase = async () => {
    setState({ step: 'erasing' });
    try {
      await closeModelStore();
      await eraseAllData([MODEL_DB_NAME, 'facies-records']);
      // Reload: the model session and every in-memory copy go with the page. The note survives only this tab.
      sessionStorage.setItem(ERASED_NOTE, '1');
      location.reload();
    } catch (e) {
      setState({ step: 'error', message: (e as Error).message });
    }
  };
  const [erased] = useState(() => {
    const note = sessionStorage.getItem(ERASED_NOTE) === '1';
    sessionStorage.removeItem(ERASED_NOTE);
    return note;
  });
  return (
    <>
      <h3>{t('erase.title')}</h3>
      <p>{t('erase.body')}</p>
      {erased && state.step === 'idle' && (
        <p role="status" data-testid="erase-done">
          {t('erase.done')}
        </p>
      )}
      {state.step === 'idle' || state.step === 'error' ? (
        <button type="button" className="danger" onClick={() => setState({ step: 'confirm' })} data-testid="erase-data">
          {t('erase.action')}
        </button>
      ) : (
        <div className="erase-confirm" role="alertdialog" aria-labelledby="erase-q" data-testid="erase-dialog">
          <p id="erase-q">{t('erase.confirm')}</p>
          <button type="button" className="danger" onClick={() => void erase()} disabled={state.step === 'erasing'} data-testid="erase-confirm">
            {t('erase.confirmAction')}
          </button>{' '}
          <button type="button" onClick={() => setState({ step: 'idle' })} disabled={state.step === 'erasing'} data-testid="erase-cancel">
            {t('erase.cancel')}
          </button>
        </div>
      )}
      {state.step === 'error' && (
        <p className="error" role="alert">
          {t('erase.failed', { message: state.message })}
        </p>
      )}
    </>
  );
}
