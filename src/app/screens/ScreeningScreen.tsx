import { useCallback, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { toNchwFloat32 } from '../../pipeline/preprocess';
import { ScreeningError } from '../../screening/errors';
import { decodePhoto, type DecodedPhoto } from '../../screening/photo';
import { alignFromPhoto, cropToCanvas, findFaces, type FacesFound } from '../../screening/screen-photo';
import { useEngine } from '../engine';
import type { ScreeningResult } from '../screening-state';
import { PhotoPicker } from '../components/PhotoPicker';
import { FaceOverlay } from '../components/FaceOverlay';
import { ResultView } from '../components/ResultView';
import { SaveCaseForm } from '../records/SaveCaseForm';

type Work = { kind: 'idle' } | { kind: 'working'; step: string } | { kind: 'error'; message: string } | { kind: 'result'; result: ScreeningResult };

export function ScreeningScreen() {
  const { t } = useTranslation('screening');
  const engine = useEngine();
  const { model } = engine;
  const photo = useRef<{ decoded: DecodedPhoto; found: FacesFound; decodeMs: number; file: File } | null>(null);
  const [work, setWork] = useState<Work>({ kind: 'idle' });

  const screenFace = useCallback(
    async (index: number, pickedByUser: boolean) => {
      const current = photo.current;
      if (!current || model.status !== 'ready') throw new ScreeningError('model-not-ready');
      const { decoded, found, decodeMs } = current;
      const t0 = performance.now();
      const aligned = alignFromPhoto(decoded, found.faces[index]!);
      const input = toNchwFloat32(aligned.crop, model.ready.manifest.normalization);
      const alignMs = performance.now() - t0;
      let out;
      try {
        out = await engine.client.classify(input, 1);
      } catch (e) {
        throw new ScreeningError('inference-failed', (e as Error).message);
      }
      const totalMs = decodeMs + found.detectMs + (performance.now() - t0);
      setWork({
        kind: 'result',
        result: {
          photoName: decoded.name,
          preview: found.preview,
          previewScale: found.previewScale,
          faces: found.faces,
          chosenFace: index,
          pickedByUser,
          crop: cropToCanvas(aligned.crop),
          probabilities: Array.from(out.probabilities),
          timings: { decodeMs, detectMs: found.detectMs, alignMs, inferenceMs: out.inferenceMs, totalMs },
        },
      });
    },
    [model, engine.client],
  );

  const fail = (e: unknown) =>
    setWork({
      kind: 'error',
      message: e instanceof ScreeningError ? t(`errors.${e.code}`) : t('somethingWrong', { ns: 'common', message: (e as Error).message ?? String(e) }),
    });

  const onPhoto = async (file: File) => {
    photo.current?.decoded.bitmap.close();
    photo.current = null;
    try {
      setWork({ kind: 'working', step: t('working.reading') });
      const t0 = performance.now();
      const decoded = await decodePhoto(file);
      const decodeMs = performance.now() - t0;
      setWork({ kind: 'working', step: t('working.detecting') });
      const found = findFaces(decoded, await engine.detector);
      photo.current = { decoded, found, decodeMs, file };
      setWork({ kind: 'working', step: t('working.screening') });
      await screenFace(0, false);
    } catch (e) {
      fail(e);
    }
  };

  const ready = model.status === 'ready';
  return (
    <>
      <PhotoPicker onPhoto={onPhoto} disabled={!ready || work.kind === 'working'} />
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
        <>
          <FaceOverlay
            preview={work.result.preview}
            previewScale={work.result.previewScale}
            faces={work.result.faces}
            chosen={work.result.chosenFace}
            onChoose={(i) => i !== work.result.chosenFace && screenFace(i, true).catch(fail)}
          />
          <ResultView result={work.result} model={model.ready} />
          <SaveCaseForm result={work.result} model={model.ready} original={photo.current?.file ?? null} />
        </>
      )}
    </>
  );
}
