import { useTranslation } from 'react-i18next';
import { DIAGNOSES } from '../../records/case-record';

/** The confirmed-diagnosis choices, in the records' order and the reader's language, for a <select>. */
export function DiagnosisOptions() {
  const { t } = useTranslation('records');
  return DIAGNOSES.map((d) => (
    <option key={d} value={d}>
      {t(`diagnosis.${d}`)}
    </option>
  ));
}
