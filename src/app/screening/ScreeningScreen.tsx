import { useCallback, useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ScreeningError } from '../../screening/errors';
import { analysePhoto, chooseFace, classifyCrop, decode, releasePhoto, ttaFor, type PhotoAnalysis } from '../../screening/pipeline';
import { getSettings, useSettings } from '../../settings/settings';
import { useEngine } from '../engine';
import { drawPreview, type Preview } from './preview';
import { embeddingHead, fuse } from '../../screening/fusion';
import type { ChildFusion, ChildPhoto, ScreeningResult } from './screening-result';
import { ChildPhotos, type PhotoCard } from './ChildPhotos';
import { QualityPanel } from './QualityPanel';
import { CameraGuide } from './CameraGuide';
import { PhotoPicker } from './PhotoPicker';
import { FaceOverlay } from './FaceOverlay';
import { ResultView } from './ResultView';
import { SaveCaseForm } from '../records/SaveCaseForm';
import { onRecordsLocked } from '../records/vault-context';
import { DEFAULT_INFERENCE } from '../../model/manifest';
import type { Provenance } from '../../model/provenance';
import type { ModelReady } from '../../inference/protocol';

/** What the screen shows of an analysed photo before (or without) a result. */
type Shown = Pick<ScreeningResult, 'photoName' | 'preview' | 'previewScale' | 'faces' | 'chosenFace' | 'pickedByUser' | 'crop' | 'turn'> & {
  analysis: PhotoAnalysis;
  override: boolean;
};

type Work =
  | { kind: 'idle' }
  | { kind: 'working'; step: string }
  | { kind: 'error'; message: string }
  /** The quality gate stopped the photo: shown with its checks until the clinician retakes it or overrides. */
  | { kind: 'gated'; shown: Shown }
  /** The photo passed the gate before the model was ready: it is screened as soon as the model is. */
  | { kind: 'waiting'; shown: Shown }
  | { kind: 'result'; result: ScreeningResult };

function shownFrom(analysis: PhotoAnalysis, preview: Preview, photoName: string, override = false): Shown {
  return {
    photoName,
    preview: preview.canvas,
    previewScale: preview.scale,
    faces: analysis.faces,
    chosenFace: analysis.chosenFace,
    pickedByUser: analysis.pickedByUser,
    crop: analysis.aligned.crop,
    turn: analysis.turn,
    analysis,
    override,
  };
}

export function ScreeningScreen() {
  const { t } = useTranslation('screening');
  const engine = useEngine();
  const { model } = engine;
  /** The photo on screen: its analysis (the decoded pixels, for choosing another face), preview and file. */
  const photo = useRef<{ analysis: PhotoAnalysis; preview: Preview; file: File } | null>(null);
  /** Each new photo supersedes whatever an earlier one is still doing. */
  const generation = useRef(0);
  const [work, setWork] = useState<Work>({ kind: 'idle' });
  const [camera, setCamera] = useState(false);
  /** The other photos of the same child added to this screening (none: a one-photo screening, as before). */
  const [extras, setExtras] = useState<ChildPhoto[]>([]);
  const nextExtraKey = useRef(0);
  const { kiosk } = useSettings();
  /** Closes the decoded photo's bitmap and forgets the photo and its file. */
  const release = useCallback(() => {
    if (photo.current) releasePhoto(photo.current.analysis.photo);
    photo.current = null;
  }, []);
  // Leaving the screen (or a kiosk inactivity reset, which remounts it) frees the photo at once.
  useEffect(() => release, [release]);
  // Locking the records ends the consultation on screen too: no photo, crop, result or typed reference is left.
  useEffect(
    () =>
      onRecordsLocked(() => {
        generation.current++;
        release();
        setCamera(false);
        setExtras([]);
        setWork({ kind: 'idle' });
      }),
    [release],
  );

  const fail = useCallback(
    (e: unknown) =>
      setWork({
        kind: 'error',
        message: e instanceof ScreeningError ? t(`errors.${e.code}`) : t('somethingWrong', { ns: 'common', message: (e as Error).message ?? String(e) }),
      }),
    [t],
  );

  /** Runs the model on a photo that passed the gate (or was overridden); waits for the model when it is not ready. */
  const screen = useCallback(
    async (shown: Shown) => {
      const { analysis, override } = shown;
      if (analysis.quality.overall === 'fail' && !override) return setWork({ kind: 'gated', shown });
      if (model.status !== 'ready') return setWork({ kind: 'waiting', shown });
      const mine = generation.current;
      setWork({ kind: 'working', step: t('working.screening') });
      const outcome = await classifyCrop(analysis.aligned.crop, (input, batch) => engine.client.classify(input, batch), {
        normalization: model.ready.manifest.normalization,
        tta: ttaFor(model.ready.manifest, getSettings().flipTta),
      });
      if (mine !== generation.current) return;
      const { decodeMs, detectMs, alignMs } = analysis.timings;
      const result: ScreeningResult = {
        ...shown,
        probabilities: outcome.probabilities,
        ...(outcome.embedding && { embedding: outcome.embedding }),
        timings: { decodeMs, detectMs, alignMs, inferenceMs: outcome.inferenceMs, totalMs: decodeMs + detectMs + alignMs + outcome.inferenceMs },
        quality: { report: analysis.quality, overridden: override && analysis.quality.overall === 'fail' },
        tta: outcome.tta,
      };
      // Conference demo keeps nothing: once the result is on screen, only what it shows stays (preview, crop, numbers).
      if (getSettings().kiosk) release();
      setWork({ kind: 'result', result });
    },
    [model, engine.client, release, t],
  );

  // A photo waiting for the model is screened the moment the model is ready.
  useEffect(() => {
    if (work.kind === 'waiting' && model.status === 'ready') screen(work.shown).catch(fail);
  }, [work, model.status, screen, fail]);

  const pickFace = (index: number) => {
    const current = photo.current;
    if (!current) return;
    try {
      const analysis = chooseFace(current.analysis, index, true);
      photo.current = { ...current, analysis };
      screen(shownFrom(analysis, current.preview, current.file.name)).catch(fail);
    } catch (e) {
      fail(e);
    }
  };

  const onPhoto = async (file: File) => {
    release();
    setExtras([]);
    const mine = ++generation.current;
    try {
      setWork({ kind: 'working', step: t('working.reading') });
      const decoded = await decode(file);
      if (mine !== generation.current) return releasePhoto(decoded.photo);
      setWork({ kind: 'working', step: t('working.detecting') });
      const finder = await engine.detector.catch((e: unknown) => {
        releasePhoto(decoded.photo);
        throw new ScreeningError('detector-unavailable', (e as Error).message);
      });
      const analysis = await analysePhoto(decoded.photo, finder, { decodeMs: decoded.decodeMs });
      if (mine !== generation.current) return releasePhoto(analysis.photo);
      const preview = drawPreview(analysis.photo);
      photo.current = { analysis, preview, file };
      await screen(shownFrom(analysis, preview, file.name));
    } catch (e) {
      if (mine !== generation.current) return;
      // A photo with faces stays for choosing another face, except in kiosk mode.
      if (getSettings().kiosk) release();
      fail(e);
    }
  };

  const updateExtra = (key: number, change: Partial<ChildPhoto>) => setExtras((list) => list.map((x) => (x.key === key ? { ...x, ...change } : x)));

  const classifyExtra = async (key: number, crop: ChildPhoto['crop'] & object) => {
    if (model.status !== 'ready') throw new ScreeningError('model-not-ready');
    const outcome = await classifyCrop(crop, (input, batch) => engine.client.classify(input, batch), {
      normalization: model.ready.manifest.normalization,
      tta: ttaFor(model.ready.manifest, getSettings().flipTta),
    });
    updateExtra(key, { probabilities: outcome.probabilities, embedding: outcome.embedding, tta: outcome.tta, state: 'screened' });
  };

  /** Another photo of the same child: the same pipeline (face, quality gate, TTA); the decoded photo is let go at once. */
  const screenExtra = async (entry: ChildPhoto, mine: number) => {
    try {
      const decoded = await decode(entry.file);
      const finder = await engine.detector.catch((e: unknown) => {
        releasePhoto(decoded.photo);
        throw new ScreeningError('detector-unavailable', (e as Error).message);
      });
      const analysis = await analysePhoto(decoded.photo, finder, { decodeMs: decoded.decodeMs });
      releasePhoto(analysis.photo);
      if (analysis.photo !== decoded.photo) releasePhoto(decoded.photo);
      if (mine !== generation.current) return;
      const crop = analysis.aligned.crop;
      updateExtra(entry.key, { crop, quality: analysis.quality });
      if (analysis.quality.overall === 'fail') return updateExtra(entry.key, { state: 'gated' });
      await classifyExtra(entry.key, crop);
    } catch (e) {
      if (mine !== generation.current) return;
      const message = e instanceof ScreeningError ? t(`errors.${e.code}`) : t('somethingWrong', { ns: 'common', message: (e as Error).message ?? String(e) });
      updateExtra(entry.key, { state: 'error', message });
    }
  };

  const addPhotos = async (files: File[]) => {
    const mine = generation.current;
    const added = files.map((file): ChildPhoto => ({ key: ++nextExtraKey.current, file, name: file.name, state: 'working', overridden: false }));
    setExtras((list) => [...list, ...added]);
    // One at a time: the worker runs one batch at a time anyway, and only one decoded photo is in memory.
    for (const entry of added) await screenExtra(entry, mine);
  };

  const includeAnyway = (key: number) => {
    const entry = extras.find((x) => x.key === key);
    if (!entry?.crop) return;
    updateExtra(key, { overridden: true, state: 'working' });
    classifyExtra(key, entry.crop).catch((e: unknown) =>
      updateExtra(key, { state: 'error', message: t('somethingWrong', { ns: 'common', message: (e as Error).message ?? String(e) }) }),
    );
  };

  const busy = work.kind === 'working';
  const shown = work.kind === 'gated' || work.kind === 'waiting' ? work.shown : null;
  return (
    <>
      <PhotoPicker onPhoto={(file) => void onPhoto(file)} disabled={busy} />
      {camera ? (
        <CameraGuide
          onCapture={(file) => {
            setCamera(false);
            void onPhoto(file);
          }}
          onClose={() => setCamera(false)}
        />
      ) : (
        <button type="button" className="secondary camera-open" onClick={() => setCamera(true)} disabled={busy} data-testid="camera-open">
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
      {work.kind === 'result' && model.status === 'ready' && (
        <Outcome
          result={work.result}
          extras={extras}
          model={model.ready}
          provenance={model.provenance}
          photoHeld={photo.current !== null}
          original={photo.current?.file ?? null}
          kiosk={kiosk}
          onChoose={photo.current ? (i) => i !== work.result.chosenFace && pickFace(i) : undefined}
          onAdd={(files) => void addPhotos(files)}
          onInclude={includeAnyway}
          onRemove={(key) => setExtras((list) => list.filter((x) => x.key !== key))}
        />
      )}
      {shown && (
        <>
          {work.kind === 'waiting' && (
            <p className="working" role="status" aria-live="polite" data-testid="screening-waiting">
              {model.status === 'error' ? t('waiting.modelFailed') : t('waiting.forModel')}
            </p>
          )}
          <FaceOverlay
            preview={shown.preview}
            previewScale={shown.previewScale}
            faces={shown.faces}
            chosen={shown.chosenFace}
            turn={shown.turn}
            onChoose={(i) => i !== shown.chosenFace && pickFace(i)}
          />
          <QualityPanel
            report={shown.analysis.quality}
            crop={shown.crop}
            blocked={work.kind === 'gated'}
            overridden={shown.override}
            onOverride={work.kind === 'gated' ? () => void screen({ ...shown, override: true }).catch(fail) : undefined}
          />
        </>
      )}
    </>
  );
}

/** The result on screen: the child's (fused when there are several photos), the photos, and the save form. */
function Outcome(props: {
  result: ScreeningResult;
  extras: ChildPhoto[];
  model: ModelReady;
  provenance: Provenance;
  photoHeld: boolean;
  original: File | null;
  kiosk: boolean;
  onChoose?: (index: number) => void;
  onAdd: (files: File[]) => void;
  onInclude: (key: number) => void;
  onRemove: (key: number) => void;
}) {
  const { t } = useTranslation('screening');
  const { result, extras, model, provenance } = props;
  const rule = model.manifest.inference?.fusion ?? DEFAULT_INFERENCE.fusion;
  const cards: PhotoCard[] = [
    {
      key: 0,
      name: result.photoName,
      state: 'screened',
      crop: result.crop,
      quality: result.quality.report,
      overridden: result.quality.overridden,
      probabilities: result.probabilities,
      inferenceMs: result.timings.inferenceMs / result.tta.passes.length,
      included: true,
    },
    ...extras.map((x) => ({ ...x, inferenceMs: result.timings.inferenceMs / result.tta.passes.length, included: x.state === 'screened' })),
  ];
  const included = [
    { probabilities: result.probabilities, embedding: result.embedding },
    ...extras.filter((x) => x.state === 'screened').map((x) => ({ probabilities: x.probabilities!, embedding: x.embedding })),
  ];
  let shown = result;
  let fusion: ChildFusion | undefined;
  let unsupported = false;
  if (extras.length > 0) {
    // mean-embedding needs every photo's embedding and the head: a model without them cannot be fused that way.
    const head = rule === 'mean-embedding' ? embeddingHead(model.manifest) : undefined;
    if (rule === 'mean-embedding' && (!head || included.some((c) => !c.embedding))) unsupported = true;
    else {
      shown = { ...result, probabilities: fuse(included, rule, head) };
      fusion = { rule, photos: cards.length, included: included.length };
    }
  }
  const pending = extras.some((x) => x.state === 'working');
  return (
    // data-photo-held: whether the decoded photo is still in memory (never after a result in kiosk mode).
    <div className="screening-outcome" data-testid="screening-outcome" data-photo-held={props.photoHeld}>
      <FaceOverlay
        preview={result.preview}
        previewScale={result.previewScale}
        faces={result.faces}
        chosen={result.chosenFace}
        turn={result.turn}
        onChoose={props.onChoose}
      />
      {unsupported && (
        <p className="error" role="alert" data-testid="fusion-unsupported">
          {t('childPhotos.embeddingUnsupported')}
        </p>
      )}
      <ResultView result={shown} model={model} provenance={provenance} fusion={fusion} />
      {!props.kiosk && <ChildPhotos cards={cards} model={model} onAdd={props.onAdd} onInclude={props.onInclude} onRemove={props.onRemove} />}
      {!props.kiosk && (
        <SaveCaseForm
          result={result}
          model={model}
          provenance={provenance}
          original={props.original}
          child={
            fusion && !pending
              ? { fusion, probabilities: shown.probabilities, extras: extras.filter((x) => x.state === 'screened' || x.state === 'gated') }
              : undefined
          }
          pending={pending || unsupported}
        />
      )}
    </div>
  );
}
