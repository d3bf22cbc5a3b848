import { useTranslation } from 'react-i18next';
import { formatMs, formatPercent } from '../../i18n';
import { topClassIndex } from '../../pipeline/uncertainty';
import type { ModelReady } from '../../inference/protocol';
import { faceChoice, type ChildFusion, type ScreeningResult } from './screening-result';
import { backendLabel } from '../models/BackendName';
import { RgbaCanvas } from '../ui/RgbaCanvas';
import { ResultModelInfo } from '../models/ResultModelInfo';
import { claimsVerified, type Provenance } from '../../model/provenance';
import { Heatmap } from './Heatmap';
import { InconclusiveAdvice } from './InconclusiveAdvice';
import { QualityPanel } from './QualityPanel';
import { ResultFinding, ResultNextSteps } from './NextSteps';

/** `fusion`: the result is the child's, fused from several photos (the crop and heatmap are the first photo's). */
export function ResultView({
  result,
  model,
  provenance,
  fusion,
}: {
  result: ScreeningResult;
  model: ModelReady;
  provenance: Provenance;
  fusion?: ChildFusion;
}) {
  const { t, i18n } = useTranslation('screening');
  const { manifest, backend } = model;
  const top = topClassIndex(result.probabilities);
  const choice = faceChoice(result.faces.length, result.chosenFace, result.pickedByUser);
  const tm = result.timings;
  return (
    <section className="result" data-testid="result" data-photo={result.photoName} aria-labelledby="result-title">
      <h2 id="result-title">{t('result.title')}</h2>
      {fusion && (
        <p className="result-fusion" data-testid="result-fusion" data-photos={fusion.photos} data-included={fusion.included} data-rule={fusion.rule}>
          {t('childPhotos.fused', { included: fusion.included, count: fusion.photos, rule: t(`childPhotos.rules.${fusion.rule}`) })}
        </p>
      )}
      {manifest.demonstration && (
        <p className="result-demo" data-testid="result-demo-notice">
          {t('result.demo')}
        </p>
      )}
      <ResultFinding probabilities={result.probabilities} manifest={manifest} />
      <InconclusiveAdvice probabilities={result.probabilities} manifest={manifest} />
      <div className="result-body">
        <figure className="crop">
          <RgbaCanvas image={result.crop} className="crop-canvas" label={t('result.cropLabel')} />
          <figcaption>{t('result.crop')}</figcaption>
        </figure>
        <ul className="probs" aria-label={t('result.probabilities')}>
          {manifest.classes.map((c, i) => {
            const p = result.probabilities[i]!;
            const name = c.displayName[i18n.language] ?? c.displayName.en;
            return (
              <li key={c.id} data-testid={`prob-${c.id}`} data-value={p} className={i === top ? 'top' : undefined}>
                <span className="prob-label">{name}</span>
                <span className="prob-bar" aria-hidden="true">
                  <span style={{ width: `${(p * 100).toFixed(2)}%` }} />
                </span>
                <span className="prob-value">{formatPercent(p)}</span>
              </li>
            );
          })}
        </ul>
      </div>
      <ResultModelInfo manifest={manifest} provenance={provenance} />
      <dl className="facts">
        <dt>{t('result.model')}</dt>
        <dd data-testid="model-name">
          {manifest.name} {manifest.version} —{' '}
          {manifest.clinicalValidation.status === 'none'
            ? t('result.notValidated')
            : claimsVerified(provenance)
              ? manifest.clinicalValidation.summary
              : t('provenance.claimed', { ns: 'models', claim: manifest.clinicalValidation.summary })}
        </dd>
        <dt>{t('result.backend')}</dt>
        <dd data-testid="backend" data-ep={backend.ep} data-threads={backend.threads}>
          {backendLabel(t, backend)} — {backend.reason}
        </dd>
        <dt>{t('result.face')}</dt>
        <dd data-testid="face-choice">{t(choice.key, choice.values)}</dd>
        <dt>{t('tta.label', { ns: 'quality' })}</dt>
        <dd data-testid="tta" data-mode={result.tta.mode} data-passes={JSON.stringify(result.tta.passes)}>
          {t(`tta.${result.tta.mode}`, { ns: 'quality' })}
        </dd>
        <dt>{t('result.timings')}</dt>
        <dd data-testid="timings" data-detect-ms={tm.detectMs} data-align-ms={tm.alignMs} data-inference-ms={tm.inferenceMs} data-total-ms={tm.totalMs}>
          {t('result.timingsText', {
            decode: formatMs(tm.decodeMs),
            detect: formatMs(tm.detectMs),
            align: formatMs(tm.alignMs),
            inference: formatMs(tm.inferenceMs),
            total: formatMs(tm.totalMs),
          })}
        </dd>
      </dl>
      <QualityPanel report={result.quality.report} overridden={result.quality.overridden} />
      <ResultNextSteps probabilities={result.probabilities} manifest={manifest} />
      <Heatmap
        crop={result.crop}
        classIndex={top}
        className={manifest.classes[top]!.displayName[i18n.language] ?? manifest.classes[top]!.displayName.en}
        model={model}
        inferenceMs={result.timings.inferenceMs / result.tta.passes.length}
      />
    </section>
  );
}
