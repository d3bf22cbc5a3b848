// The copies of cases that an import replaced: kept until the clinician deletes them, and restorable.
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { ReplacedVersion } from '../../records/store';
import { ErrorLine } from './ErrorLine';
import { formatDateTime } from './format';
import { useVault } from './vault-context';

export function useReplaced(): ReplacedVersion[] {
  const { vault, state, revision } = useVault();
  const [list, setList] = useState<ReplacedVersion[]>([]);
  useEffect(() => {
    if (state.status !== 'plain' && state.status !== 'unlocked') return setList([]);
    let live = true;
    vault.store.replacedVersions(state.status === 'unlocked' ? state.key : null).then(
      (l) => live && setList(l),
      () => live && setList([]),
    );
    return () => {
      live = false;
    };
  }, [vault, state, revision]);
  return list;
}

export function ReplacedCopies({ list }: { list: ReplacedVersion[] }) {
  const { t, i18n } = useTranslation('records');
  const { vault } = useVault();
  const [error, setError] = useState<unknown>(null);
  if (!list.length) return null;
  const act = async (f: () => Promise<void>) => {
    try {
      await f();
      setError(null);
      vault.changed();
    } catch (e) {
      setError(e);
    }
  };
  return (
    <details className="records-card" data-testid="replaced-copies" data-count={list.length}>
      <summary>{t('replaced.title', { count: list.length })}</summary>
      <p className="hint">{t('replaced.body')}</p>
      <ul>
        {list.map((v) => (
          <li key={v.key} data-testid="replaced-row" data-case-id={v.id}>
            {t('replaced.entry', {
              ref: v.record?.patientRef || v.id,
              at: formatDateTime(v.replacedAt, i18n.language),
              source: v.source === 'restore' ? t('replaced.byRestore') : v.source,
            })}{' '}
            {v.record
              ? t('replaced.notes', { notes: v.record.notes || '—', diagnosis: t(`diagnosis.${v.record.followUp.diagnosis}`) })
              : t('replaced.unreadable')}{' '}
            <button type="button" className="secondary" onClick={() => void act(() => vault.store.restoreReplaced(v.key))} data-testid="replaced-restore">
              {t('replaced.restore')}
            </button>{' '}
            <button type="button" className="danger secondary" onClick={() => void act(() => vault.store.forgetReplaced(v.key))} data-testid="replaced-forget">
              {t('replaced.forget')}
            </button>
          </li>
        ))}
      </ul>
      <ErrorLine error={error} />
    </details>
  );
}
