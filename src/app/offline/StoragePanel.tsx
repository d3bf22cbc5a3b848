// About & privacy: what Facies keeps on this device, where, and how much space it takes.
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { listStoredModels, type StoredModelInfo } from '../../model/store';
import { formatBytes, storageReport, type StorageReport } from '../../storage/storage';
import { appVersion } from '../../sw/register';

export function StoragePanel() {
  const { t, i18n } = useTranslation('about');
  const [report, setReport] = useState<StorageReport | null>(null);
  const [models, setModels] = useState<StoredModelInfo[] | null>(null);
  useEffect(() => {
    void storageReport().then(setReport);
    void listStoredModels()
      .catch(() => [])
      .then(setModels);
  }, []);
  const lng = i18n.language;
  const date = new Intl.DateTimeFormat(lng, { dateStyle: 'medium', timeStyle: 'short' });
  return (
    <>
      <h3>{t('storage.title')}</h3>
      <ul>
        <li>{t('storage.where.models')}</li>
        <li>{t('storage.where.records')}</li>
        <li>{t('storage.where.app')}</li>
        <li>{t('storage.where.settings')}</li>
        <li>{t('storage.where.photos')}</li>
      </ul>
      {report && (
        <p data-testid="storage-used" data-used={report.usedBytes ?? ''} data-quota={report.quotaBytes ?? ''} data-persisted={String(report.persisted)}>
          {report.usedBytes !== null && report.quotaBytes !== null
            ? t('storage.used', { used: formatBytes(report.usedBytes, lng), available: formatBytes(Math.max(0, report.quotaBytes - report.usedBytes), lng) })
            : t('storage.unknown')}{' '}
          {report.persisted === true ? t('storage.persisted') : report.persisted === false ? t('storage.notPersisted') : ''}
        </p>
      )}
      {models && (
        <table className="storage-table" data-testid="stored-models" data-count={models.length}>
          <caption>{t('storage.modelsCaption')}</caption>
          <thead>
            <tr>
              <th>{t('storage.model')}</th>
              <th>{t('storage.size')}</th>
              <th>{t('storage.storedAt')}</th>
            </tr>
          </thead>
          <tbody>
            {models.length === 0 && (
              <tr>
                <td colSpan={3}>{t('storage.noModels')}</td>
              </tr>
            )}
            {models.map((m) => (
              <tr key={`${m.id}@${m.version}`} data-model={`${m.id}@${m.version}`}>
                <td>
                  {m.name} {m.version}
                  {m.demonstration ? ` — ${t('storage.demonstration')}` : ''}
                </td>
                <td>{formatBytes(m.bytes, lng)}</td>
                <td>{date.format(m.storedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <p data-testid="app-version">{t('storage.version', { version: appVersion() })}</p>
    </>
  );
}
