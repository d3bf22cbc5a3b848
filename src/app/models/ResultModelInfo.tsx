// Next to a result: which model produced it, its validation status, and its validated per-class sensitivity and
// precision — or, for a demonstration model, that it has none.
import { useTranslation } from 'react-i18next';
import { formatPercent } from '../../i18n';
import { localized, type ModelManifest } from '../../model/manifest';
import './models.css';

export function ResultModelInfo({ manifest }: { manifest: ModelManifest }) {
  const { t, i18n } = useTranslation('models');
  const v = manifest.validation;
  const status = manifest.demonstration ? t('status.demo') : t(`status.${manifest.clinicalValidation.status}`);
  return (
    <section className="result-model" data-testid="result-model" data-model-id={manifest.id} data-version={manifest.version} aria-label={t('result.title')}>
      <p>
        <strong>{t('result.title')}:</strong> <span data-testid="result-model-name">{localized(manifest.displayName, i18n.language)} {manifest.version}</span> —{' '}
        <span data-testid="result-model-status">{status}</span>
      </p>
      {manifest.demonstration ? (
        <p data-testid="result-model-no-figures">{t('result.noFigures')}</p>
      ) : !v ? (
        <p>{t('result.noReport')}</p>
      ) : (
        <table data-testid="result-model-metrics">
          <caption>{t('result.validated', { protocol: v.protocol })}</caption>
          <thead>
            <tr>
              <th scope="col" />
              <th scope="col">{t('result.sensitivity')}</th>
              <th scope="col">{t('result.precision')}</th>
            </tr>
          </thead>
          <tbody>
            {manifest.classes.map((c) => (
              <tr key={c.id} data-testid={`result-metric-${c.id}`} data-recall={v.perClass[c.id]!.recall.mean} data-precision={v.perClass[c.id]!.precision.mean}>
                <th scope="row">{localized(c.displayName, i18n.language)}</th>
                <td>{formatPercent(v.perClass[c.id]!.recall.mean)}</td>
                <td>{formatPercent(v.perClass[c.id]!.precision.mean)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
