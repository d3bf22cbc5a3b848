import { useTranslation } from 'react-i18next';
import { settingsSections } from './sections';

export default function SettingsScreen() {
  const { t } = useTranslation('settings');
  return (
    <div className="settings" aria-labelledby="settings-title">
      <h2 id="settings-title">{t('title')}</h2>
      {settingsSections.map(({ id, component: Section }) => (
        <Section key={id} />
      ))}
    </div>
  );
}
