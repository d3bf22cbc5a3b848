// "Save screening": files the result shown above as a case on this device.
import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import type { ModelReady } from '../../inference/protocol';
import type { RgbaImage } from '../../pipeline/image';
import type { Provenance } from '../../model/provenance';
import { type CaseRecord, LIMITS, SEXES, type Sex, newCaseId } from '../../records/case-record';
import { useSettings } from '../../settings/settings';
import type { ChildFusion, ChildPhoto, ScreeningResult } from '../screening/screening-result';
import { RecordsGate } from './RecordsGate';
import { recordsErrorMessage } from './errors';
import { useVault } from './vault-context';

async function cropPng(crop: RgbaImage): Promise<Uint8Array> {
  const canvas = new OffscreenCanvas(crop.width, crop.height);
  canvas.getContext('2d')!.putImageData(new ImageData(new Uint8ClampedArray(crop.data), crop.width, crop.height), 0, 0);
  return new Uint8Array(await (await canvas.convertToBlob({ type: 'image/png' })).arrayBuffer());
}

/** Quality-gate and TTA outcomes, read structurally: results from before the quality gate lack them. */
type ResultExtras = { quality?: { report: { checks: { id: string; status: string }[] }; overridden: boolean }; tta?: { mode: string } };

/** A several-photo screening: the child's fused probabilities and the other photos (screened, or left out by the gate). */
export interface ChildResult {
  fusion: ChildFusion;
  probabilities: number[];
  extras: ChildPhoto[];
}

const warningsOf = (quality: ResultExtras['quality']) =>
  quality ? quality.report.checks.filter((c) => c.status !== 'pass').map((c) => `${c.id}:${c.status}`) : [];

/** The case to store for a result and the clinician's entries; `keepOriginals`: the original photos too (with consent). */
async function caseFromResult(
  result: ScreeningResult,
  model: ModelReady,
  provenance: Provenance,
  entries: Pick<CaseRecord, 'patientRef' | 'age' | 'sex' | 'photoConsent' | 'clinician' | 'notes'>,
  original: Blob | null,
  child?: ChildResult,
): Promise<CaseRecord> {
  const now = new Date().toISOString();
  const { manifest, backend } = model;
  const { quality, tta } = result as ScreeningResult & ResultExtras;
  const consent = entries.photoConsent;
  const several = child && {
    extraPhotos: await Promise.all(
      child.extras.map(async (x) => ({
        crop: consent && x.crop ? await cropPng(x.crop) : null,
        photo: consent && original ? { type: x.file.type || 'image/jpeg', bytes: new Uint8Array(await x.file.arrayBuffer()) } : null,
      })),
    ),
    fusion: {
      rule: child.fusion.rule,
      photos: [
        {
          name: result.photoName,
          probabilities: result.probabilities,
          qualityWarnings: warningsOf(quality),
          qualityOverridden: quality?.overridden ?? false,
          included: true,
        },
        ...child.extras.map((x) => ({
          name: x.name,
          probabilities: x.probabilities ?? [],
          qualityWarnings: warningsOf(x.quality && { report: x.quality, overridden: x.overridden }),
          qualityOverridden: x.overridden,
          included: x.state === 'screened',
        })),
      ],
    },
  };
  return {
    id: newCaseId(),
    createdAt: now,
    updatedAt: now,
    ...entries,
    crop: entries.photoConsent ? await cropPng(result.crop) : null,
    photo: entries.photoConsent && original ? { type: original.type || 'image/jpeg', bytes: new Uint8Array(await original.arrayBuffer()) } : null,
    ...(several && { extraPhotos: several.extraPhotos }),
    result: {
      classes: manifest.classes.map((c) => c.id),
      probabilities: child ? child.probabilities : result.probabilities,
      qualityWarnings: warningsOf(quality),
      qualityOverridden: quality?.overridden ?? false,
      tta: tta !== undefined && tta.mode !== 'none',
      ...(tta && { ttaMode: tta.mode }),
      ...(several && { fusion: several.fusion }),
      model: {
        id: manifest.id,
        version: manifest.version,
        sha256: manifest.file.sha256,
        name: manifest.name,
        demonstration: manifest.demonstration,
        provenance,
      },
      backend: { ep: backend.ep, threads: backend.threads },
      timings: { ...result.timings },
    },
    followUp: { diagnosis: 'pending', detail: '', updatedAt: '' },
  };
}

/** Each screening result gets a fresh, empty form (a new patient), even for the same photo. */
const resultIds = new WeakMap<ScreeningResult, number>();
let nextResultId = 0;

type SaveProps = { result: ScreeningResult; model: ModelReady; provenance: Provenance; original: Blob | null; child?: ChildResult; pending?: boolean };

export function SaveCaseForm(props: SaveProps) {
  if (!resultIds.has(props.result)) resultIds.set(props.result, ++nextResultId);
  return <SaveCase key={resultIds.get(props.result)} {...props} />;
}

function SaveCase({ result, model, provenance, original, child, pending = false }: SaveProps) {
  const { t } = useTranslation('records');
  const { kiosk } = useSettings();
  const { vault } = useVault();
  const [patientRef, setPatientRef] = useState('');
  const [years, setYears] = useState('');
  const [months, setMonths] = useState('');
  const [sex, setSex] = useState<Sex>('unknown');
  const [consent, setConsent] = useState<'' | 'yes' | 'no'>('');
  const [keepPhoto, setKeepPhoto] = useState(false);
  const [clinician, setClinician] = useState('');
  const [notes, setNotes] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const [saved, setSaved] = useState<string | null>(null);

  // Conference demo: nothing is stored.
  if (kiosk) return null;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!consent) return setError(t('save.consentRequired'));
    const y = years === '' ? null : Number(years);
    const m = months === '' ? 0 : Number(months);
    if (y !== null && !(Number.isInteger(y) && y >= 0 && y <= 25 && Number.isInteger(m) && m >= 0 && m <= 11)) return setError(t('save.badAge'));
    setBusy(true);
    setError('');
    try {
      const record = await caseFromResult(
        result,
        model,
        provenance,
        {
          patientRef: patientRef.trim(),
          age: y === null ? null : { years: y, months: m },
          sex,
          photoConsent: consent === 'yes',
          clinician: clinician.trim(),
          notes,
        },
        keepPhoto ? original : null,
        child,
      );
      await vault.store.add(record, vault.key());
      vault.changed();
      setSaved(record.id);
      // Clinical records: ask the browser not to evict this site's storage under pressure.
      void navigator.storage?.persist?.().catch(() => undefined);
    } catch (err) {
      const msg = recordsErrorMessage(err);
      setError(t(msg.key, msg.values));
      if ((err as { code?: string }).code === 'encryption-changed') void vault.refresh();
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="records-card save-case" aria-labelledby="save-case-title" data-testid="save-case">
      <h3 id="save-case-title">{t('save.title')}</h3>
      <RecordsGate>
        {saved ? (
          <p className="records-saved" role="status" data-testid="case-saved" data-case-id={saved}>
            {t('save.saved')} <a href={`#/history?case=${encodeURIComponent(saved)}`}>{t('save.open')}</a>
          </p>
        ) : (
          <form onSubmit={(e) => void submit(e)} className="records-form">
            <label className="field">
              <span>{t('fields.patientRef')}</span>
              <input
                value={patientRef}
                maxLength={LIMITS.patientRef}
                onChange={(e) => setPatientRef(e.target.value)}
                placeholder={t('fields.patientRefHint')}
                data-testid="case-patient-ref"
                autoComplete="off"
              />
            </label>
            <fieldset className="field-row">
              <legend>{t('fields.age')}</legend>
              <label>
                <input
                  type="number"
                  inputMode="numeric"
                  min={0}
                  max={25}
                  value={years}
                  onChange={(e) => setYears(e.target.value)}
                  data-testid="case-age-years"
                />{' '}
                {t('fields.years')}
              </label>
              <label>
                <input
                  type="number"
                  inputMode="numeric"
                  min={0}
                  max={11}
                  value={months}
                  onChange={(e) => setMonths(e.target.value)}
                  data-testid="case-age-months"
                />{' '}
                {t('fields.months')}
              </label>
            </fieldset>
            <fieldset className="field-row">
              <legend>{t('fields.sex')}</legend>
              {SEXES.map((s) => (
                <label key={s}>
                  <input type="radio" name="sex" checked={sex === s} onChange={() => setSex(s)} data-testid={`case-sex-${s}`} /> {t(`sex.${s}`)}
                </label>
              ))}
            </fieldset>
            <fieldset className="field-row">
              <legend>{t('fields.consent')}</legend>
              <label>
                <input type="radio" name="consent" checked={consent === 'yes'} onChange={() => setConsent('yes')} data-testid="case-consent-yes" />{' '}
                {t('consent.yes')}
              </label>
              <label>
                <input
                  type="radio"
                  name="consent"
                  checked={consent === 'no'}
                  onChange={() => {
                    setConsent('no');
                    setKeepPhoto(false);
                  }}
                  data-testid="case-consent-no"
                />{' '}
                {t('consent.no')}
              </label>
            </fieldset>
            {original && (
              <label className="field-check">
                <input
                  type="checkbox"
                  checked={keepPhoto}
                  disabled={consent !== 'yes'}
                  onChange={(e) => setKeepPhoto(e.target.checked)}
                  data-testid="case-keep-photo"
                />{' '}
                {t('fields.keepPhoto')}
              </label>
            )}
            <label className="field">
              <span>{t('fields.clinician')}</span>
              <input
                value={clinician}
                maxLength={LIMITS.clinician}
                onChange={(e) => setClinician(e.target.value)}
                data-testid="case-clinician"
                autoComplete="name"
              />
            </label>
            <label className="field">
              <span>{t('fields.notes')}</span>
              <textarea value={notes} maxLength={LIMITS.notes} rows={3} onChange={(e) => setNotes(e.target.value)} data-testid="case-notes" />
            </label>
            {error && (
              <p className="error" role="alert" data-testid="save-error">
                {error}
              </p>
            )}
            {pending && (
              <p className="notice" role="status" data-testid="save-pending">
                {t('childPhotos.waitSave', { ns: 'screening' })}
              </p>
            )}
            <button type="submit" disabled={busy || pending} data-testid="case-save">
              {busy ? t('save.saving') : t('save.save')}
            </button>
          </form>
        )}
      </RecordsGate>
    </section>
  );
}
