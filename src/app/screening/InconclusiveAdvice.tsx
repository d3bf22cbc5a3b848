import { useTranslation } from 'react-i18next';
import { formatPercent } from '../../i18n';
import type { ModelManifest } from '../../model/manifest';
import { assessConfidence, confidenceLimits } from '../../pipeline/uncertainty';
import { useSettings } from '../../settings/settings';
import './screening.css';

/** Under an inconclusive finding: why no syndrome is named, and what to do instead. Nothing when conclusive. */
export function InconclusiveAdvice({ probabilities, manifest }: { probabilities: readonly number[]; manifest: ModelManifest }) {
  const { t, i18n } = useTranslation('quality');
  const settings = useSettings();
  const limits = confidenceLimits(settings.inconclusiveBelow, settings.inconclusiveMargin);
  const c = assessConfidence(probabilities, limits);
  if (c.conclusive) return null;
  const name = (i: number) => manifest.classes[i]!.displayName[i18n.language] ?? manifest.classes[i]!.displayName.en;
  return (
    <div className="verdict inconclusive" data-testid="inconclusive-advice" data-reason={c.reason}>
      <p>
        {c.reason === 'low-probability'
          ? t('verdict.low-probability', { p: formatPercent(probabilities[c.top]!), limit: formatPercent(limits.minTopProbability) })
          : t('verdict.close-call', { first: name(c.top), second: name(c.runnerUp), margin: formatPercent(c.margin) })}
      </p>
      <p>{t('verdict.whatToDo')}</p>
    </div>
  );
}
