// "Ready offline", or what is still missing, in the header; asks for persistent storage once the model is stored.
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useEngine } from '../engine';
import { listStoredModels } from '../../model/store';
import { offlineReadiness, runtimesCached, type OfflineReadiness } from '../../sw/readiness';
import { useAppUpdate } from '../../sw/register';
import { requestPersistentStorage } from '../../storage/storage';
import './offline.css';

export function OfflineStatus() {
  const { t } = useTranslation('offline');
  const { model } = useEngine();
  const { controlled } = useAppUpdate();
  const [readiness, setReadiness] = useState<OfflineReadiness | null>(null);
  const active = model.status === 'ready' ? model.ready.manifest : null;

  useEffect(() => {
    let cancelled = false;
    void (async () => {
      const [runtimes, stored] = await Promise.all([runtimesCached(), listStoredModels().catch(() => [])]);
      const modelStored = !!active && stored.some((m) => m.id === active.id && m.version === active.version);
      if (modelStored) void requestPersistentStorage();
      if (!cancelled) setReadiness(offlineReadiness({ app: controlled, runtimes, model: modelStored }));
    })();
    return () => {
      cancelled = true;
    };
  }, [controlled, active]);

  if (!readiness) return null;
  return (
    <p
      className={`offline-status ${readiness.ready ? 'offline-ready' : 'offline-missing'}`}
      role="status"
      data-testid="offline-status"
      data-ready={readiness.ready}
      data-missing={readiness.missing.join(' ')}
    >
      {readiness.ready ? t('ready') : t('missing', { parts: readiness.missing.map((p) => t(`parts.${p}`)).join(t('listSeparator')) })}
    </p>
  );
}
