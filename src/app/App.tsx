import { useCallback, useEffect, useRef, useState } from 'react';
import { InferenceClient, InferenceError, type LoadProgress } from '../inference/client';
import type { BackendPreference, ModelReady } from '../inference/protocol';
import { toNchwFloat32 } from '../pipeline/preprocess';
import { ScreeningError } from '../screening/errors';
import { FacesInPhoto } from '../screening/face-detector';
import { decodePhoto, type DecodedPhoto } from '../screening/photo';
import { alignFromPhoto, cropToCanvas, findFaces, type FacesFound } from '../screening/screen-photo';
import { inferenceErrorText, screeningErrorText } from './messages';
import { faceChoiceText, type ScreeningResult } from './screening-state';
import { ScreeningNotice } from './components/Notice';
import { PhotoPicker } from './components/PhotoPicker';
import { FaceOverlay } from './components/FaceOverlay';
import { ResultView } from './components/ResultView';

type ModelState = { status: 'loading'; progress?: LoadProgress } | { status: 'ready'; ready: ModelReady } | { status: 'error'; message: string };
type Work = { kind: 'idle' } | { kind: 'working'; step: string } | { kind: 'error'; message: string } | { kind: 'result'; result: ScreeningResult };

/** Developer options for tests and demos: ?model=<folder id>&backend=auto|webgpu|wasm */
function launchOptions(): { modelBaseUrl: string; backend: BackendPreference } {
  const q = new URLSearchParams(location.search);
  const model = q.get('model') ?? 'demo';
  const backend = q.get('backend');
  return {
    modelBaseUrl: `/models/${/^[a-z0-9-]+$/.test(model) ? model : 'demo'}/`,
    backend: backend === 'webgpu' || backend === 'wasm' ? backend : 'auto',
  };
}

export function App() {
  const client = useRef<InferenceClient | null>(null);
  const detector = useRef<Promise<FacesInPhoto> | null>(null);
  const photo = useRef<{ decoded: DecodedPhoto; found: FacesFound; decodeMs: number } | null>(null);
  const [model, setModel] = useState<ModelState>({ status: 'loading' });
  const [work, setWork] = useState<Work>({ kind: 'idle' });

  // The model session and the face detector start with the app, not with the first photo.
  useEffect(() => {
    const c = new InferenceClient();
    client.current = c;
    const { modelBaseUrl, backend } = launchOptions();
    c.load(modelBaseUrl, backend, (progress) => setModel({ status: 'loading', progress }))
      .then((ready) => setModel({ status: 'ready', ready }))
      .catch((e: unknown) =>
        setModel({ status: 'error', message: e instanceof InferenceError ? `${inferenceErrorText[e.code]} (${e.message})` : String(e) }),
      );
    detector.current = FacesInPhoto.create();
    detector.current.catch(() => undefined);
    return () => {
      c.terminate();
      void detector.current?.then((d) => d.close());
    };
  }, []);

  const screenFace = useCallback(
    async (index: number, pickedByUser: boolean) => {
      const current = photo.current;
      const c = client.current;
      if (!current || !c || model.status !== 'ready') throw new ScreeningError('model-not-ready');
      const { decoded, found, decodeMs } = current;
      const t0 = performance.now();
      const aligned = alignFromPhoto(decoded, found.faces[index]!);
      const input = toNchwFloat32(aligned.crop, model.ready.manifest.normalization);
      const alignMs = performance.now() - t0;
      let out;
      try {
        out = await c.classify(input, 1);
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
          faceChoiceText: faceChoiceText(found.faces.length, index, pickedByUser),
          crop: cropToCanvas(aligned.crop),
          probabilities: Array.from(out.probabilities),
          timings: { decodeMs, detectMs: found.detectMs, alignMs, inferenceMs: out.inferenceMs, totalMs },
        },
      });
    },
    [model],
  );

  const fail = (e: unknown) =>
    setWork({ kind: 'error', message: e instanceof ScreeningError ? screeningErrorText[e.code] : `Something went wrong: ${(e as Error).message ?? e}` });

  const onPhoto = async (file: File) => {
    photo.current?.decoded.bitmap.close();
    photo.current = null;
    try {
      setWork({ kind: 'working', step: 'Reading the photo…' });
      const t0 = performance.now();
      const decoded = await decodePhoto(file);
      const decodeMs = performance.now() - t0;
      setWork({ kind: 'working', step: 'Finding the face…' });
      const found = findFaces(decoded, await detector.current!);
      photo.current = { decoded, found, decodeMs };
      setWork({ kind: 'working', step: 'Screening…' });
      await screenFace(0, false);
    } catch (e) {
      fail(e);
    }
  };

  const ready = model.status === 'ready';
  const busy = work.kind === 'working';
  return (
    <div className="app">
      <header className="app-header">
        <h1>Facies</h1>
        <p className="tagline">Facial screening aid for Williams–Beuren, Noonan and Alagille syndromes in children with pulmonary stenosis</p>
      </header>
      <ScreeningNotice manifest={ready ? model.ready.manifest : undefined} />
      <main>
        <ModelStatus model={model} />
        <PhotoPicker onPhoto={onPhoto} disabled={!ready || busy} />
        {busy && (
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
          </>
        )}
      </main>
      <footer className="app-footer">Runs entirely on this device: no photo, result or record leaves it.</footer>
    </div>
  );
}

function ModelStatus({ model }: { model: ModelState }) {
  if (model.status === 'error')
    return (
      <div className="error" role="alert" data-testid="model-error">
        {model.message}
      </div>
    );
  if (model.status === 'ready') {
    const { manifest, backend, timings } = model.ready;
    return (
      <p className="model-status" data-testid="model-ready" data-session-ms={timings.sessionMs}>
        Model ready: {manifest.name} {manifest.version} on {backend.ep === 'webgpu' ? 'WebGPU' : `WASM (${backend.threads} thread${backend.threads === 1 ? '' : 's'})`}
      </p>
    );
  }
  const p = model.progress;
  const label =
    p?.stage === 'download' && p.total
      ? `Downloading the model… ${(p.loaded! / 1048576).toFixed(0)} of ${(p.total / 1048576).toFixed(0)} MB`
      : p?.stage === 'verify'
        ? 'Checking the model’s integrity…'
        : p?.stage === 'session'
          ? 'Starting the model…'
          : p?.stage === 'self-test'
            ? 'Running the model’s self-test…'
            : 'Loading the model…';
  return (
    <div className="model-status" role="status" aria-live="polite" data-testid="model-loading">
      {label}
      {p?.stage === 'download' && p.total ? <progress max={p.total} value={p.loaded} /> : <progress />}
    </div>
  );
}
