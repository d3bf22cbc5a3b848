// Import a JSON archive: checked in full, duplicates and refused entries reported, nothing written until confirmed.
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { MAX_ARCHIVE_BYTES, type ParsedArchive, parseArchive, ArchiveError } from '../../records/archive';
import type { DuplicateChoice } from '../../records/store';
import { recordsErrorMessage } from './errors';
import { useVault } from './vault-context';

type Step = { kind: 'idle' } | { kind: 'preview'; name: string; parsed: ParsedArchive; duplicates: string[] } | { kind: 'done'; text: string } | { kind: 'error'; text: string };

export function ImportPanel() {
  const { t } = useTranslation('records');
  const { vault } = useVault();
  const [step, setStep] = useState<Step>({ kind: 'idle' });
  const [choice, setChoice] = useState<DuplicateChoice>('skip');
  const [busy, setBusy] = useState(false);
  const fail = (e: unknown) => {
    const m = recordsErrorMessage(e);
    setStep({ kind: 'error', text: t(m.key, m.values) });
  };

  const onFile = async (file: File) => {
    try {
      if (file.size > MAX_ARCHIVE_BYTES) throw new ArchiveError({ kind: 'too-large' });
      const parsed = parseArchive(await file.text());
      const existing = await vault.store.existing(parsed.cases.map((c) => c.id));
      setStep({ kind: 'preview', name: file.name, parsed, duplicates: [...existing.keys()] });
    } catch (e) {
      fail(e);
    }
  };

  const commit = async (parsed: ParsedArchive) => {
    setBusy(true);
    try {
      const o = await vault.store.import(parsed.cases, choice, vault.key());
      vault.changed();
      setStep({ kind: 'done', text: t('import.done', { added: o.added.length, replaced: o.replaced.length, skipped: o.skipped.length }) });
    } catch (e) {
      fail(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="import-panel" data-testid="import-panel">
      <label className="file-button">
        {t('import.choose')}
        <input
          type="file"
          accept=".json,application/json"
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
      {step.kind === 'preview' && (
        <div className="records-card" data-testid="import-preview">
          <p>{t('import.summary', { name: step.name, count: step.parsed.cases.length })}</p>
          {step.parsed.rejected.length > 0 && (
            <details open>
              <summary data-testid="import-rejected">{t('import.rejected', { count: step.parsed.rejected.length })}</summary>
              <ul>
                {step.parsed.rejected.slice(0, 20).map((r) => (
                  <li key={r.index}>
                    {t('import.entry', { n: r.index + 1, id: r.id || '—' })}: {r.problems.join('; ')}
                  </li>
                ))}
              </ul>
            </details>
          )}
          {step.duplicates.length > 0 && (
            <fieldset className="field-row" data-testid="import-duplicates">
              <legend>{t('import.duplicates', { count: step.duplicates.length })}</legend>
              <label>
                <input type="radio" name="dup" checked={choice === 'skip'} onChange={() => setChoice('skip')} data-testid="import-dup-skip" /> {t('import.skip')}
              </label>
              <label>
                <input type="radio" name="dup" checked={choice === 'newer'} onChange={() => setChoice('newer')} data-testid="import-dup-newer" /> {t('import.newer')}
              </label>
            </fieldset>
          )}
          <div className="records-actions">
            <button type="button" disabled={busy || step.parsed.cases.length === 0} onClick={() => void commit(step.parsed)} data-testid="import-confirm">
              {t('import.confirm', { count: step.parsed.cases.length })}
            </button>
            <button type="button" className="secondary" onClick={() => setStep({ kind: 'idle' })}>
              {t('cancel')}
            </button>
          </div>
        </div>
      )}
    </div>
  );
}
