import { useTranslation } from 'react-i18next';
import { formatPercent } from '../../i18n';
import type { ModelManifest } from '../../model/manifest';
import { GUIDED_SYNDROMES, type Finding } from './finding';

const className = (manifest: ModelManifest, index: number, lng: string) => {
  const c = manifest.classes[index]!;
  return c.displayName[lng] ?? c.displayName.en;
};

/** The finding in plain words: the class the face most resembles, or inconclusive. */
export function FindingHeadline({ finding, manifest }: { finding: Finding; manifest: ModelManifest }) {
  const { t, i18n } = useTranslation('guidance');
  const name = className(manifest, finding.index, i18n.language);
  const p = formatPercent(finding.probability);
  return (
    <p className={`finding${finding.inconclusive ? ' inconclusive' : ''}`} data-testid="finding" data-class={finding.inconclusive ? 'inconclusive' : manifest.classes[finding.index]!.id}>
      {finding.inconclusive ? t('inconclusive', { name, p }) : manifest.classes[finding.index]!.id === 'non_gs' ? t('noSyndrome', { name, p }) : t('resembles', { name, p })}
    </p>
  );
}

/** Suggestions for each syndrome, the most probable one open first. Sources are cited on the About page. */
export function NextSteps({ finding, manifest }: { finding: Finding; manifest: ModelManifest }) {
  const { t, i18n } = useTranslation('guidance');
  const topId = manifest.classes[finding.index]!.id;
  const guided = GUIDED_SYNDROMES.map((id) => ({ id, index: manifest.classes.findIndex((c) => c.id === id) })).filter((g) => g.index >= 0);
  if (guided.length === 0) return null;
  const ordered = [...guided.filter((g) => g.id === topId), ...guided.filter((g) => g.id !== topId)];
  return (
    <section className="next-steps" aria-labelledby="next-steps-title" data-testid="next-steps">
      <h3 id="next-steps-title">{t('title')}</h3>
      <p className="hint">{t('intro')}</p>
      {(topId === 'non_gs' || finding.inconclusive) && <p>{t('nonSyndromic')}</p>}
      {ordered.map((g) => (
        <details key={g.id} open={g.id === topId && !finding.inconclusive} data-testid={`next-steps-${g.id}`}>
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
