// A model's card (its MODEL_CARD.md, rendered as text only) and its validation report: metrics table and confusion matrix.
import { Fragment, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { formatPercent } from '../../i18n';
import { DEFAULT_INFERENCE, localized, type Interval, type ModelManifest, type Spread, type ValidationReport } from '../../model/manifest';
import { parseMarkdown, type Block, type Inline } from '../../model/package/markdown';

function InlineText({ content }: { content: Inline[] }) {
  return (
    <>
      {content.map((c, i) => {
        switch (c.kind) {
          case 'strong':
            return <strong key={i}>{c.text}</strong>;
          case 'em':
            return <em key={i}>{c.text}</em>;
          case 'code':
            return <code key={i}>{c.text}</code>;
          case 'link':
            // Offline app: links are shown with their address, never followed from the card.
            return (
              <span key={i}>
                {c.text} ({c.href})
              </span>
            );
          default:
            return <Fragment key={i}>{c.text}</Fragment>;
        }
      })}
    </>
  );
}

function MarkdownBlock({ block }: { block: Block }): ReactNode {
  switch (block.kind) {
    case 'heading': {
      const H = `h${Math.min(6, block.level + 2)}` as 'h3';
      return (
        <H>
          <InlineText content={block.content} />
        </H>
      );
    }
    case 'paragraph':
      return (
        <p>
          <InlineText content={block.content} />
        </p>
      );
    case 'quote':
      return (
        <blockquote>
          <InlineText content={block.content} />
        </blockquote>
      );
    case 'code':
      return (
        <pre>
          <code>{block.text}</code>
        </pre>
      );
    case 'rule':
      return <hr />;
    case 'list': {
      const L = block.ordered ? 'ol' : 'ul';
      return (
        <L>
          {block.items.map((item, i) => (
            <li key={i}>
              <InlineText content={item} />
            </li>
          ))}
        </L>
      );
    }
    case 'table':
      return (
        <div className="table-scroll">
          <table>
            <thead>
              <tr>
                {block.header.map((c, i) => (
                  <th key={i}>
                    <InlineText content={c} />
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {block.rows.map((r, i) => (
                <tr key={i}>
                  {r.map((c, j) => (
                    <td key={j}>
                      <InlineText content={c} />
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      );
  }
}

export function MarkdownCard({ source }: { source: string }) {
  return (
    <div className="model-card-text" data-testid="model-card">
      {parseMarkdown(source).map((b, i) => (
        <MarkdownBlock key={i} block={b} />
      ))}
    </div>
  );
}

export function ValidationReportView({ manifest }: { manifest: ModelManifest }) {
  const { t, i18n } = useTranslation('models');
  const v = manifest.validation;
  const cv = manifest.clinicalValidation;
  const spread = (s: Spread) => t('card.spread', { mean: formatPercent(s.mean), sd: formatPercent(s.sd) });
  return (
    <section className="validation-report" data-testid="validation-report">
      <h4>{t('card.clinical')}</h4>
      <p data-testid="clinical-validation" data-status={cv.status}>
        <strong>{manifest.demonstration ? t('status.demo') : t(`status.${cv.status}`)}</strong> — {cv.summary}
        {cv.by && cv.dataset && <> {t('card.clinicalBy', { by: cv.by, dataset: cv.dataset })}</>}
      </p>
      {!v ? (
        <p>{t('card.noReport')}</p>
      ) : (
        <>
          <h4>{t('card.metricsTitle')}</h4>
          <p>
            <strong>{t('card.protocol')}:</strong> {v.protocol} ({t('card.folds', { count: v.folds })})
          </p>
          <DatasetSummary report={v} manifest={manifest} />
          <div className="table-scroll">
            <table className="metrics-table" data-testid="metrics-table">
              <thead>
                <tr>
                  <th scope="col">{t('card.class')}</th>
                  <th scope="col">{t('card.precision')}</th>
                  <th scope="col">{t('card.recall')}</th>
                  <th scope="col">{t('card.f1')}</th>
                </tr>
              </thead>
              <tbody>
                {manifest.classes.map((c) => {
                  const m = v.perClass[c.id]!;
                  return (
                    <tr key={c.id} data-testid={`metrics-${c.id}`}>
                      <th scope="row">{localized(c.displayName, i18n.language)}</th>
                      <td>{m.precision ? spread(m.precision) : '—' /* never predicted in any fold: undefined, not 0 */}</td>
                      <td>{spread(m.recall)}</td>
                      <td>{spread(m.f1)}</td>
                    </tr>
                  );
                })}
              </tbody>
              <tfoot>
                <tr>
                  <th scope="row">{t('card.accuracy')}</th>
                  <td colSpan={3} data-testid="metrics-accuracy">
                    {spread(v.accuracy)}
                  </td>
                </tr>
                <tr>
                  <th scope="row">{t('card.macroF1')}</th>
                  <td colSpan={3}>{spread(v.macroF1)}</td>
                </tr>
              </tfoot>
            </table>
          </div>
          <p className="hint">{t('card.spreadNote')}</p>
          <ConfusionMatrix report={v} manifest={manifest} />
          <ValidationDetails report={v} manifest={manifest} />
        </>
      )}
    </section>
  );
}

function DatasetSummary({ report, manifest }: { report: ValidationReport; manifest: ModelManifest }) {
  const { t, i18n } = useTranslation('models');
  const d = report.dataset;
  const n = new Intl.NumberFormat(i18n.language);
  const total = Object.values(d.perClass).reduce((a, b) => a + b, 0);
  return (
    <p data-testid="dataset-summary">
      <strong>{t('card.dataset')}:</strong> {t('card.cases', { count: total })}
      {d.patients !== undefined && <>, {t('card.patients', { count: d.patients })}</>} (
      {manifest.classes.map((c, i) => `${i ? ', ' : ''}${localized(c.displayName, i18n.language)} ${n.format(d.perClass[c.id] ?? 0)}`).join('')})
      {d.ageRangeYears && <>. {t('card.age', { min: n.format(d.ageRangeYears[0]), max: n.format(d.ageRangeYears[1]) })}</>}
      {d.ethnicity && <>. {t('card.ethnicity', { ethnicity: d.ethnicity })}</>}
      {d.sites?.length ? <>. {t('card.sites', { sites: d.sites.join(', ') })}</> : null}
      {d.description && <>. {d.description}</>}
    </p>
  );
}

/** Counts as a heat-map grid: darker = more cases; the diagonal is where the model was right. */
function ConfusionMatrix({ report, manifest }: { report: ValidationReport; manifest: ModelManifest }) {
  const { t, i18n } = useTranslation('models');
  const cm = report.confusionMatrix;
  const k = manifest.classes.length;
  const max = Math.max(1, ...cm.flat());
  const cell = 56;
  const label = 150;
  const names = manifest.classes.map((c) => localized(c.displayName, i18n.language));
  const n = new Intl.NumberFormat(i18n.language);
  return (
    <figure className="confusion" data-testid="confusion-matrix">
      <figcaption>
        <strong>{t('card.confusion')}</strong> — {t('card.confusionNote')}
      </figcaption>
      <svg viewBox={`0 0 ${label + k * cell} ${label + k * cell}`} width={Math.min(520, label + k * cell)} role="img" aria-label={t('card.confusion')}>
        {names.map((name, j) => (
          <text
            key={`c${j}`}
            x={label + j * cell + cell / 2}
            y={label - 8}
            transform={`rotate(-40 ${label + j * cell + cell / 2} ${label - 8})`}
            fontSize="12"
            fill="currentColor"
          >
            {t('card.predicted')}: {name}
          </text>
        ))}
        {cm.map((row, i) => (
          <g key={i}>
            <text x={label - 8} y={label + i * cell + cell / 2 + 4} textAnchor="end" fontSize="12" fill="currentColor">
              {t('card.trueClass')}: {names[i]}
            </text>
            {row.map((v, j) => {
              const a = v / max;
              return (
                <g key={j} data-testid={`cm-${manifest.classes[i]!.id}-${manifest.classes[j]!.id}`} data-value={v}>
                  <rect
                    x={label + j * cell}
                    y={label + i * cell}
                    width={cell - 2}
                    height={cell - 2}
                    rx="4"
                    fill={i === j ? `rgba(22,120,80,${0.12 + 0.88 * a})` : `rgba(180,60,40,${0.08 + 0.92 * a})`}
                  />
                  <text
                    x={label + j * cell + cell / 2 - 1}
                    y={label + i * cell + cell / 2 + 4}
                    textAnchor="middle"
                    fontSize="14"
                    fill={a > 0.55 ? '#fff' : 'currentColor'}
                  >
                    {n.format(v)}
                  </text>
                </g>
              );
            })}
          </g>
        ))}
      </svg>
    </figure>
  );
}

/**
 * How the figures were obtained (TTA, fusion, split, how the configuration was chosen) and what the kit adds beyond
 * the photo-level table: per child under each fusion rule, bootstrap intervals, subgroups, comparisons, repeats.
 */
function ValidationDetails({ report: v, manifest }: { report: ValidationReport; manifest: ModelManifest }) {
  const { t, i18n } = useTranslation('models');
  const inference = manifest.inference ?? DEFAULT_INFERENCE;
  const pct = (x: number) => formatPercent(x);
  const spread = (s: Spread) => t('card.spread', { mean: pct(s.mean), sd: pct(s.sd) });
  const interval = (x: Interval) => t('card.interval', { estimate: pct(x.estimate), low: pct(x.low), high: pct(x.high) });
  const n = new Intl.NumberFormat(i18n.language);
  const rule = (r: string) => t(`childPhotos.rules.${r}`, { ns: 'screening' });
  return (
    <>
      <p
        data-testid="validation-inference"
        data-tta={inference.tta}
        data-fusion={inference.fusion}
        data-split={v.split ?? 'patient'}
        data-estimate={v.estimate ?? ''}
      >
        <strong>{t('card.inference')}:</strong> {t(`tta.${inference.tta}`, { ns: 'quality' })}; {t('card.fusion', { rule: rule(inference.fusion) })}.{' '}
        {t(`card.split.${v.split ?? 'patient'}`)}
        {v.estimate && <> {t(`card.estimate.${v.estimate}`)}</>}
      </p>
      {(v.balancedAccuracy || v.inconclusive || v.repeats) && (
        <ul className="validation-extra">
          {v.balancedAccuracy && <li data-testid="validation-balanced">{t('card.balanced', { value: spread(v.balancedAccuracy) })}</li>}
          {v.inconclusive && (
            <li data-testid="validation-inconclusive">
              {t('card.inconclusive', {
                coverage: spread(v.inconclusive.coverage),
                accuracy: spread(v.inconclusive.accuracyConclusive),
                top: pct(v.inconclusive.minTopProbability),
                margin: pct(v.inconclusive.minMargin),
              })}
            </li>
          )}
          {v.repeats && (
            <li data-testid="validation-repeats">
              {t('card.repeats', { count: v.repeats.count, accuracy: spread(v.repeats.accuracy), macroF1: spread(v.repeats.macroF1) })}
            </li>
          )}
        </ul>
      )}
      {v.patientLevel && (
        <div className="table-scroll">
          <table data-testid="validation-patient-level" data-chosen={v.patientLevel.fusion}>
            <caption>{t('card.patientLevel')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('card.rule')}</th>
                <th scope="col">{t('card.accuracy')}</th>
                <th scope="col">{t('card.macroF1')}</th>
                <th scope="col">{t('card.balancedShort')}</th>
              </tr>
            </thead>
            <tbody>
              {Object.entries(v.patientLevel.rules).map(([r, f]) => (
                <tr key={r} data-testid={`patient-level-${r}`} className={r === v.patientLevel!.fusion ? 'top' : undefined}>
                  <th scope="row">
                    {rule(r)}
                    {r === v.patientLevel!.fusion && ` — ${t('card.chosen')}`}
                  </th>
                  <td>{spread(f.accuracy)}</td>
                  <td>{spread(f.macroF1)}</td>
                  <td>{spread(f.balancedAccuracy)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {v.bootstrap && (
        <div className="table-scroll">
          <table data-testid="validation-bootstrap">
            <caption>{t('card.bootstrap', { confidence: pct(v.bootstrap.confidence), resamples: n.format(v.bootstrap.resamples) })}</caption>
            <thead>
              <tr>
                <th scope="col" />
                <th scope="col">{t('card.perPhoto')}</th>
                {v.bootstrap.patient && <th scope="col">{t('card.perChild')}</th>}
              </tr>
            </thead>
            <tbody>
              <tr>
                <th scope="row">{t('card.accuracy')}</th>
                <td>{interval(v.bootstrap.photo.accuracy)}</td>
                {v.bootstrap.patient && <td>{interval(v.bootstrap.patient.accuracy)}</td>}
              </tr>
              <tr>
                <th scope="row">{t('card.macroF1')}</th>
                <td>{interval(v.bootstrap.photo.macroF1)}</td>
                {v.bootstrap.patient && <td>{interval(v.bootstrap.patient.macroF1)}</td>}
              </tr>
              {manifest.classes.map((c) => (
                <tr key={c.id}>
                  <th scope="row">{t('card.recallOf', { name: localized(c.displayName, i18n.language) })}</th>
                  <td>{v.bootstrap!.photo.recall[c.id] ? interval(v.bootstrap!.photo.recall[c.id]!) : '—'}</td>
                  {v.bootstrap!.patient && <td>{v.bootstrap!.patient.recall[c.id] ? interval(v.bootstrap!.patient.recall[c.id]!) : '—'}</td>}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {v.subgroups && (
        <div className="table-scroll">
          <table data-testid="validation-subgroups">
            <caption>{t('card.subgroups', { min: v.subgroups.minPatients })}</caption>
            <thead>
              <tr>
                <th scope="col">{t('card.subgroup')}</th>
                <th scope="col">{t('card.patientsShort')}</th>
                <th scope="col">{t('card.photosShort')}</th>
                <th scope="col">{t('card.accuracy')}</th>
                <th scope="col">{t('card.macroF1')}</th>
              </tr>
            </thead>
            <tbody>
              {v.subgroups.cells.map((c) => (
                <tr key={`${c.attribute}:${c.group}`} data-testid="subgroup-cell" data-attribute={c.attribute} data-group={c.group} data-too-few={c.tooFew}>
                  <th scope="row">
                    {t(`card.attribute.${c.attribute}`, { defaultValue: c.attribute })}: {c.group}
                  </th>
                  <td>{n.format(c.patients)}</td>
                  <td>{n.format(c.photos)}</td>
                  {c.tooFew || c.accuracy === undefined ? (
                    <td colSpan={2}>{t('card.tooFew')}</td>
                  ) : (
                    <>
                      <td>{pct(c.accuracy)}</td>
                      <td>{c.macroF1 === undefined ? '—' : pct(c.macroF1)}</td>
                    </>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {v.comparisons?.length ? (
        <ul className="validation-extra" data-testid="validation-comparisons">
          {v.comparisons.map((c, i) => (
            <li key={i} data-tta={c.tta} data-split={c.split}>
              {t('card.comparison', {
                tta: t(`tta.${c.tta}`, { ns: 'quality' }),
                split: t(`card.split.${c.split}`),
                accuracy: spread(c.accuracy),
                macroF1: spread(c.macroF1),
              })}
            </li>
          ))}
        </ul>
      ) : null}
    </>
  );
}
