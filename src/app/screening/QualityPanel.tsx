import { useTranslation } from 'react-i18next';
import type { QualityCheck, QualityReport } from '../../pipeline/quality';
import type { RgbaImage } from '../../pipeline/image';
import { RgbaCanvas } from '../ui/RgbaCanvas';
import './screening.css';

/** The measured value of a check, formatted in the user's language. */
function valueText(t: (k: string, o?: Record<string, unknown>) => string, c: QualityCheck, lng: string): string {
  const num = (v: number, digits = 0) => new Intl.NumberFormat(lng, { minimumFractionDigits: digits, maximumFractionDigits: digits }).format(v);
  const pct = (v: number) => new Intl.NumberFormat(lng, { style: 'percent', maximumFractionDigits: 1 }).format(v);
  const key = `checks.${c.id}.value`;
  switch (c.id) {
    case 'face-count':
      return t(key, { count: c.value });
    case 'roll':
    case 'yaw':
      return t(key, { value: num(Math.abs(c.value)) });
    case 'sharpness':
      return t(key, { value: num(c.value, 1) });
    case 'clipping':
    case 'cut-off':
    case 'occlusion':
      return t(key, { value: pct(c.value) });
    default:
      return t(key, { value: num(c.value) });
  }
}

const fixKey = (c: QualityCheck) =>
  c.id === 'brightness' ? (c.side === 'high' ? 'checks.brightness.fixHigh' : 'checks.brightness.fixLow') : `checks.${c.id}.fix`;

/**
 * The quality checks of a photo. `blocked`: the gate stopped the photo (with the crop and a "show anyway"
 * button); otherwise a compact summary shown with the result.
 */
export function QualityPanel({
  report,
  crop,
  blocked = false,
  overridden = false,
  onOverride,
}: {
  report: QualityReport;
  crop?: RgbaImage;
  blocked?: boolean;
  overridden?: boolean;
  onOverride?: () => void;
}) {
  const { t, i18n } = useTranslation('quality');
  return (
    <section
      className={`quality quality-${report.overall}`}
      data-testid="quality"
      data-overall={report.overall}
      data-overridden={overridden}
      aria-labelledby="quality-title"
    >
      <h3 id="quality-title">{blocked ? t('blockedTitle') : t('title')}</h3>
      {blocked ? (
        <p role="alert" data-testid="quality-blocked">
          {t('blockedText')}
        </p>
      ) : (
        <p>{overridden ? <strong data-testid="quality-overridden">{t('overridden')}</strong> : t(`summary.${report.overall}`)}</p>
      )}
      <div className="quality-body">
        {crop && <RgbaCanvas image={crop} className="crop-canvas" label={t('checks.face-count.name')} />}
        <ul className="quality-checks">
          {report.checks.map((c) => (
            <li key={c.id} data-testid={`quality-${c.id}`} data-status={c.status} data-value={c.value} className={`check-${c.status}`}>
              <span className="check-badge">{t(`status.${c.status}`)}</span>
              <span className="check-name">{t(`checks.${c.id}.name`)}</span>
              <span className="check-value">{valueText(t, c, i18n.language)}</span>
              {c.status !== 'pass' && <span className="check-fix">{t(fixKey(c))}</span>}
            </li>
          ))}
        </ul>
      </div>
      {blocked && onOverride && (
        <button type="button" className="secondary" onClick={onOverride} data-testid="quality-override">
          {t('override')}
        </button>
      )}
    </section>
  );
}
