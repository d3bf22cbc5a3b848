// Import a backup: read one case at a time into a staging area (progress shown), then a preview of what it would do
// (new cases, refused entries, and per conflicting case what differs), and nothing reaches the records until confirmed.
import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ArchiveError } from '../../records/archive';
import { readArchiveHeader } from '../../records/archive-stream';
import { type StagedArchive, stageArchive } from '../../records/backup';
import { type Conflict, type DuplicateChoice } from '../../records/conflicts';
import type { ImportSession } from '../../records/store';
import { recordsErrorMessage } from './errors';
import { formatDateTime } from './format';
import { PassphraseField } from './PassphraseField';
import { useVault } from './vault-context';

type Step =
  | { kind: 'idle' }
  | { kind: 'passphrase'; file: File; problem: string }
  | { kind: 'reading'; name: string; read: number; total: number }
  | { kind: 'preview'; name: string; session: ImportSession; staged: StagedArchive }
  | { kind: 'done'; text: string }
  | { kind: 'error'; text: string };

export function CaseImportPanel() {
  const { t } = useTranslation('records');
  const { vault } = useVault();
  const [step, setStep] = useState<Step>({ kind: 'idle' });
  const [choice, setChoice] = useState<DuplicateChoice>('skip');
  const [replace, setReplace] = useState<Set<string>>(new Set());
  const [pass, setPass] = useState('');
  const [busy, setBusy] = useState(false);
  const session = useRef<ImportSession | null>(null);
  const message = (e: unknown) => {
    const m = recordsErrorMessage(e);
    return t(m.key, m.values);
  };
  const drop = () => {
    void session.current?.discard().catch(() => undefined);
    session.current = null;
  };
  // Leaving the screen mid-import drops what was staged.
  useEffect(() => drop, []);

  const read = async (file: File, passphrase?: string) => {
    drop();
    setStep({ kind: 'reading', name: file.name, read: 0, total: file.size });
    try {
      const s = await vault.store.beginImport(vault.key(), file.name);
      session.current = s;
      const staged = await stageArchive(file, s, { passphrase, onBytes: (r, total) => setStep({ kind: 'reading', name: file.name, read: r, total }) });
      setReplace(s.defaultReplacements(choice));
      setStep({ kind: 'preview', name: file.name, session: s, staged });
    } catch (e) {
      drop();
      if (e instanceof ArchiveError && e.problem.kind === 'wrong-passphrase') return setStep({ kind: 'passphrase', file, problem: message(e) });
      setStep({ kind: 'error', text: message(e) });
    }
  };

  const onFile = async (file: File) => {
    try {
      const header = await readArchiveHeader(file);
      if (header.encrypted) {
        setPass('');
        return setStep({ kind: 'passphrase', file, problem: '' });
      }
      await read(file);
    } catch (e) {
      setStep({ kind: 'error', text: message(e) });
    }
  };

  const commit = async (s: ImportSession) => {
    setBusy(true);
    try {
      const o = await s.commit(replace);
      session.current = null;
      vault.changed();
      setStep({ kind: 'done', text: t('import.done', { added: o.added.length, replaced: o.replaced.length, skipped: o.skipped.length }) });
    } catch (e) {
      drop();
      setStep({ kind: 'error', text: message(e) });
    } finally {
      setBusy(false);
    }
  };

  const pick = (c: DuplicateChoice, s: ImportSession) => {
    setChoice(c);
    setReplace(s.defaultReplacements(c));
  };

  return (
    <div className="import-panel" data-testid="import-panel">
      <label className="file-button">
        {t('import.choose')}
        <input
          type="file"
          accept=".jsonl,.json,application/json,application/x-ndjson"
          className="visually-hidden"
          data-testid="import-file"
          onChange={(e) => {
            const f = e.target.files?.[0];
            e.target.value = '';
            if (f) void onFile(f);
          }}
        />
      </label>
      {step.kind === 'error' && (
        <p className="error" role="alert" data-testid="import-error">
          {step.text}
        </p>
      )}
      {step.kind === 'done' && (
        <p className="records-saved" role="status" data-testid="import-done">
          {step.text}
        </p>
      )}
      {step.kind === 'passphrase' && (
        <form
          className="records-card"
          data-testid="import-passphrase-form"
          onSubmit={(e) => {
            e.preventDefault();
            void read(step.file, pass);
          }}
        >
          <p>{t('import.encrypted', { name: step.file.name })}</p>
          <PassphraseField label={t('export.passphrase')} kind="current" value={pass} onChange={setPass} testId="import-passphrase" autoFocus />
          {step.problem && (
            <p className="error" role="alert">
              {step.problem}
            </p>
          )}
          <div className="records-actions">
            <button type="submit" data-testid="import-passphrase-submit">
              {t('import.open')}
            </button>
            <button type="button" className="secondary" onClick={() => setStep({ kind: 'idle' })}>
              {t('cancel')}
            </button>
          </div>
        </form>
      )}
      {step.kind === 'reading' && (
        <p role="status" data-testid="import-progress">
          <progress max={step.total} value={step.read} />{' '}
          {t('import.reading', { name: step.name, percent: step.total ? Math.floor((100 * step.read) / step.total) : 100 })}
        </p>
      )}
      {step.kind === 'preview' && (
        <div className="records-card" data-testid="import-preview">
          <p>{t('import.summary', { name: step.name, count: step.staged.staged })}</p>
          <p
            className="hint"
            data-testid="import-counts"
            data-new={step.session.newCount}
            data-identical={step.session.identical.length}
            data-conflicts={step.session.conflicts.length}
          >
            {t('import.counts', { fresh: step.session.newCount, identical: step.session.identical.length, conflicts: step.session.conflicts.length })}
          </p>
          {step.staged.rejectedCount > 0 && (
            <details open>
              <summary data-testid="import-rejected">{t('import.rejected', { count: step.staged.rejectedCount })}</summary>
              <ul>
                {step.staged.rejected.slice(0, 20).map((r) => (
                  <li key={r.index}>
                    {t('import.entry', { n: r.index + 1, id: r.id || '—' })}: {r.problems.join('; ')}
                  </li>
                ))}
              </ul>
            </details>
          )}
          {step.session.conflicts.length > 0 && (
            <fieldset data-testid="import-duplicates">
              <legend>{t('import.duplicates', { count: step.session.conflicts.length })}</legend>
              <label>
                <input type="radio" name="dup" checked={choice === 'skip'} onChange={() => pick('skip', step.session)} data-testid="import-dup-skip" />{' '}
                {t('import.skip')}
              </label>
              <label>
                <input type="radio" name="dup" checked={choice === 'newer'} onChange={() => pick('newer', step.session)} data-testid="import-dup-newer" />{' '}
                {t('import.newer')}
              </label>
              <p className="hint">{t('import.keptNote')}</p>
              <ul className="import-conflicts">
                {step.session.conflicts.map((c) => (
                  <ConflictRow
                    key={c.id}
                    conflict={c}
                    checked={replace.has(c.id)}
                    onChange={(on) => {
                      const next = new Set(replace);
                      if (on) next.add(c.id);
                      else next.delete(c.id);
                      setReplace(next);
                    }}
                  />
                ))}
              </ul>
            </fieldset>
          )}
          <div className="records-actions">
            <button type="button" disabled={busy || step.staged.staged === 0} onClick={() => void commit(step.session)} data-testid="import-confirm">
              {t('import.confirm', { count: step.session.newCount + replace.size })}
            </button>
            <button
              type="button"
              className="secondary"
              onClick={() => {
                drop();
                setStep({ kind: 'idle' });
              }}
              data-testid="import-cancel"
            >
              {t('cancel')}
            </button>
          </div>
        </div>
      )}
    </div>
  );
}

function ConflictRow({ conflict: c, checked, onChange }: { conflict: Conflict; checked: boolean; onChange: (on: boolean) => void }) {
  const { t, i18n } = useTranslation('records');
  const lng = i18n.language;
  const shown = (field: string, v: string) => (!v ? '—' : field === 'diagnosis' ? t(`diagnosis.${v}`) : v);
  return (
    <li data-testid="import-conflict" data-case-id={c.id} data-newer={c.newer}>
      <label>
        <input type="checkbox" checked={checked} onChange={(e) => onChange(e.target.checked)} data-testid="import-replace" />{' '}
        {t('import.useFile', { id: c.id })}
      </label>
      <div className="hint">
        {t('import.times', { here: formatDateTime(c.localUpdatedAt, lng), file: formatDateTime(c.fileUpdatedAt, lng) })} {t(`import.newerIs.${c.newer}`)}
      </div>
      {c.suspicious.map((s) => (
        <div key={s} className="error" data-testid="import-future">
          {t(`import.suspicious.${s}`)}
        </div>
      ))}
      {c.differences === null ? (
        <div className="hint">{t('import.localUnreadable')}</div>
      ) : (
        <table className="import-diff">
          <thead>
            <tr>
              <th scope="col">{t('import.field')}</th>
              <th scope="col">{t('import.here')}</th>
              <th scope="col">{t('import.inFile')}</th>
            </tr>
          </thead>
          <tbody>
            {c.differences.map((d) => (
              <tr key={d.field} data-testid="import-diff" data-field={d.field}>
                <th scope="row">{t(`import.fields.${d.field}`)}</th>
                <td>{shown(d.field, d.local)}</td>
                <td>{shown(d.field, d.incoming)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </li>
  );
}
