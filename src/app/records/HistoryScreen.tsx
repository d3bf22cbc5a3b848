// Records: this device's screenings, searchable and filterable; case detail and report; export, import, delete.
import { useEffect, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { formatPercent } from '../../i18n';
import { topClassIndex } from '../../pipeline/uncertainty';
import { type Diagnosis, topClass } from '../../records/case-record';
import { DiagnosisOptions } from './DiagnosisOptions';
import { type CaseFilter, NO_FILTER, filterCases, modelKey } from '../../records/summary';
import { CaseDetail } from './CaseDetail';
import { CaseImportPanel } from './CaseImportPanel';
import { LockButton, RecordsGate } from './RecordsGate';
import { recordsErrorMessage } from './errors';
import { ErrorLine } from './ErrorLine';
import { className, formatDateTime } from './format';
import { type ExportKind, ExportPanel } from './ExportPanel';
import { ReplacedCopies, useReplaced } from './ReplacedCopies';
import { useCases, useModelInfo } from './use-cases';
import { useVault } from './vault-context';
import './records.css';

function useCaseParam(): [string | null, (id: string | null) => void] {
  const read = () => new URLSearchParams(location.hash.split('?')[1] ?? '').get('case');
  const [id, setId] = useState(read);
  useEffect(() => {
    const on = () => setId(read());
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return [id, (next) => (location.hash = next ? `#/history?case=${encodeURIComponent(next)}` : '#/history')];
}

function History() {
  const { t, i18n } = useTranslation('records');
  const lng = i18n.language;
  const { vault } = useVault();
  const { cases, unreadable, error, loading } = useCases();
  const { names, validationFor } = useModelInfo();
  const [filter, setFilter] = useState<CaseFilter>(NO_FILTER);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [caseId, setCaseId] = useCaseParam();
  const [confirmAll, setConfirmAll] = useState(false);
  const [exporting, setExporting] = useState<ExportKind | null>(null);
  const replaced = useReplaced();
  const replacedCount = replaced.length;
  const [message, setMessage] = useState('');
  const shown = useMemo(() => filterCases(cases, filter), [cases, filter]);
  const models = useMemo(() => [...new Set(cases.map(modelKey))], [cases]);
  const classIds = useMemo(() => [...new Set(cases.flatMap((c) => c.result.classes))], [cases]);
  const set = (patch: Partial<CaseFilter>) => setFilter((f) => ({ ...f, ...patch }));

  const open = caseId ? cases.find((c) => c.id === caseId) : undefined;
  if (open)
    return (
      <CaseDetail record={open} names={names} validation={validationFor(open.result.model.id, open.result.model.sha256)} onClose={() => setCaseId(null)} />
    );

  const toExport = () => (selected.size ? cases.filter((c) => selected.has(c.id)) : shown);
  const deleteAll = async () => {
    try {
      await vault.store.deleteAll();
      vault.changed();
      setSelected(new Set());
      setConfirmAll(false);
    } catch (e) {
      const m = recordsErrorMessage(e);
      setMessage(t(m.key, m.values));
    }
  };

  return (
    <>
      <div className="records-toolbar">
        <label className="field">
          <span>{t('history.search')}</span>
          <input type="search" value={filter.search} onChange={(e) => set({ search: e.target.value })} data-testid="history-search" />
        </label>
        <label className="field">
          <span>{t('history.from')}</span>
          <input type="date" value={filter.from} onChange={(e) => set({ from: e.target.value })} data-testid="history-from" />
        </label>
        <label className="field">
          <span>{t('history.to')}</span>
          <input type="date" value={filter.to} onChange={(e) => set({ to: e.target.value })} data-testid="history-to" />
        </label>
        <label className="field">
          <span>{t('history.topClass')}</span>
          <select value={filter.topClass} onChange={(e) => set({ topClass: e.target.value })} data-testid="history-top-class">
            <option value="">{t('history.any')}</option>
            {classIds.map((id) => (
              <option key={id} value={id}>
                {className(id, names, lng)}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span>{t('history.model')}</span>
          <select value={filter.model} onChange={(e) => set({ model: e.target.value })} data-testid="history-model">
            <option value="">{t('history.any')}</option>
            {models.map((m) => (
              <option key={m} value={m}>
                {m}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span>{t('fields.diagnosis')}</span>
          <select value={filter.diagnosis} onChange={(e) => set({ diagnosis: e.target.value as Diagnosis | '' })} data-testid="history-diagnosis">
            <option value="">{t('history.any')}</option>
            <DiagnosisOptions />
          </select>
        </label>
      </div>
      <ErrorLine error={error} />
      {unreadable.length > 0 && (
        <p className="error" role="alert" data-testid="history-unreadable">
          {t('history.unreadable', { count: unreadable.length })}
        </p>
      )}
      <p className="hint" data-testid="history-count" data-count={shown.length}>
        {loading ? t('opening') : t('history.count', { count: shown.length, total: cases.length })}
      </p>
      {shown.length > 0 && (
        <table className="history-table" data-testid="history-list">
          <thead>
            <tr>
              <th scope="col">
                <input
                  type="checkbox"
                  aria-label={t('history.selectAll')}
                  checked={shown.every((c) => selected.has(c.id))}
                  onChange={(e) => setSelected(e.target.checked ? new Set(shown.map((c) => c.id)) : new Set())}
                />
              </th>
              <th scope="col">{t('fields.screenedAt')}</th>
              <th scope="col">{t('fields.patientRef')}</th>
              <th scope="col">{t('history.topClass')}</th>
              <th scope="col">{t('history.model')}</th>
              <th scope="col">{t('fields.diagnosis')}</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((c) => {
              const top = topClassIndex(c.result.probabilities);
              return (
                <tr key={c.id} data-testid="history-row" data-case-id={c.id}>
                  <td>
                    <input
                      type="checkbox"
                      aria-label={t('history.select')}
                      checked={selected.has(c.id)}
                      onChange={(e) => {
                        const next = new Set(selected);
                        if (e.target.checked) next.add(c.id);
                        else next.delete(c.id);
                        setSelected(next);
                      }}
                    />
                  </td>
                  <td>
                    <a href={`#/history?case=${encodeURIComponent(c.id)}`} data-testid="history-open">
                      {formatDateTime(c.createdAt, lng)}
                    </a>
                  </td>
                  <td data-testid="history-patient-ref">{c.patientRef || '—'}</td>
                  <td data-top-class={topClass(c)}>
                    {className(topClass(c), names, lng)} {formatPercent(c.result.probabilities[top]!, lng)}
                  </td>
                  <td>{modelKey(c)}</td>
                  <td>{t(`diagnosis.${c.followUp.diagnosis}`)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      <div className="records-actions">
        <button type="button" disabled={!cases.length} onClick={() => setExporting('archive')} data-testid="export-json">
          {selected.size ? t('history.exportJsonSelected', { count: selected.size }) : t('history.exportJson')}
        </button>
        <button type="button" disabled={!cases.length} onClick={() => setExporting('csv')} data-testid="export-csv">
          {selected.size ? t('history.exportCsvSelected', { count: selected.size }) : t('history.exportCsv')}
        </button>
        <CaseImportPanel />
        {confirmAll ? (
          <>
            <button
              type="button"
              className="danger"
              onClick={() => void deleteAll()}
              data-testid="delete-all-confirm"
              data-count={cases.length + unreadable.length}
            >
              {t('history.deleteAllConfirm', { count: cases.length + unreadable.length })}
            </button>
            <button type="button" className="secondary" onClick={() => setConfirmAll(false)}>
              {t('cancel')}
            </button>
          </>
        ) : (
          <button
            type="button"
            className="danger secondary"
            disabled={!cases.length && !unreadable.length && !replacedCount}
            onClick={() => setConfirmAll(true)}
            data-testid="delete-all"
          >
            {t('history.deleteAll')}
          </button>
        )}
        <LockButton />
      </div>
      {confirmAll && (unreadable.length > 0 || replacedCount > 0) && (
        <p className="error" data-testid="delete-all-scope">
          {unreadable.length > 0 && t('history.deleteAllUnreadable', { count: unreadable.length, ids: unreadable.join(', ') })}
          {unreadable.length > 0 && replacedCount > 0 && ' '}
          {replacedCount > 0 && t('history.deleteAllReplaced', { count: replacedCount })}
        </p>
      )}
      {exporting && <ExportPanel kind={exporting} cases={toExport()} unreadable={selected.size ? [] : unreadable} onClose={() => setExporting(null)} />}
      <ReplacedCopies list={replaced} />
      {message && (
        <p className="error" role="alert">
          {message}
        </p>
      )}
    </>
  );
}

export default function HistoryScreen() {
  const { t } = useTranslation('records');
  return (
    <section className="records" aria-labelledby="history-title" data-testid="history">
      <h2 id="history-title">{t('history.title')}</h2>
      <RecordsGate>
        <History />
      </RecordsGate>
    </section>
  );
}
