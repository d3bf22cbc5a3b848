import { useTranslation } from 'react-i18next';
import { formatPercent } from '../../i18n';
import { updateSettings, useSettings } from '../../settings/settings';
import { SettingsSection } from './SettingsSection';

const TOP_CHOICES = [0.4, 0.5, 0.6, 0.7, 0.8];
const MARGIN_CHOICES = [0.05, 0.1, 0.15, 0.2, 0.3];

/** Settings: flip TTA on/off and when a result is called inconclusive. */
export function ReliabilitySettingsSection() {
  const { t } = useTranslation('quality');
  const { flipTta, inconclusiveBelow, inconclusiveMargin } = useSettings();
  const choices = (values: number[], current: number) => (values.includes(current) ? values : [...values, current].sort((a, b) => a - b));
  return (
    <SettingsSection id="reliability" title={t('settings.title')} description={t('settings.description')}>
      <label className="switch">
        <input
          type="checkbox"
          role="switch"
          checked={flipTta}
          onChange={(e) => updateSettings({ flipTta: e.currentTarget.checked })}
          data-testid="tta-toggle"
        />
        <span>{t('settings.flipTta')}</span>
      </label>
      <label className="field">
        <span>{t('settings.minTop')}</span>
        <select
          value={inconclusiveBelow}
          onChange={(e) => updateSettings({ inconclusiveBelow: Number(e.currentTarget.value) })}
          data-testid="inconclusive-below"
        >
          {choices(TOP_CHOICES, inconclusiveBelow).map((v) => (
            <option key={v} value={v}>
              {formatPercent(v)}
            </option>
          ))}
        </select>
      </label>
      <label className="field">
        <span>{t('settings.minMargin')}</span>
        <select
          value={inconclusiveMargin}
          onChange={(e) => updateSettings({ inconclusiveMargin: Number(e.currentTarget.value) })}
          data-testid="inconclusive-margin"
        >
          {choices(MARGIN_CHOICES, inconclusiveMargin).map((v) => (
            <option key={v} value={v}>
              {formatPercent(v)}
            </option>
          ))}
        </select>
      </label>
    </SettingsSection>
  );
}
