// Export: an encrypted backup (recommended), or a file in clear after the clinician confirms what it holds.
// The archive is written one case at a time into a Blob, with progress; cases that cannot be read are named.
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { exportCsv } from '../../records/archive';
import { exportArchive } from '../../records/backup';
import type { CaseRecord } from '../../records/case-record';
import { newPassphraseProblem } from '../../records/crypto';
import { appVersion } from '../../sw/register';
import { downloadBlob, exportName } from './format';
import { ErrorLine } from './ErrorLine';
import { PassphraseField } from './PassphraseField';
import { useVault } from './vault-context';

export type ExportKind = 'archive' | 'csv';

type Status =
  | { kind: 'idle' }
  | { kind: 'working'; done: number; total: number }
  | { kind: 'done'; exported: number; unreadable: string[] }
  | { kind: 'error'; error: unknown };

export function ExportPanel({ kind, cases, unreadable, onClose }: { kind: ExportKind; cases: CaseRecord[]; unreadable: string[]; onClose: () => void }) {
  const { t } = useTranslation('records');
  const { vault } = useVault();
  const [pass, setPass] = useState('');
  const [confirm, setConfirm] = useState('');
  const [problem, setProblem] = useState('');
  const [plainOk, setPlainOk] = useState(false);
  const [status, setStatus] = useState<Status>({ kind: 'idle' });
  const busy = status.kind === 'working';

  const run = async (passphrase?: string) => {
    setStatus({ kind: 'working', done: 0, total: cases.length });
    try {
      if (kind === 'csv') {
        downloadBlob(new Blob([exportCsv(cases)], { type: 'text/csv;charset=utf-8' }), exportName('csv'));
        return setStatus({ kind: 'done', exported: cases.length, unreadable: [] });
      }
      const out = await exportArchive(
        vault.store,
        cases.map((c) => c.id),
        vault.key(),
        {
          appVersion: appVersion(),
          passphrase,
          onCase: (done, total) => setStatus({ kind: 'working', done, total }),
        },
      );
      downloadBlob(out.blob, exportName(passphrase === undefined ? 'jsonl' : 'encrypted.jsonl'));
      setStatus({ kind: 'done', exported: out.exported, unreadable: out.unreadable });
    } catch (error) {
      setStatus({ kind: 'error', error });
    }
  };

  const encrypted = () => {
    const invalid = newPassphraseProblem(pass, confirm);
    if (invalid) return setProblem(t(invalid.key, invalid.values));
    setProblem('');
    void run(pass);
  };

  return (
    <div className="records-card" data-testid="export-panel" data-kind={kind}>
      <h3>{t(kind === 'csv' ? 'export.titleCsv' : 'export.title', { count: cases.length })}</h3>
      {unreadable.length > 0 && (
        <p className="hint" data-testid="export-unreadable">
          {t('export.unreadable', { count: unreadable.length, ids: unreadable.join(', ') })}
        </p>
      )}
      {kind === 'archive' && (
        <fieldset className="export-encrypted">
          <legend>{t('export.encryptedTitle')}</legend>
          <p className="hint">{t('export.encryptedBody')}</p>
          <PassphraseField label={t('export.passphrase')} kind="new" value={pass} onChange={setPass} testId="export-passphrase" />
          <PassphraseField label={t('setup.confirm')} kind="new" value={confirm} onChange={setConfirm} testId="export-passphrase-confirm" />
          {problem && (
            <p className="error" role="alert">
              {problem}
            </p>
          )}
          <button type="button" disabled={busy} onClick={encrypted} data-testid="export-encrypted">
            {t('export.encrypted')}
          </button>
        </fieldset>
      )}
      <fieldset className="export-plain">
        <legend>{t('export.plainTitle')}</legend>
        <label>
          <input type="checkbox" checked={plainOk} onChange={(e) => setPlainOk(e.target.checked)} data-testid="export-plain-ack" /> {t('export.plainAck')}
        </label>
        <button type="button" className="secondary" disabled={busy || !plainOk} onClick={() => void run()} data-testid="export-plain">
          {t(kind === 'csv' ? 'export.plainCsv' : 'export.plain')}
        </button>
      </fieldset>
      {status.kind === 'working' && (
        <p role="status" data-testid="export-progress">
          <progress max={status.total} value={status.done} /> {t('export.progress', { done: status.done, count: status.total })}
        </p>
      )}
      {status.kind === 'done' && (
        <p className="records-saved" role="status" data-testid="export-done">
          {t('export.done', { count: status.exported })}
          {status.unreadable.length > 0 && ` ${t('export.unreadable', { count: status.unreadable.length, ids: status.unreadable.join(', ') })}`}
        </p>
      )}
      {status.kind === 'error' && <ErrorLine error={status.error} />}
      <div className="records-actions">
        <button type="button" className="secondary" disabled={busy} onClick={onClose} data-testid="export-close">
          {t('export.close')}
        </button>
      </div>
    </div>
  );
}
