import { useTranslation } from 'react-i18next';
import { recordsErrorMessage } from './errors';

/** A records error in the clinician's words, or nothing when there is none. */
export function ErrorLine({ error }: { error: unknown }) {
  const { t } = useTranslation('records');
  if (error === null) return null;
  const m = recordsErrorMessage(error);
  return (
    <p className="error" role="alert">
      {t(m.key, m.values)}
    </p>
  );
}
