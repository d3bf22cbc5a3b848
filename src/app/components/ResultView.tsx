import type { ModelReady } from '../../inference/protocol';
import type { ScreeningResult } from '../screening-state';
import { CanvasView } from './CanvasView';

const pct = (p: number) => `${(p * 100).toFixed(1)}%`;
const ms = (v: number) => `${Math.round(v)} ms`;

export function ResultView({ result, model }: { result: ScreeningResult; model: ModelReady }) {
  const { manifest, backend } = model;
  const top = result.probabilities.indexOf(Math.max(...result.probabilities));
  return (
    <section className="result" data-testid="result" data-photo={result.photoName} aria-labelledby="result-title">
      <h2 id="result-title">Result</h2>
      {manifest.demonstration && (
        <p className="result-demo" data-testid="result-demo-notice">
          Demonstration model — untrained, no clinical meaning.
        </p>
      )}
      <div className="result-body">
        <figure className="crop">
          <CanvasView canvas={result.crop} className="crop-canvas" label="Aligned 112×112 face crop the model saw" />
          <figcaption>Aligned crop (112×112) the model saw</figcaption>
        </figure>
        <ul className="probs" aria-label="Probability of each class">
          {manifest.classes.map((c, i) => {
            const p = result.probabilities[i]!;
            return (
              <li key={c.id} data-testid={`prob-${c.id}`} data-value={p} className={i === top ? 'top' : undefined}>
                <span className="prob-label">{c.displayName.en}</span>
                <span className="prob-bar" aria-hidden="true">
                  <span style={{ width: pct(p) }} />
                </span>
                <span className="prob-value">{pct(p)}</span>
              </li>
            );
          })}
        </ul>
      </div>
      <dl className="facts">
        <dt>Model</dt>
        <dd data-testid="model-name">
          {manifest.name} {manifest.version} — {manifest.clinicalValidation.status === 'none' ? 'not clinically validated' : manifest.clinicalValidation.summary}
        </dd>
        <dt>Backend</dt>
        <dd data-testid="backend" data-ep={backend.ep} data-threads={backend.threads}>
          {backend.ep === 'webgpu' ? 'WebGPU' : 'WASM'}
          {backend.ep === 'wasm' ? `, ${backend.threads} thread${backend.threads === 1 ? '' : 's'}` : ''}
          {backend.adapter?.software && backend.ep === 'webgpu' ? ' (software adapter)' : ''} — {backend.reason}
        </dd>
        <dt>Face</dt>
        <dd data-testid="face-choice">{result.faceChoiceText}</dd>
        <dt>Timings</dt>
        <dd data-testid="timings" data-detect-ms={result.timings.detectMs} data-align-ms={result.timings.alignMs} data-inference-ms={result.timings.inferenceMs}>
          decode {ms(result.timings.decodeMs)} · detection {ms(result.timings.detectMs)} · alignment {ms(result.timings.alignMs)} · inference{' '}
          {ms(result.timings.inferenceMs)} · total {ms(result.timings.totalMs)}
        </dd>
      </dl>
    </section>
  );
}
