// The settings sections of the app shell: language, appearance, inference backend, conference demo mode.
import { useTranslation } from 'react-i18next';
import { LANGUAGES, type Language } from '../../i18n';
import { updateSettings, useSettings, type Settings } from '../../settings/settings';
import { useEngine } from '../engine';
import { KIOSK_RESET_CHOICES } from '../kiosk/inactivity';
import { Choice, SettingsSection } from './SettingsSection';
import { useAdmin } from '../admin/admin-context';
import { useState } from 'react';

export function LanguageSection() {
  const { t, i18n } = useTranslation('settings');
  return (
    <SettingsSection id="language" title={t('language.title')} description={t('language.description')}>
      <Choice<Language>
        name="language"
        legend={t('language.title')}
        value={LANGUAGES.find((l) => l.code === i18n.language)?.code ?? 'en'}
        options={LANGUAGES.map((l) => ({ value: l.code, label: l.label, lang: l.code }))}
        onChange={(lng) => void i18n.changeLanguage(lng)}
      />
    </SettingsSection>
  );
}

export function AppearanceSection() {
  const { t } = useTranslation('settings');
  const { theme } = useSettings();
  return (
    <SettingsSection id="appearance" title={t('appearance.title')}>
      <Choice<Settings['theme']>
        name="theme"
        legend={t('appearance.title')}
        value={theme}
        options={(['system', 'light', 'dark'] as const).map((v) => ({ value: v, label: t(`appearance.${v}`) }))}
        onChange={(v) => updateSettings({ theme: v })}
      />
    </SettingsSection>
  );
}

export function BackendSection() {
  const { t } = useTranslation('settings');
  const { backend } = useSettings();
  const { backendPreference } = useEngine();
  return (
    <SettingsSection id="backend" title={t('backend.title')} description={t('backend.description')}>
      <Choice<Settings['backend']>
        name="backend"
        legend={t('backend.title')}
        value={backend}
        options={(['auto', 'webgpu', 'wasm'] as const).map((v) => ({ value: v, label: t(`backend.${v}`) }))}
        onChange={(v) => updateSettings({ backend: v })}
      />
      {backend !== backendPreference && (
        <p className="settings-pending" role="status">
          {t('backend.pending')}{' '}
          <button type="button" className="secondary" onClick={() => location.reload()} data-testid="backend-restart">
            {t('backend.restart')}
          </button>
        </p>
      )}
    </SettingsSection>
  );
}

export function KioskSection() {
  const { t } = useTranslation('settings');
  const { kiosk, kioskResetSeconds } = useSettings();
  const { isSet } = useAdmin();
  const [refused, setRefused] = useState(false);
  const toggle = (on: boolean) => {
    // Demo mode is only as locked as its way out: a booth tablet needs an administrator PIN first.
    if (on && !isSet) return setRefused(true);
    setRefused(false);
    updateSettings({ kiosk: on });
  };
  return (
    <SettingsSection id="kiosk" title={t('kiosk.title')} description={t('kiosk.description')}>
      <label className="switch">
        <input type="checkbox" role="switch" checked={kiosk} onChange={(e) => toggle(e.currentTarget.checked)} data-testid="kiosk-toggle" />
        <span>{t('kiosk.enable')}</span>
      </label>
      {refused && (
        <p className="error" role="alert" data-testid="kiosk-needs-pin">
          {t('admin.kioskNeedsPin')}
        </p>
      )}
      <label className="field">
        <span>{t('kiosk.reset')}</span>
        <select value={kioskResetSeconds} onChange={(e) => updateSettings({ kioskResetSeconds: Number(e.currentTarget.value) })} data-testid="kiosk-reset">
          {KIOSK_RESET_CHOICES.map((s) => (
            <option key={s} value={s}>
              {t('kiosk.seconds', { count: s })}
            </option>
          ))}
        </select>
      </label>
    </SettingsSection>
  );
}
