import { useTranslation } from 'react-i18next';
import type { ModelManifest } from '../../model/manifest';

/** Permanent: shown on every screen, above any result. */
export function ScreeningNotice({ manifest }: { manifest?: ModelManifest }) {
  const { t } = useTranslation();
  return (
    <div className="notice" data-testid="screening-notice" role="note">
      <strong>{t('notice.title')}</strong> {t('notice.body')}
      {manifest?.demonstration && (
        <div className="notice-demo" data-testid="demo-notice">
          <strong>{t('notice.demoTitle')}</strong> {t('notice.demoBody', { name: manifest.name })}
        </div>
      )}
    </div>
  );
}
