import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { formatPercent } from '../../i18n';
import { updateSettings, useSettings } from '../../settings/settings';
import { useAdmin } from '../admin/admin-context';
import { ACTIVITY_EVENTS, InactivityTimer } from './inactivity';
import { SAMPLE_PHOTOS, sampleUrl } from './samples';

/**
 * In kiosk mode, returns a key that changes when nobody has used the app for the configured time; the shell
 * remounts the screen with it (dropping any photo and result) and goes back to the start.
 */
export function useKioskReset(): number {
  const { kiosk, kioskResetSeconds } = useSettings();
  const [resets, setResets] = useState(0);
  useEffect(() => {
    if (!kiosk) return;
    const timer = new InactivityTimer(kioskResetSeconds * 1000, () => {
      if (location.hash && location.hash !== '#/') location.hash = '#/';
      setResets((n) => n + 1);
    });
    const onActivity = () => timer.activity();
    for (const e of ACTIVITY_EVENTS) window.addEventListener(e, onActivity, { passive: true, capture: true });
    timer.activity();
    return () => {
      timer.stop();
      for (const e of ACTIVITY_EVENTS) window.removeEventListener(e, onActivity, { capture: true });
    };
  }, [kiosk, kioskResetSeconds]);
  return resets;
}

export function KioskBanner() {
  const { t } = useTranslation('kiosk');
  const { kiosk, kioskResetSeconds } = useSettings();
  const { requireAdmin } = useAdmin();
  if (!kiosk) return null;
  // The only way out of demo mode (Settings is not offered in it), and it asks for the administrator PIN.
  const leave = async () => {
    if (await requireAdmin('leave-kiosk')) updateSettings({ kiosk: false });
  };
  return (
    <p className="kiosk-banner" data-testid="kiosk-banner">
      <strong>{t('banner.title')}</strong> {t('banner.body', { count: kioskResetSeconds })}{' '}
      <button type="button" className="secondary" onClick={() => void leave()} data-testid="kiosk-exit">
        {t('admin.exitKiosk', { ns: 'settings' })}
      </button>
    </p>
  );
}

/**
 * Hands a sample to the screening screen's photo picker exactly as if the visitor had chosen the file,
 * so a sample goes through the same checks and steps as any photo.
 */
function handToPhotoPicker(file: File): void {
  const input = document.querySelector<HTMLInputElement>('input[data-testid="photo-input"]');
  if (!input) return;
  const files = new DataTransfer();
  files.items.add(file);
  input.files = files.files;
  input.dispatchEvent(new Event('change', { bubbles: true }));
}

/** Kiosk mode's start screen additions: sample photos and the method explainer, above the screening screen. */
export function KioskStart() {
  const { kiosk } = useSettings();
  if (!kiosk) return null;
  // A sample can be picked while the model loads: the screening screen screens it once the model is ready.
  return (
    <div className="kiosk-start">
      <DemoSamples onPhoto={handToPhotoPicker} />
      <MethodExplainer />
    </div>
  );
}

/** Built-in public-domain / CC0 photos a booth visitor can try instead of their own. */
function DemoSamples({ onPhoto }: { onPhoto: (file: File) => void }) {
  const { t } = useTranslation('kiosk');
  const [error, setError] = useState<string | null>(null);
  const pick = async (file: string, url: string) => {
    setError(null);
    try {
      const res = await fetch(url);
      if (!res.ok) throw new Error(String(res.status));
      const blob = await res.blob();
      onPhoto(new File([blob], file, { type: blob.type || 'image/png' }));
    } catch {
      setError(t('samples.unavailable'));
    }
  };
  return (
    <section className="demo-samples" aria-labelledby="demo-samples-title" data-testid="demo-samples">
      <h2 id="demo-samples-title">{t('samples.title')}</h2>
      <ul>
        {SAMPLE_PHOTOS.map((s) => (
          <li key={s.file}>
            <button type="button" className="sample" onClick={() => void pick(s.file, sampleUrl(s))} data-testid={`sample-${s.file}`}>
              <img src={sampleUrl(s)} alt="" width={96} height={96} />
              <span>{t(s.labelKey)}</span>
            </button>
            <small className="credit">
              {s.credit} — {s.licence}
            </small>
          </li>
        ))}
      </ul>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}

/** The method in four steps, with the founding study's figures, for a booth visitor. */
function MethodExplainer() {
  const { t, i18n } = useTranslation('kiosk');
  const n = (x: number) => new Intl.NumberFormat(i18n.language).format(x);
  const steps = ['detect', 'align', 'network', 'softmax'] as const;
  return (
    <section className="method" aria-labelledby="method-title" data-testid="method-explainer">
      <h2 id="method-title">{t('method.title')}</h2>
      <ol className="method-steps">
        {steps.map((s) => (
          <li key={s}>
            <strong>{t(`method.${s}.title`)}</strong>
            <span>{t(`method.${s}.body`)}</span>
          </li>
        ))}
      </ol>
      <p>
        {t('method.study', {
          photos: n(3297),
          children: n(1666),
          // Not "ns": i18next reads that option as a namespace.
          countWbs: n(174),
          countNs: n(235),
          countAlgs: n(51),
          countNonGs: n(1206),
          model: formatPercent(0.848),
          doctor: formatPercent(0.7),
        })}
      </p>
      <p className="hint">{t('method.caveat')}</p>
    </section>
  );
}
