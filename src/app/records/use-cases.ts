// Loads this device's cases (decrypted in memory while unlocked) and reloads when they change here or in another tab.
import { useEffect, useMemo, useState } from 'react';
import type { CaseRecord } from '../../records/case-record';
import { useEngine } from '../engine';
import { useVault } from './vault-context';

export function useCases(): { cases: CaseRecord[]; unreadable: string[]; error: unknown; loading: boolean } {
  const { vault, state, revision } = useVault();
  const [out, setOut] = useState<{ cases: CaseRecord[]; unreadable: string[]; error: unknown; loading: boolean }>({
    cases: [],
    unreadable: [],
    error: null,
    loading: true,
  });
  useEffect(() => {
    if (state.status !== 'plain' && state.status !== 'unlocked') return setOut({ cases: [], unreadable: [], error: null, loading: false });
    let live = true;
    vault.store.all(state.status === 'unlocked' ? state.key : null).then(
      (r) => live && setOut({ ...r, error: null, loading: false }),
      (error) => live && setOut({ cases: [], unreadable: [], error, loading: false }),
    );
    return () => {
      live = false;
    };
  }, [vault, state, revision]);
  return out;
}

/** Display names of the running model's classes, by id and language; plus its validation summary. */
export function useModelInfo(): {
  names: Record<string, Record<string, string>>;
  classes: string[];
  validationFor: (id: string, sha256: string) => string | null;
} {
  const { model } = useEngine();
  return useMemo(() => {
    const m = model.status === 'ready' ? model.ready.manifest : null;
    const names = Object.fromEntries((m?.classes ?? []).map((c) => [c.id, c.displayName as Record<string, string>]));
    return {
      names,
      classes: m ? m.classes.map((c) => c.id) : ['wbs', 'ns', 'algs', 'non_gs'],
      validationFor: (id, sha256) => (m && m.id === id && m.file.sha256 === sha256 ? m.clinicalValidation.summary : null),
    };
  }, [model]);
}
