import { useCallback, useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { alignFace } from '../../pipeline/align';
import { liveGuidance, type LiveGuidance } from '../../pipeline/live-guidance';
import { blurSigma } from '../../pipeline/quality';
import { useEngine } from '../engine';
import './screening.css';

type Facing = 'user' | 'environment';
type CameraError = 'denied' | 'not-found' | 'in-use' | 'insecure' | 'detector' | 'other';

/** Frames analysed per second: enough to feel live, little enough to leave the tablet's CPU for the camera. */
const ANALYSIS_INTERVAL_MS = 150;

function cameraError(e: unknown): CameraError {
  const name = (e as { name?: string }).name;
  if (name === 'NotAllowedError' || name === 'SecurityError') return 'denied';
  if (name === 'NotFoundError' || name === 'OverconstrainedError') return 'not-found';
  if (name === 'NotReadableError' || name === 'AbortError') return 'in-use';
  return 'other';
}

/**
 * Live camera guidance: the tablet camera with MediaPipe (VIDEO mode) checking each frame; the shutter is enabled
 * when the face is centred, close enough, frontal and sharp, with an override for children who cannot comply.
 */
export function CameraGuide({ onCapture, onClose }: { onCapture: (photo: File) => void; onClose: () => void }) {
  const { t } = useTranslation('camera');
  const video = useRef<HTMLVideoElement>(null);
  // The app's one face finder: it switches its MediaPipe graph to video mode here (no second graph in memory).
  const { detector } = useEngine();
  const [facing, setFacing] = useState<Facing>('user');
  const [live, setLive] = useState(false);
  const [guidance, setGuidance] = useState<LiveGuidance | null>(null);
  const [error, setError] = useState<{ code: CameraError; message: string } | null>(null);

  // The stream for the chosen camera; stopped when switching or closing.
  useEffect(() => {
    if (!navigator.mediaDevices?.getUserMedia) {
      setError({ code: 'insecure', message: '' });
      return;
    }
    let stream: MediaStream | null = null;
    let stopped = false;
    setLive(false);
    setGuidance(null); // the other camera's checks say nothing about this one
    navigator.mediaDevices
      .getUserMedia({ video: { facingMode: { ideal: facing }, width: { ideal: 1920 }, height: { ideal: 1080 } }, audio: false })
      .then(async (s) => {
        if (stopped) return s.getTracks().forEach((tr) => tr.stop());
        stream = s;
        const v = video.current!;
        v.srcObject = s;
        await v.play();
        setError(null);
        setLive(true);
      })
      .catch((e: unknown) => !stopped && setError({ code: cameraError(e), message: (e as Error).message ?? String(e) }));
    return () => {
      stopped = true;
      stream?.getTracks().forEach((tr) => tr.stop());
    };
  }, [facing]);

  // Analyse frames while the stream is live.
  useEffect(() => {
    if (!live) return;
    let timer = 0;
    let stopped = false;
    const frame = document.createElement('canvas');
    const tick = async () => {
      const v = video.current;
      let faces;
      try {
        faces = v && v.readyState >= 2 ? await (await detector).detectForVideo(v, performance.now()) : null;
      } catch (e) {
        if (!stopped) setError({ code: 'detector', message: (e as Error).message });
        return;
      }
      if (stopped) return;
      if (v && faces) {
        const size = { width: v.videoWidth, height: v.videoHeight };
        let blur: number | undefined;
        if (faces.length === 1) {
          frame.width = size.width;
          frame.height = size.height;
          const ctx = frame.getContext('2d', { willReadFrequently: true })!;
          ctx.drawImage(v, 0, 0);
          const aligned = alignFace(ctx.getImageData(0, 0, size.width, size.height), faces[0]!.keypoints);
          blur = blurSigma(aligned.crop);
        }
        setGuidance(liveGuidance(faces, size, blur));
      }
      timer = window.setTimeout(() => void tick(), ANALYSIS_INTERVAL_MS);
    };
    void tick();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [live, detector]);

  const capture = useCallback(() => {
    const v = video.current;
    if (!v) return;
    const canvas = document.createElement('canvas');
    canvas.width = v.videoWidth;
    canvas.height = v.videoHeight;
    canvas.getContext('2d')!.drawImage(v, 0, 0);
    canvas.toBlob(
      (blob) => blob && onCapture(new File([blob], `camera-${new Date().toISOString().replace(/[:.]/g, '-')}.jpg`, { type: 'image/jpeg' })),
      'image/jpeg',
      0.95,
    );
  }, [onCapture]);

  const ready = live && !!guidance?.ready;
  return (
    <section className="camera" aria-labelledby="camera-title" data-testid="camera" data-facing={facing}>
      <h2 id="camera-title">{t('title')}</h2>
      <p className="hint">{t('intro')}</p>
      {error ? (
        <p className="error" role="alert" data-testid="camera-error" data-code={error.code}>
          {t(`errors.${error.code}`, { message: error.message })}
        </p>
      ) : (
        !live && <p role="status">{t('starting')}</p>
      )}
      <div className="camera-stage">
        {/* The front camera is shown mirrored, as people expect to see themselves; the photo is not mirrored. */}
        <video ref={video} muted playsInline aria-label={t('video')} className={facing === 'user' ? 'mirrored' : undefined} data-testid="camera-video" />
        <div className={`camera-guide-oval${ready ? ' ready' : ''}`} aria-hidden="true" />
      </div>
      <ul className="camera-checks" aria-live="polite">
        {(guidance?.checks ?? []).map((c) => (
          <li key={c.id} className={c.ok ? 'ok' : undefined} data-testid={`camera-check-${c.id}`} data-ok={c.ok}>
            {t(`checks.${c.id}`)} <span className="visually-hidden">{c.ok ? t('ok') : t('notYet')}</span>
          </li>
        ))}
      </ul>
      <div className="camera-buttons">
        <button type="button" onClick={capture} disabled={!ready} data-testid="camera-shutter">
          {t('shutter')}
        </button>
        <button type="button" className="secondary" onClick={capture} disabled={!live} data-testid="camera-override" title={t('overrideHint')}>
          {t('override')}
        </button>
        <button type="button" className="secondary" onClick={() => setFacing((f) => (f === 'user' ? 'environment' : 'user'))} data-testid="camera-switch">
          {t('switch')} ({t(`facing.${facing === 'user' ? 'environment' : 'user'}`)})
        </button>
        <button type="button" className="secondary" onClick={onClose} data-testid="camera-close">
          {t('close')}
        </button>
      </div>
      <p className="hint">{t('overrideHint')}</p>
    </section>
  );
}
