// This device's own figures: counts by the model's top class and, with confirmed diagnoses, how often it was right.
import { useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import { formatPercent } from '../../i18n';
import { summarize } from '../../records/summary';
import { RecordsGate } from './RecordsGate';
import { className } from './format';
import { useCases, useModelInfo } from './use-cases';
import './records.css';

function Summary() {
  const { t, i18n } = useTranslation('records');
  const lng = i18n.language;
  const { cases } = useCases();
  const { names, classes } = useModelInfo();
  const s = useMemo(() => summarize(cases, classes), [cases, classes]);
  const nf = new Intl.NumberFormat(lng);
  return (
    <>
      <p className="hint">{t('summary.scope')}</p>
      <h3>{t('summary.byTopClass', { count: s.total })}</h3>
      <ul className="summary-counts" data-testid="summary-counts" data-total={s.total}>
        {classes.map((c) => (
          <li key={c} data-testid={`summary-count-${c}`} data-value={s.byTopClass[c] ?? 0}>
            {className(c, names, lng)}: {nf.format(s.byTopClass[c] ?? 0)}
          </li>
        ))}
      </ul>
      <h3>{t('summary.accuracyTitle')}</h3>
      {s.confirmed === 0 ? (
        <p data-testid="summary-no-confirmed">{t('summary.noConfirmed')}</p>
      ) : (
        <>
          <p data-testid="summary-accuracy" data-value={s.accuracy ?? ''}>
            {t('summary.accuracy', { count: s.confirmed, accuracy: formatPercent(s.accuracy!, lng) })}
          </p>
          <table className="confusion" data-testid="confusion-matrix">
            <caption>{t('summary.matrixCaption')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('summary.confirmedVsModel')}</th>
                {classes.map((c) => (
                  <th key={c} scope="col">
                    {className(c, names, lng)}
                  </th>
                ))}
                <th scope="col">{t('summary.sensitivity')}</th>
              </tr>
            </thead>
            <tbody>
              {classes.map((c, i) => (
                <tr key={c}>
                  <th scope="row">{className(c, names, lng)}</th>
                  {s.matrix[i]!.map((n, j) => (
                    <td key={j} className={i === j ? 'diagonal' : undefined} data-testid={`cm-${c}-${classes[j]}`} data-value={n}>
                      {nf.format(n)}
                    </td>
                  ))}
                  <td data-testid={`sensitivity-${c}`} data-value={s.sensitivity[i] ?? ''}>
                    {s.sensitivity[i] === null ? '—' : formatPercent(s.sensitivity[i]!, lng)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <p className="hint">{t('summary.caution')}</p>
        </>
      )}
    </>
  );
}

export default function SummaryScreen() {
  const { t } = useTranslation('records');
  return (
    <section className="records" aria-labelledby="summary-title" data-testid="summary">
      <h2 id="summary-title">{t('summary.title')}</h2>
      <RecordsGate>
        <Summary />
      </RecordsGate>
    </section>
  );
}
