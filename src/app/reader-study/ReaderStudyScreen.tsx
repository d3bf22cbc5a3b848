// Reader study: a clinician answers for each photo of a locally loaded, consented, labelled set before seeing the
// model's answer; at the end both are scored on the same photos. Everything stays in this page's memory.
import { Fragment, useEffect, useRef, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { formatPercent } from '../../i18n';
import type { ModelManifest } from '../../model/manifest';
import { ANSWER_KEY_NAME, AnswerKeyError, buildStudySet, shuffled, type AnswerKeyProblem, type StudyPhoto } from '../../reader-study/answer-key';
import { studyCsv, type StudyAnswer } from '../../reader-study/csv';
import { childAnswers, studyMetrics, type StudyMetrics } from '../../reader-study/metrics';
import { DEFAULT_INFERENCE } from '../../model/manifest';
import { embeddingHead, fuse, FusionError } from '../../screening/fusion';
import { useEngine } from '../engine';
import { modelAnswer, type ModelAnswer } from './run-model';

type Stage =
  | { kind: 'setup' }
  | { kind: 'running'; photos: StudyPhoto<File>[]; index: number; answers: StudyAnswer[]; readerAnswer: string | null; shownAt: number }
  | { kind: 'done'; photos: StudyPhoto<File>[]; answers: StudyAnswer[] };

export default function ReaderStudyScreen() {
  const { t } = useTranslation('readerStudy');
  const engine = useEngine();
  const [stage, setStage] = useState<Stage>({ kind: 'setup' });
  const [reader, setReader] = useState('');
  const model = useRef(new Map<string, Promise<ModelAnswer>>());

  if (engine.model.status !== 'ready')
    return (
      <section className="reader-study card" aria-labelledby="study-title">
        <h2 id="study-title">{t('title')}</h2>
        <p role="status">{t('waitingForModel')}</p>
      </section>
    );
  const manifest = engine.model.ready.manifest;

  const start = (photos: StudyPhoto<File>[]) => {
    model.current.clear();
    // The model works through the set in the background, in the order shown, one photo at a time.
    let chain: Promise<unknown> = Promise.resolve();
    for (const p of photos) {
      const answer = chain.then(() => modelAnswer(engine, p.file));
      model.current.set(p.name, answer);
      chain = answer;
    }
    setStage({ kind: 'running', photos, index: 0, answers: [], readerAnswer: null, shownAt: performance.now() });
  };

  return (
    <section className="reader-study card" aria-labelledby="study-title" data-testid="reader-study">
      <h2 id="study-title">{t('title')}</h2>
      {stage.kind === 'setup' && <StudySetup manifest={manifest} reader={reader} onReader={setReader} onStart={start} />}
      {stage.kind === 'running' && (
        <StudyQuestion
          key={stage.index}
          manifest={manifest}
          stage={stage}
          modelAnswer={model.current.get(stage.photos[stage.index]!.name)!}
          onAnswer={(readerAnswer) => setStage({ ...stage, readerAnswer })}
          onNext={(answer) => {
            const answers = [...stage.answers, answer];
            if (answers.length === stage.photos.length) setStage({ kind: 'done', photos: stage.photos, answers });
            else setStage({ ...stage, index: stage.index + 1, answers, readerAnswer: null, shownAt: performance.now() });
          }}
        />
      )}
      {stage.kind === 'done' && (
        <StudyResults
          manifest={manifest}
          reader={reader}
          answers={stage.answers}
          onRestart={() => {
            model.current.clear();
            setStage({ kind: 'setup' });
          }}
        />
      )}
    </section>
  );
}

function StudySetup({
  manifest,
  reader,
  onReader,
  onStart,
}: {
  manifest: ModelManifest;
  reader: string;
  onReader: (r: string) => void;
  onStart: (photos: StudyPhoto<File>[]) => void;
}) {
  const { t } = useTranslation('readerStudy');
  const [set, setSet] = useState<StudyPhoto<File>[] | null>(null);
  const [problems, setProblems] = useState<AnswerKeyProblem[]>([]);
  const [consent, setConsent] = useState(false);
  const [shuffle, setShuffle] = useState(true);

  const load = async (list: FileList | null) => {
    setSet(null);
    setProblems([]);
    if (!list?.length) return;
    const files = [...list].map((file) => ({ file, name: file.webkitRelativePath || file.name }));
    const key = files.find((f) => f.file.name.toLowerCase() === ANSWER_KEY_NAME);
    try {
      setSet(buildStudySet(files, key ? await key.file.text() : null, manifest.classes, key?.name));
    } catch (e) {
      setProblems(e instanceof AnswerKeyError ? e.problems : [{ code: 'no-photos' }]);
    }
  };
  const canStart = set !== null && consent && reader.trim().length > 0;
  return (
    <form
      className="study-setup"
      onSubmit={(e) => {
        e.preventDefault();
        if (canStart) onStart(shuffle ? shuffled(set) : set);
      }}
    >
      <p>{t('intro')}</p>
      <label className="field">
        <span>{t('reader')}</span>
        <input type="text" value={reader} onChange={(e) => onReader(e.currentTarget.value)} autoComplete="off" data-testid="study-reader" />
      </label>
      <fieldset className="study-files">
        <legend>{t('set.title')}</legend>
        <p className="hint">{t('set.format', { file: ANSWER_KEY_NAME })}</p>
        <label className="field">
          <span>{t('set.folder')}</span>
          <input type="file" {...{ webkitdirectory: '' }} multiple onChange={(e) => void load(e.currentTarget.files)} data-testid="study-folder" />
        </label>
        <label className="field">
          <span>{t('set.files')}</span>
          <input type="file" multiple accept={`image/*,.csv,text/csv`} onChange={(e) => void load(e.currentTarget.files)} data-testid="study-files" />
        </label>
      </fieldset>
      {set && (
        <p role="status" data-testid="study-loaded" data-count={set.length}>
          {t('set.loaded', { count: set.length })}
        </p>
      )}
      {problems.length > 0 && (
        <div className="error" role="alert" data-testid="study-problems">
          <p>{t('problems.title')}</p>
          <ul>
            {problems.slice(0, 10).map((p, i) => (
              <li key={i}>{t(`problems.${p.code}`, { ...p, file: ANSWER_KEY_NAME })}</li>
            ))}
          </ul>
          {problems.length > 10 && <p>{t('problems.more', { count: problems.length - 10 })}</p>}
        </div>
      )}
      <label className="check">
        <input type="checkbox" checked={consent} onChange={(e) => setConsent(e.currentTarget.checked)} data-testid="study-consent" />
        <span>{t('consent')}</span>
      </label>
      <label className="check">
        <input type="checkbox" checked={shuffle} onChange={(e) => setShuffle(e.currentTarget.checked)} data-testid="study-shuffle" />
        <span>{t('shuffle')}</span>
      </label>
      <button type="submit" disabled={!canStart} data-testid="study-start">
        {t('start')}
      </button>
      <p className="hint">{t('privacy')}</p>
    </form>
  );
}

function StudyQuestion({
  manifest,
  stage,
  modelAnswer,
  onAnswer,
  onNext,
}: {
  manifest: ModelManifest;
  stage: Extract<Stage, { kind: 'running' }>;
  modelAnswer: Promise<ModelAnswer>;
  onAnswer: (classId: string) => void;
  onNext: (answer: StudyAnswer) => void;
}) {
  const { t, i18n } = useTranslation('readerStudy');
  const photo = stage.photos[stage.index]!;
  const [url, setUrl] = useState<string | null>(null);
  const [readerMs, setReaderMs] = useState(0);
  const [model, setModel] = useState<ModelAnswer | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    const u = URL.createObjectURL(photo.file);
    setUrl(u);
    heading.current?.focus();
    return () => URL.revokeObjectURL(u);
  }, [photo.file]);
  useEffect(() => {
    if (stage.readerAnswer === null) return;
    let live = true;
    void modelAnswer.then((m) => live && setModel(m));
    return () => {
      live = false;
    };
  }, [stage.readerAnswer, modelAnswer]);
  const name = (id: string | null) => {
    const c = manifest.classes.find((c) => c.id === id);
    return c ? (c.displayName[i18n.language] ?? c.displayName.en) : t('noFace');
  };
  return (
    <div className="study-question" data-testid="study-question" data-photo={photo.name}>
      <h3 ref={heading} tabIndex={-1}>
        {t('progress', { n: stage.index + 1, total: stage.photos.length })}
      </h3>
      <progress max={stage.photos.length} value={stage.index} aria-hidden="true" />
      {url && <img className="study-photo" src={url} alt={t('photoAlt', { n: stage.index + 1 })} />}
      <fieldset className="study-answers" disabled={stage.readerAnswer !== null}>
        <legend>{t('question')}</legend>
        {manifest.classes.map((c) => (
          <button
            key={c.id}
            type="button"
            aria-pressed={stage.readerAnswer === c.id}
            className={stage.readerAnswer === c.id ? 'chosen' : 'secondary'}
            onClick={() => {
              setReaderMs(performance.now() - stage.shownAt);
              onAnswer(c.id);
            }}
            data-testid={`study-answer-${c.id}`}
          >
            {c.displayName[i18n.language] ?? c.displayName.en}
          </button>
        ))}
      </fieldset>
      {stage.readerAnswer !== null && (
        <div className="study-reveal" role="status" aria-live="polite">
          {model === null ? (
            <p>{t('modelWorking')}</p>
          ) : (
            <>
              <p data-testid="study-model-answer" data-class={model.classId ?? 'none'}>
                {t('yourAnswer', { answer: name(stage.readerAnswer) })} {t('modelAnswer', { answer: name(model.classId) })}
                {model.classId && ` (${formatPercent(Math.max(...model.probabilities))})`}
              </p>
              <button
                type="button"
                data-testid="study-next"
                onClick={() =>
                  onNext({
                    photo: photo.name,
                    truth: photo.truth,
                    reader: stage.readerAnswer!,
                    model: model.classId,
                    probabilities: model.probabilities,
                    ...(model.embedding && { embedding: model.embedding }),
                    readerMs,
                    ...(photo.patient && { patient: photo.patient }),
                  })
                }
              >
                {stage.index + 1 === stage.photos.length ? t('finish') : t('next')}
              </button>
            </>
          )}
        </div>
      )}
    </div>
  );
}

function StudyResults({ manifest, reader, answers, onRestart }: { manifest: ModelManifest; reader: string; answers: StudyAnswer[]; onRestart: () => void }) {
  const { t, i18n } = useTranslation('readerStudy');
  const ids = manifest.classes.map((c) => c.id);
  const truth = answers.map((a) => a.truth);
  const readerM = studyMetrics(
    ids,
    truth,
    answers.map((a) => a.reader),
  );
  const modelM = studyMetrics(
    ids,
    truth,
    answers.map((a) => a.model),
  );
  // With patient ids, each child is scored once: the reader's majority answer, the model's fusion of its photos by the
  // manifest's rule (a child whose photos cannot be fused that way, e.g. without embeddings, gets no model answer).
  const rule = manifest.inference?.fusion ?? DEFAULT_INFERENCE.fusion;
  const children = answers.some((a) => a.patient)
    ? childAnswers(ids, answers, (ps) => {
        try {
          return fuse(ps, rule, embeddingHead(manifest));
        } catch (e) {
          if (e instanceof FusionError) return null;
          throw e;
        }
      })
    : null;
  const perChild = children && {
    children: children.length,
    reader: studyMetrics(
      ids,
      children.map((c) => c.truth),
      children.map((c) => c.reader),
    ),
    model: studyMetrics(
      ids,
      children.map((c) => c.truth),
      children.map((c) => c.model),
    ),
  };
  const pct = (x: number | null) => (x === null ? '—' : formatPercent(x));
  const f1 = (x: number | null) => (x === null ? '—' : new Intl.NumberFormat(i18n.language, { minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(x));
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  const exportCsv = () => {
    const date = new Date().toISOString().slice(0, 10);
    const csv = studyCsv({
      reader,
      date,
      modelName: `${manifest.name} ${manifest.version}`,
      classIds: ids,
      answers,
      readerMetrics: readerM,
      modelMetrics: modelM,
      ...(perChild && { perChild }),
    });
    const a = document.createElement('a');
    a.href = URL.createObjectURL(new Blob([csv], { type: 'text/csv;charset=utf-8' }));
    a.download = `reader-study-${reader.trim().replace(/[^\p{L}\p{N}_-]+/gu, '_')}-${date}.csv`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
  };
  const row = (label: string, testId: string, r: number | null, m: number | null, fmt: (x: number | null) => string) => (
    <tr>
      <th scope="row">{label}</th>
      <td data-testid={`${testId}-reader`} data-value={r ?? ''}>
        {fmt(r)}
      </td>
      <td data-testid={`${testId}-model`} data-value={m ?? ''}>
        {fmt(m)}
      </td>
    </tr>
  );
  const className = (i: number) => manifest.classes[i]!.displayName[i18n.language] ?? manifest.classes[i]!.displayName.en;
  /** The reader's and the model's figures side by side, per photo (prefix "study") or per child ("study-child"). */
  const metricsTable = (caption: ReactNode, prefix: string, r: StudyMetrics, m: StudyMetrics) => (
    <table>
      {caption}
      <thead>
        <tr>
          <th scope="col">{t('results.metric')}</th>
          <th scope="col">{t('results.reader', { reader })}</th>
          <th scope="col">{t('results.model')}</th>
        </tr>
      </thead>
      <tbody>
        {row(t('results.accuracy'), `${prefix}-accuracy`, r.accuracy, m.accuracy, pct)}
        {row(t('results.macroF1'), `${prefix}-macro-f1`, r.macroF1, m.macroF1, f1)}
        {ids.map((id, i) => (
          <Fragment key={id}>
            {row(t('results.recall', { name: className(i) }), `${prefix}-recall-${id}`, r.perClass[i]!.recall, m.perClass[i]!.recall, pct)}
            {row(t('results.f1', { name: className(i) }), `${prefix}-f1-${id}`, r.perClass[i]!.f1, m.perClass[i]!.f1, f1)}
          </Fragment>
        ))}
      </tbody>
    </table>
  );
  return (
    <div className="study-results" data-testid="study-results">
      <h3 ref={heading} tabIndex={-1}>
        {t('results.title', { reader, count: answers.length })}
      </h3>
      {manifest.demonstration && <p className="result-demo">{t('results.demo')}</p>}
      <div className="table-scroll">{metricsTable(<caption className="visually-hidden">{t('results.caption')}</caption>, 'study', readerM, modelM)}</div>
      {perChild && (
        <div className="table-scroll" data-testid="study-per-child" data-children={perChild.children}>
          {metricsTable(<caption>{t('results.perChild', { count: perChild.children })}</caption>, 'study-child', perChild.reader, perChild.model)}
          <p className="hint">{t('results.perChildHow', { rule: t(`childPhotos.rules.${rule}`, { ns: 'screening' }) })}</p>
        </div>
      )}
      <Unanswered metrics={modelM} />
      <div className="actions">
        <button type="button" onClick={exportCsv} data-testid="study-export">
          {t('results.export')}
        </button>
        <button type="button" className="secondary" onClick={onRestart} data-testid="study-restart">
          {t('results.restart')}
        </button>
      </div>
    </div>
  );
}

function Unanswered({ metrics }: { metrics: StudyMetrics }) {
  const { t } = useTranslation('readerStudy');
  if (!metrics.unanswered) return null;
  return <p className="hint">{t('results.unanswered', { count: metrics.unanswered })}</p>;
}
