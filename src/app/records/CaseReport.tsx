// The one-page report of a case, as printed or saved as PDF (records.css hides everything else when printing).
import { useTranslation } from 'react-i18next';
import { formatPercent } from '../../i18n';
import { topClassIndex } from '../../pipeline/uncertainty';
import type { CaseRecord } from '../../records/case-record';
import { CropImage } from './CropImage';
import { ProvenanceLine } from '../models/ResultModelInfo';
import { claimsVerified } from '../../model/provenance';
import { className, formatDateTime } from './format';

export function CaseReport({ record, names, validation }: { record: CaseRecord; names: Record<string, Record<string, string>>; validation: string | null }) {
  const { t, i18n } = useTranslation('records');
  const lng = i18n.language;
  const r = record.result;
  const top = topClassIndex(r.probabilities);
  return (
    <article className="case-report" data-testid="case-report" aria-labelledby="case-report-title">
      <header className="report-head">
        <h2 id="case-report-title">{t('report.title')}</h2>
        <p className="report-meta">
          {t('report.printed', { date: formatDateTime(new Date().toISOString(), lng) })} · {t('fields.caseId')} {record.id}
        </p>
      </header>
      <p className="report-notice" data-testid="report-notice">
        <strong>{t('notice.title', { ns: 'common' })}</strong> {t('notice.body', { ns: 'common' })}
      </p>
      {r.model.demonstration && (
        <p className="report-demo" data-testid="report-demo-notice">
          <strong>{t('notice.demoTitle', { ns: 'common' })}</strong> {t('notice.demoBody', { ns: 'common', name: r.model.name })}
        </p>
      )}
      <dl className="report-facts">
        <dt>{t('fields.patientRef')}</dt>
        <dd data-testid="report-patient-ref">{record.patientRef || t('report.none')}</dd>
        <dt>{t('fields.age')}</dt>
        <dd>{record.age ? t('report.age', { years: record.age.years, months: record.age.months }) : t('report.none')}</dd>
        <dt>{t('fields.sex')}</dt>
        <dd>{t(`sex.${record.sex}`)}</dd>
        <dt>{t('fields.screenedAt')}</dt>
        <dd>{formatDateTime(record.createdAt, lng)}</dd>
      </dl>
      <div className="report-body">
        {record.crop ? (
          <CropImage png={record.crop} alt={t('report.cropAlt')} className="report-crop" />
        ) : (
          <p className="report-nocrop">{t('report.noCrop')}</p>
        )}
        <table className="report-probs">
          <caption>{t('report.probabilities')}</caption>
          <tbody>
            {r.classes.map((id, i) => (
              <tr key={id} className={i === top ? 'top' : undefined} data-testid={`report-prob-${id}`} data-value={r.probabilities[i]}>
                <th scope="row">{className(id, names, lng)}</th>
                <td>{formatPercent(r.probabilities[i]!, lng)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {r.fusion && (
        <section className="report-photos" data-testid="report-photos" data-count={r.fusion.photos.length} data-rule={r.fusion.rule}>
          <h3>
            {t('report.photos', {
              included: r.fusion.photos.filter((ph) => ph.included).length,
              count: r.fusion.photos.length,
              rule: t(`childPhotos.rules.${r.fusion.rule}`, { ns: 'screening' }),
            })}
          </h3>
          <ol>
            {r.fusion.photos.map((ph, i) => {
              const crop = i === 0 ? record.crop : (record.extraPhotos?.[i - 1]?.crop ?? null);
              const best = ph.probabilities.length ? topClassIndex(ph.probabilities) : -1;
              return (
                <li key={i} data-testid="report-photo" data-included={ph.included}>
                  {crop && <CropImage png={crop} alt={t('report.cropAlt')} className="report-crop small" />}
                  <span>
                    {ph.name}: {best >= 0 ? `${className(r.classes[best]!, names, lng)} ${formatPercent(ph.probabilities[best]!, lng)}` : ''}
                    {!ph.included && ` — ${t('report.leftOut')}`}
                    {ph.qualityOverridden && ` — ${t('report.overridden')}`}
                  </span>
                </li>
              );
            })}
          </ol>
        </section>
      )}
      {r.qualityWarnings.length > 0 && (
        <p className="report-quality">
          {t('report.quality', { list: r.qualityWarnings.join(', ') })}
          {r.qualityOverridden && ` ${t('report.overridden')}`}
        </p>
      )}
      <h3>{t('report.modelCard')}</h3>
      <dl className="report-facts">
        <dt>{t('report.model')}</dt>
        <dd>
          {r.model.name} ({r.model.id}) {r.model.version}
        </dd>
        <dt>{t('report.provenance')}</dt>
        <dd>
          <ProvenanceLine provenance={r.model.provenance} testId="report-provenance" />
        </dd>
        <dt>{t('report.validation')}</dt>
        <dd data-testid="report-validation">
          {r.model.demonstration
            ? t('report.demoModel')
            : claimsVerified(r.model.provenance)
              ? (validation ?? t('report.validationUnknown'))
              : t('provenance.claimed', { ns: 'models', claim: validation ?? t('report.validationUnknown') })}
        </dd>
        <dt>{t('report.hash')}</dt>
        <dd className="mono">{r.model.sha256.slice(0, 16)}…</dd>
        <dt>{t('report.backend')}</dt>
        <dd>
          {r.backend.ep.toUpperCase()} · {r.ttaMode === 'flip-grey' ? t('report.ttaFlipGrey') : r.tta ? t('report.ttaFlip') : t('report.ttaNone')}
        </dd>
      </dl>
      <h3>{t('report.clinical')}</h3>
      <dl className="report-facts">
        <dt>{t('fields.clinician')}</dt>
        <dd>{record.clinician || t('report.none')}</dd>
        <dt>{t('fields.diagnosis')}</dt>
        <dd>
          {t(`diagnosis.${record.followUp.diagnosis}`)}
          {record.followUp.detail && ` — ${record.followUp.detail}`}
        </dd>
      </dl>
      <h4>{t('fields.notes')}</h4>
      <p className="report-notes" data-testid="report-notes">
        {record.notes || t('report.none')}
      </p>
      <p className="report-signature">{t('report.signature')}</p>
    </article>
  );
}
