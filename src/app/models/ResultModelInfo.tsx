// Next to a result: which model produced it, its validation status, and its validated per-class sensitivity and
// precision — or, for a demonstration model, that it has none.
import { useTranslation } from 'react-i18next';
import { formatPercent } from '../../i18n';
import { localized, type ModelManifest } from '../../model/manifest';
import { formatFingerprint } from '../../model/package/signature';
import { claimsVerified, type Provenance } from '../../model/provenance';
import './models.css';

/** "Signed by … (key ab12 …)", "Unsigned package", "Bundled with this app": in the user's language. */
export function ProvenanceLine({ provenance, testId = 'result-provenance' }: { provenance: Provenance | undefined; testId?: string }) {
  const { t } = useTranslation('models');
  const kind = provenance?.kind ?? 'unknown';
  return (
    <p className={`provenance provenance-${kind}`} data-testid={testId} data-kind={kind}>
      {provenance?.kind === 'trusted'
        ? t('provenance.trusted', { publisher: provenance.publisher, fingerprint: formatFingerprint(provenance.fingerprint).slice(0, 19) })
        : t(`provenance.${kind}`)}
    </p>
  );
}

export function ResultModelInfo({ manifest, provenance }: { manifest: ModelManifest; provenance: Provenance }) {
  const { t, i18n } = useTranslation('models');
  const v = manifest.validation;
  // A package nobody this device trusts has vouched for: its figures are shown as its own claims, not as facts.
  const unverified = !manifest.demonstration && !claimsVerified(provenance);
  const status = manifest.demonstration ? t('status.demo') : t(`status.${manifest.clinicalValidation.status}`);
  return (
    <section
      className={`result-model${unverified ? ' unverified' : ''}`}
      data-testid="result-model"
      data-model-id={manifest.id}
      data-version={manifest.version}
      data-verified={!unverified}
      aria-label={t('result.title')}
    >
      <p>
        <strong>{t('result.title')}:</strong>{' '}
        <span data-testid="result-model-name">
          {localized(manifest.displayName, i18n.language)} {manifest.version}
        </span>{' '}
        — <span data-testid="result-model-status">{unverified ? t('provenance.claimed', { claim: status }) : status}</span>
      </p>
      <ProvenanceLine provenance={provenance} />
      {manifest.demonstration ? (
        <p data-testid="result-model-no-figures">{t('result.noFigures')}</p>
      ) : !v ? (
        <p>{t('result.noReport')}</p>
      ) : (
        <table data-testid="result-model-metrics">
          <caption>{unverified ? t('provenance.claimedFigures', { protocol: v.protocol }) : t('result.validated', { protocol: v.protocol })}</caption>
          <thead>
            <tr>
              <th scope="col" />
              <th scope="col">{t('result.sensitivity')}</th>
              <th scope="col">{t('result.precision')}</th>
            </tr>
          </thead>
          <tbody>
            {manifest.classes.map((c) => (
              <tr
                key={c.id}
                data-testid={`result-metric-${c.id}`}
                data-recall={v.perClass[c.id]!.recall.mean}
                data-precision={v.perClass[c.id]!.precision?.mean}
              >
                <th scope="row">{localized(c.displayName, i18n.language)}</th>
                <td>{formatPercent(v.perClass[c.id]!.recall.mean)}</td>
                <td>{v.perClass[c.id]!.precision ? formatPercent(v.perClass[c.id]!.precision!.mean) : '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
