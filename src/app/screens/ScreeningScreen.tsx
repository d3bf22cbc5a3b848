import { useCallback, useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { toNchwFloat32 } from '../../pipeline/preprocess';
import { ScreeningError } from '../../screening/errors';
import { decodePhoto, type DecodedPhoto } from '../../screening/photo';
import { alignFromPhoto, cropToCanvas, findFaces, type FacesFound } from '../../screening/screen-photo';
import { useEngine } from '../engine';
import type { ScreeningResult } from '../screening-state';
import { photoQuality, ttaBatch, ttaOutcome } from '../../screening/trust';
import type { QualityReport } from '../../pipeline/quality';
import { getSettings, useSettings } from '../../settings/settings';
import { QualityPanel } from '../components/QualityPanel';
import { CameraGuide } from '../components/CameraGuide';
import { PhotoPicker } from '../components/PhotoPicker';
import { FaceOverlay } from '../components/FaceOverlay';
import { ResultView } from '../components/ResultView';
import { SaveCaseForm } from '../records/SaveCaseForm';

type Work = { kind: 'idle' } | { kind: 'working'; step: string } | { kind: 'error'; message: string } | { kind: 'result'; result: ScreeningResult } | { kind: 'gated'; gated: GatedPhoto };

/** A photo the quality gate stopped: shown with its checks until the clinician retakes it or overrides. */
type GatedPhoto = Pick<ScreeningResult, 'photoName' | 'preview' | 'previewScale' | 'faces' | 'chosenFace' | 'pickedByUser' | 'crop'> & { quality: QualityReport };

export function ScreeningScreen() {
  const { t } = useTranslation('screening');
  const engine = useEngine();
  const { model } = engine;
  const photo = useRef<{ decoded: DecodedPhoto; found: FacesFound; decodeMs: number; file: File } | null>(null);
  const [work, setWork] = useState<Work>({ kind: 'idle' });
  const [camera, setCamera] = useState(false);
  const { kiosk } = useSettings();
  /** Closes the decoded photo's bitmap and forgets the photo and its file. */
  const release = useCallback(() => {
    photo.current?.decoded.bitmap.close();
    photo.current = null;
  }, []);
  // Leaving the screen (or a kiosk inactivity reset, which remounts it) frees the photo at once.
  useEffect(() => release, [release]);

  const screenFace = useCallback(
    async (index: number, pickedByUser: boolean, override = false) => {
      const current = photo.current;
      if (!current || model.status !== 'ready') throw new ScreeningError('model-not-ready');
      const { decoded, found, decodeMs } = current;
      const t0 = performance.now();
      const aligned = alignFromPhoto(decoded, found.faces[index]!);
      const quality = photoQuality(decoded, found.faces, index, pickedByUser, aligned);
      const shown = { photoName: decoded.name, preview: found.preview, previewScale: found.previewScale, faces: found.faces, chosenFace: index, pickedByUser, crop: cropToCanvas(aligned.crop) };
      if (quality.overall === 'fail' && !override) return setWork({ kind: 'gated', gated: { ...shown, quality } });
      const flip = getSettings().flipTta;
      const { input, batch } = ttaBatch(toNchwFloat32(aligned.crop, model.ready.manifest.normalization), flip);
      const alignMs = performance.now() - t0;
      let out;
      try {
        out = await engine.client.classify(input, batch);
      } catch (e) {
        throw new ScreeningError('inference-failed', (e as Error).message);
      }
      const totalMs = decodeMs + found.detectMs + (performance.now() - t0);
      const { passes, probabilities } = ttaOutcome(out.probabilities, batch);
      // Conference demo keeps nothing: once the result is on screen, only what it shows stays (preview, crop, numbers).
      if (getSettings().kiosk) release();
      setWork({
        kind: 'result',
        result: {
          ...shown,
          probabilities,
          timings: { decodeMs, detectMs: found.detectMs, alignMs, inferenceMs: out.inferenceMs, totalMs },
          quality: { report: quality, overridden: override && quality.overall === 'fail' },
          tta: { mode: flip ? 'flip' : 'none', passes },
        },
      });
    },
    [model, engine.client, release],
  );

  const fail = (e: unknown) =>
    setWork({
      kind: 'error',
      message: e instanceof ScreeningError ? t(`errors.${e.code}`) : t('somethingWrong', { ns: 'common', message: (e as Error).message ?? String(e) }),
    });

  const onPhoto = async (file: File) => {
    release();
    let decoded: DecodedPhoto | undefined;
    try {
      setWork({ kind: 'working', step: t('working.reading') });
      const t0 = performance.now();
      decoded = await decodePhoto(file);
      const decodeMs = performance.now() - t0;
      setWork({ kind: 'working', step: t('working.detecting') });
      const found = findFaces(decoded, await engine.detector);
      photo.current = { decoded, found, decodeMs, file };
      setWork({ kind: 'working', step: t('working.screening') });
      await screenFace(0, false);
    } catch (e) {
      // A photo without a usable face is not kept; one with faces stays for choosing another face, except in kiosk mode.
      if (!photo.current) decoded?.bitmap.close();
      else if (getSettings().kiosk) release();
      fail(e);
    }
  };

  const ready = model.status === 'ready';
  return (
    <>
      <PhotoPicker onPhoto={onPhoto} disabled={!ready || work.kind === 'working'} />
      {camera ? (
        <CameraGuide
          onCapture={(file) => {
            setCamera(false);
            void onPhoto(file);
          }}
          onClose={() => setCamera(false)}
        />
      ) : (
        <button type="button" className="secondary camera-open" onClick={() => setCamera(true)} disabled={!ready || work.kind === 'working'} data-testid="camera-open">
          {t('open', { ns: 'camera' })}
        </button>
      )}
      {work.kind === 'working' && (
        <p className="working" role="status" aria-live="polite">
          {work.step}
        </p>
      )}
      {work.kind === 'error' && (
        <div className="error" role="alert" data-testid="screening-error">
          {work.message}
        </div>
      )}
      {work.kind === 'result' && ready && (
        // data-photo-held: whether the decoded photo is still in memory (never after a result in kiosk mode).
        <div className="screening-outcome" data-testid="screening-outcome" data-photo-held={photo.current !== null}>
          <FaceOverlay
            preview={work.result.preview}
            previewScale={work.result.previewScale}
            faces={work.result.faces}
            chosen={work.result.chosenFace}
            // Another face needs the full photo, which kiosk mode has already let go.
            onChoose={photo.current ? (i) => i !== work.result.chosenFace && screenFace(i, true).catch(fail) : undefined}
          />
          <ResultView result={work.result} model={model.ready} />
          {!kiosk && <SaveCaseForm result={work.result} model={model.ready} original={photo.current?.file ?? null} />}
        </div>
      )}
      {work.kind === 'gated' && ready && (
        <>
          <FaceOverlay
            preview={work.gated.preview}
            previewScale={work.gated.previewScale}
            faces={work.gated.faces}
            chosen={work.gated.chosenFace}
            onChoose={(i) => i !== work.gated.chosenFace && screenFace(i, true).catch(fail)}
          />
          <QualityPanel
            report={work.gated.quality}
            crop={work.gated.crop}
            blocked
            onOverride={() => screenFace(work.gated.chosenFace, work.gated.pickedByUser, true).catch(fail)}
          />
        </>
      )}
    </>
  );
}
