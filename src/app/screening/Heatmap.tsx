import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { formatMs, formatPercent } from '../../i18n';
import { InferenceError, type Explanation } from '../../inference/client';
import type { ModelReady } from '../../inference/protocol';
import { heatmapRgba, maxAbs, occlusionGrid, sensitivityMap } from '../../pipeline/occlusion';
import type { RgbaImage } from '../../pipeline/image';
import { toNchwFloat32 } from '../../pipeline/preprocess';
import { useEngine } from '../engine';
import { backendLabel } from '../models/BackendName';
import './screening.css';

const GRID = occlusionGrid();
/** Crops per model run: larger batches amortise per-run overhead on a GPU; on WASM memory matters more. */
const BATCH = { webgpu: 16, wasm: 8 } as const;

/** "40 seconds", "3 minutes": a wait the clinician can plan around, in the user's language. */
function formatWait(ms: number, lng: string): string {
  const minutes = ms >= 90_000;
  return new Intl.NumberFormat(lng, { style: 'unit', unit: minutes ? 'minute' : 'second', unitDisplay: 'long', maximumFractionDigits: 0 }).format(
    Math.max(1, Math.round(ms / (minutes ? 60_000 : 1000))),
  );
}

type State =
  | { kind: 'idle' }
  | { kind: 'running'; done: number; total: number; cancel: () => void }
  | { kind: 'done'; explanation: Explanation }
  | { kind: 'stopped'; message?: string };

/** Occlusion-sensitivity heatmap of the aligned crop for one class, computed in the inference worker. */
export function Heatmap({
  crop,
  classIndex,
  className,
  model,
  inferenceMs,
}: {
  crop: RgbaImage;
  classIndex: number;
  className: string;
  model: ModelReady;
  inferenceMs: number;
}) {
  const { t, i18n } = useTranslation('quality');
  const { client } = useEngine();
  const [state, setState] = useState<State>({ kind: 'idle' });
  const [opacity, setOpacity] = useState(0.6);
  const cropHost = useRef<HTMLCanvasElement>(null);
  const heat = useRef<HTMLCanvasElement>(null);
  const runs = GRID.cells * GRID.cells + 1;
  const ep = model.backend.ep;

  const running = useRef<(() => void) | null>(null);

  // A new photo or class starts over; a running explanation for the old one is cancelled and ignored.
  useEffect(() => {
    setState({ kind: 'idle' });
    return () => {
      running.current?.();
      running.current = null;
    };
  }, [crop, classIndex]);

  useEffect(() => {
    if (state.kind !== 'done') return;
    cropHost.current?.getContext('2d')?.putImageData(new ImageData(new Uint8ClampedArray(crop.data), crop.width, crop.height), 0, 0);
    const map = sensitivityMap(state.explanation.drops, GRID);
    const ctx = heat.current?.getContext('2d');
    ctx?.putImageData(new ImageData(heatmapRgba(map, maxAbs(state.explanation.drops)), GRID.size, GRID.size), 0, 0);
  }, [state, crop]);

  const start = () => {
    const input = toNchwFloat32(crop, model.manifest.normalization);
    const job = client.explain(input, classIndex, { patch: GRID.patch, stride: GRID.stride, batchSize: BATCH[ep] }, (p) =>
      setState((s) => (s.kind === 'running' && s.cancel === job.cancel ? { ...s, done: p.done, total: p.total } : s)),
    );
    running.current = job.cancel;
    setState({ kind: 'running', done: 0, total: runs - 1, cancel: job.cancel });
    const current = () => running.current === job.cancel;
    job.result.then(
      (explanation) => current() && setState({ kind: 'done', explanation }),
      (e: unknown) =>
        current() && setState({ kind: 'stopped', message: e instanceof InferenceError && e.code === 'cancelled' ? undefined : (e as Error).message }),
    );
  };

  const scale = state.kind === 'done' ? maxAbs(state.explanation.drops) : 0;
  return (
    <section className="heatmap" aria-labelledby="heatmap-title">
      <h3 id="heatmap-title">{t('heatmap.title')}</h3>
      <p>{t('heatmap.intro', { name: className })}</p>
      {(state.kind === 'idle' || state.kind === 'stopped') && (
        <>
          {state.kind === 'stopped' &&
            (state.message ? (
              <p role="alert" className="error">
                {t('heatmap.failed', { message: state.message })}
              </p>
            ) : (
              <p role="status" data-testid="heatmap-cancelled">
                {t('heatmap.cancelled')}
              </p>
            ))}
          <p className="hint" data-testid={ep === 'wasm' ? 'heatmap-wasm-note' : 'heatmap-gpu-note'}>
            {ep === 'wasm' ? t('heatmap.wasmNote', { runs, estimate: formatWait(runs * inferenceMs, i18n.language) }) : t('heatmap.gpuNote', { runs })}
          </p>
          <button type="button" className="secondary" onClick={start} data-testid="heatmap-start">
            {t('heatmap.start')}
          </button>
        </>
      )}
      {state.kind === 'running' && (
        <div className="heatmap-controls">
          <progress
            max={state.total}
            value={state.done}
            data-testid="heatmap-progress"
            aria-label={t('heatmap.progress', { done: state.done, total: state.total })}
          />
          <span role="status">{t('heatmap.progress', { done: state.done, total: state.total })}</span>
          <button type="button" className="secondary" onClick={state.cancel} data-testid="heatmap-cancel">
            {t('heatmap.cancel')}
          </button>
        </div>
      )}
      {state.kind === 'done' && (
        <div
          data-testid="heatmap"
          data-cells={state.explanation.cells}
          data-elapsed-ms={state.explanation.elapsedMs}
          data-base={state.explanation.baseProbability}
        >
          <div className="heatmap-figure" role="img" aria-label={t('heatmap.label')}>
            <canvas ref={cropHost} width={crop.width} height={crop.height} />
            <canvas ref={heat} width={GRID.size} height={GRID.size} style={{ opacity }} data-testid="heatmap-overlay" />
          </div>
          <label className="heatmap-controls">
            {t('heatmap.opacity')}
            <input
              type="range"
              min={0}
              max={1}
              step={0.05}
              value={opacity}
              onChange={(e) => setOpacity(Number(e.currentTarget.value))}
              data-testid="heatmap-opacity"
            />
          </label>
          <div className="heatmap-legend" aria-label={t('heatmap.legendTitle', { name: className })}>
            <span className="heatmap-swatch" style={{ background: 'rgb(230, 40, 30)' }} />
            <span>{t('heatmap.legendDrop', { max: formatPercent(scale) })}</span>
            <span className="heatmap-swatch" style={{ background: 'transparent' }} />
            <span>{t('heatmap.legendNone')}</span>
            <span className="heatmap-swatch" style={{ background: 'rgb(30, 110, 230)' }} />
            <span>{t('heatmap.legendRise')}</span>
          </div>
          <p className="hint">
            {t('heatmap.done', { time: formatMs(state.explanation.elapsedMs), cells: state.explanation.cells, backend: backendLabel(t, model.backend) })}
          </p>
          <p className="hint">{t('heatmap.caveat')}</p>
        </div>
      )}
    </section>
  );
}
