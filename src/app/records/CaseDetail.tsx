// One case: the report, follow-up and notes editing, delete.
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { type CaseRecord, type Diagnosis, LIMITS } from '../../records/case-record';
import { DiagnosisOptions } from './DiagnosisOptions';
import { CaseReport } from './CaseReport';
import { recordsErrorMessage } from './errors';
import { useVault } from './vault-context';

export function CaseDetail({
  record,
  names,
  validation,
  onClose,
}: {
  record: CaseRecord;
  names: Record<string, Record<string, string>>;
  validation: string | null;
  onClose: () => void;
}) {
  const { t } = useTranslation('records');
  const { vault } = useVault();
  // The version being edited. A newer version saved meanwhile (another tab) replaces it only while nothing is typed
  // here; otherwise saving is refused as a conflict rather than silently overwriting either edit.
  const [base, setBase] = useState(record);
  const [notes, setNotes] = useState(record.notes);
  const [diagnosis, setDiagnosis] = useState<Diagnosis>(record.followUp.diagnosis);
  const [detail, setDetail] = useState(record.followUp.detail);
  const [message, setMessage] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const dirty = notes !== base.notes || diagnosis !== base.followUp.diagnosis || detail !== base.followUp.detail;
  const load = (r: CaseRecord) => {
    setBase(r);
    setNotes(r.notes);
    setDiagnosis(r.followUp.diagnosis);
    setDetail(r.followUp.detail);
  };
  // A newer stored version replaces what is shown unless the clinician has unsaved edits (then they choose, below).
  useEffect(() => {
    if (!dirty) load(record);
    // eslint-disable-next-line react-hooks/exhaustive-deps -- only a new stored version reloads the form, not each keystroke
  }, [record]);

  const save = async () => {
    const now = new Date().toISOString();
    const followUpChanged = diagnosis !== base.followUp.diagnosis || detail !== base.followUp.detail;
    const next: CaseRecord = { ...base, notes, updatedAt: now, followUp: followUpChanged ? { diagnosis, detail, updatedAt: now } : base.followUp };
    try {
      await vault.store.update(next, base.updatedAt, vault.key());
      setBase(next);
      vault.changed();
      setMessage({ kind: 'ok', text: t('detail.saved') });
    } catch (e) {
      const m = recordsErrorMessage(e);
      setMessage({ kind: 'error', text: t(m.key, m.values) });
    }
  };

  const remove = async () => {
    try {
      await vault.store.delete(record.id);
      vault.changed();
      onClose();
    } catch (e) {
      const m = recordsErrorMessage(e);
      setMessage({ kind: 'error', text: t(m.key, m.values) });
    }
  };

  return (
    <section className="case-detail" data-testid="case-detail" data-case-id={record.id}>
      <div className="records-actions no-print">
        <button type="button" className="secondary" onClick={onClose} data-testid="case-back">
          {t('detail.back')}
        </button>
        <button type="button" onClick={() => window.print()} data-testid="case-print">
          {t('detail.print')}
        </button>
      </div>
      <CaseReport record={record} names={names} validation={validation} />
      <form
        className="records-card records-form no-print"
        onSubmit={(e) => {
          e.preventDefault();
          void save();
        }}
      >
        <h3>{t('detail.followUp')}</h3>
        <label className="field">
          <span>{t('fields.diagnosis')}</span>
          <select value={diagnosis} onChange={(e) => setDiagnosis(e.target.value as Diagnosis)} data-testid="case-diagnosis">
            <DiagnosisOptions />
          </select>
        </label>
        <label className="field">
          <span>{t('fields.diagnosisDetail')}</span>
          <input
            value={detail}
            maxLength={LIMITS.diagnosisDetail}
            onChange={(e) => setDetail(e.target.value)}
            placeholder={t('fields.diagnosisDetailHint')}
            data-testid="case-diagnosis-detail"
          />
        </label>
        <label className="field">
          <span>{t('fields.notes')}</span>
          <textarea value={notes} maxLength={LIMITS.notes} rows={4} onChange={(e) => setNotes(e.target.value)} data-testid="case-edit-notes" />
        </label>
        {message && (
          <p
            className={message.kind === 'error' ? 'error' : 'records-saved'}
            role={message.kind === 'error' ? 'alert' : 'status'}
            data-testid="case-edit-message"
          >
            {message.text}
          </p>
        )}
        {record !== base && record.updatedAt !== base.updatedAt && (
          <button
            type="button"
            className="secondary"
            onClick={() => {
              load(record);
              setMessage(null);
            }}
            data-testid="case-load-latest"
          >
            {t('detail.loadLatest')}
          </button>
        )}
        <div className="records-actions">
          <button type="submit" data-testid="case-edit-save">
            {t('detail.save')}
          </button>
          {confirmDelete ? (
            <>
              <button type="button" className="danger" onClick={() => void remove()} data-testid="case-delete-confirm">
                {t('detail.deleteConfirm')}
              </button>
              <button type="button" className="secondary" onClick={() => setConfirmDelete(false)}>
                {t('cancel')}
              </button>
            </>
          ) : (
            <button type="button" className="danger secondary" onClick={() => setConfirmDelete(true)} data-testid="case-delete">
              {t('detail.delete')}
            </button>
          )}
        </div>
      </form>
    </section>
  );
}
