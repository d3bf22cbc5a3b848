import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { assessCapabilities, detectCapabilities, type CapabilityReport } from '../../platform/capabilities';

let detected: Promise<CapabilityReport> | null = null;

/** What this browser lacks of what Facies needs, and what still works: shown under the header when anything is missing. */
export function CapabilityNotice() {
  const { t } = useTranslation('platform');
  const [report, setReport] = useState<CapabilityReport | null>(null);
  useEffect(() => {
    let live = true;
    detected ??= detectCapabilities().then(assessCapabilities);
    void detected.then((r) => live && setReport(r));
    return () => {
      live = false;
    };
  }, []);
  if (!report || report.missing.length === 0) return null;
  const blocked = !report.canScreen;
  return (
    <section
      className={blocked ? 'error capabilities' : 'notice capabilities'}
      role={blocked ? 'alert' : 'status'}
      data-testid="capabilities"
      data-can-screen={report.canScreen}
    >
      <strong>{t(blocked ? 'titleBlocked' : 'titleLimited')}</strong>
      <ul>
        {report.missing.map((m) => (
          <li key={m.id} data-testid={`capability-${m.id}`} data-impact={m.impact}>
            {t(`missing.${m.id}`)}
          </li>
        ))}
      </ul>
      <p>{t(blocked ? 'stillWorksBlocked' : 'stillWorksLimited')}</p>
    </section>
  );
}
