import { useTranslation } from 'react-i18next';
import { blockedRequests } from '../../privacy/network-guard';
import { StoragePanel } from '../offline/StoragePanel';
import { ErasePanel } from '../offline/ErasePanel';
import { GuidanceSources } from '../screening/NextSteps';

export default function AboutScreen() {
  const { t } = useTranslation('about');
  const blocked = blockedRequests();
  return (
    <section className="about" aria-labelledby="about-title">
      <h2 id="about-title">{t('title')}</h2>
      <h3>{t('privacy.title')}</h3>
      <p>{t('privacy.onDevice')}</p>
      <p>{t('privacy.telemetry')}</p>
      <p data-testid="blocked-requests" data-count={blocked.length}>
        {t('privacy.blocked', { count: blocked.length })}
      </p>
      <StoragePanel />
      <ErasePanel />
      <h3>{t('method.title')}</h3>
      <p>{t('method.body')}</p>
      <h3>{t('study.title')}</h3>
      <p>{t('study.body')}</p>
      <GuidanceSources />
    </section>
  );
}
