import { useTranslation } from 'react-i18next';
import { formatPercent } from '../../i18n';
import type { ModelManifest } from '../../model/manifest';
import { assessConfidence, type Confidence } from '../../pipeline/uncertainty';
import { useSettings } from '../../settings/settings';

/** Class ids with reviewed "what to consider next" suggestions (guidance namespace), in display order. */
const GUIDED_SYNDROMES = ['wbs', 'ns', 'algs'] as const;

const className = (manifest: ModelManifest, index: number, lng: string) => {
  const c = manifest.classes[index]!;
  return c.displayName[lng] ?? c.displayName.en;
};

/** The confidence limits the clinician set in Settings (issue 7's thresholds). */
function useConfidence(probabilities: readonly number[]): Confidence {
  const { inconclusiveBelow, inconclusiveMargin } = useSettings();
  return assessConfidence(probabilities, { minTopProbability: inconclusiveBelow, minMargin: inconclusiveMargin });
}

/** For the result screen: the finding headline, with the limits from Settings. */
export function ResultFinding({ probabilities, manifest }: { probabilities: readonly number[]; manifest: ModelManifest }) {
  return <FindingHeadline confidence={useConfidence(probabilities)} probabilities={probabilities} manifest={manifest} />;
}

/** For the result screen: what to consider next, the most probable syndrome first. */
export function ResultNextSteps({ probabilities, manifest }: { probabilities: readonly number[]; manifest: ModelManifest }) {
  return <NextSteps confidence={useConfidence(probabilities)} manifest={manifest} />;
}

/** The finding in plain words: the class the face most resembles, or inconclusive. */
function FindingHeadline({ confidence, probabilities, manifest }: { confidence: Confidence; probabilities: readonly number[]; manifest: ModelManifest }) {
  const { t, i18n } = useTranslation('guidance');
  const name = className(manifest, confidence.top, i18n.language);
  const p = formatPercent(probabilities[confidence.top]!);
  const id = manifest.classes[confidence.top]!.id;
  return (
    <p className={`finding${confidence.conclusive ? '' : ' inconclusive'}`} data-testid="finding" data-class={confidence.conclusive ? id : 'inconclusive'}>
      {!confidence.conclusive ? t('inconclusive', { name, p }) : id === 'non_gs' ? t('noSyndrome', { name, p }) : t('resembles', { name, p })}
    </p>
  );
}

/** Suggestions for each syndrome, the most probable one open first. Sources are cited on the About page. */
function NextSteps({ confidence, manifest }: { confidence: Confidence; manifest: ModelManifest }) {
  const { t, i18n } = useTranslation('guidance');
  const topId = manifest.classes[confidence.top]!.id;
  const guided = GUIDED_SYNDROMES.map((id) => ({ id, index: manifest.classes.findIndex((c) => c.id === id) })).filter((g) => g.index >= 0);
  if (guided.length === 0) return null;
  const ordered = [...guided.filter((g) => g.id === topId), ...guided.filter((g) => g.id !== topId)];
  return (
    <section className="next-steps" aria-labelledby="next-steps-title" data-testid="next-steps">
      <h3 id="next-steps-title">{t('title')}</h3>
      <p className="hint">{t('intro')}</p>
      {(topId === 'non_gs' || !confidence.conclusive) && <p>{t('nonSyndromic')}</p>}
      {ordered.map((g) => (
        <details key={g.id} open={g.id === topId && confidence.conclusive} data-testid={`next-steps-${g.id}`}>
          <summary>{className(manifest, g.index, i18n.language)}</summary>
          <ul>
            {(t(`syndromes.${g.id}`, { returnObjects: true }) as string[]).map((s) => (
              <li key={s}>{s}</li>
            ))}
          </ul>
        </details>
      ))}
      <p className="hint">
        <a href="#/about">{t('sourcesLink')}</a>
      </p>
    </section>
  );
}

/** For the About page: the references the suggestions were checked against. */
export function GuidanceSources() {
  const { t } = useTranslation('guidance');
  return (
    <section aria-labelledby="guidance-sources-title" data-testid="guidance-sources">
      <h3 id="guidance-sources-title">{t('sources.title')}</h3>
      <p>{t('sources.intro')}</p>
      <ol className="sources">
        {SOURCES.map((s) => (
          <li key={s} lang="en">
            {s}
          </li>
        ))}
      </ol>
    </section>
  );
}

// Citations stay in their original language in both locales.
const SOURCES = [
  'Morris CA. Williams Syndrome. In: Adam MP, et al., eds. GeneReviews®. Seattle (WA): University of Washington; 1999– (updated). NBK1249.',
  'Morris CA, Braddock SR; Council on Genetics. Health Care Supervision for Children With Williams Syndrome. Pediatrics. 2020;145(2):e20193761.',
  'Roberts AE. Noonan Syndrome. In: Adam MP, et al., eds. GeneReviews®. Seattle (WA): University of Washington; 2001– (updated). NBK1124.',
  'Romano AA, Allanson JE, Dahlgren J, et al. Noonan syndrome: clinical features, diagnosis, and management guidelines. Pediatrics. 2010;126(4):746–759.',
  'Spinner NB, Gilbert MA, Loomes KM, Krantz ID. Alagille Syndrome. In: Adam MP, et al., eds. GeneReviews®. Seattle (WA): University of Washington; 2000– (updated). NBK1273.',
  'Shen J, Chen Q, Huang Y, Wu K, Yang L, Wang S. Facial recognition models for identifying genetic syndromes associated with pulmonary stenosis in children. Postgrad Med J. 2024. doi:10.1093/postmj/qgae095.',
];
