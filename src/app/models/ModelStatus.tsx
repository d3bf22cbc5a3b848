import { useTranslation } from 'react-i18next';
import type { ModelState } from '../engine';
import { backendLabel } from './BackendName';
import { formatPercent } from '../../i18n';

export function ModelStatus({ model }: { model: ModelState }) {
  const { t } = useTranslation();
  if (model.status === 'error')
    return (
      <div className="error" role="alert" data-testid="model-error" data-code={model.code}>
        {model.code === 'unknown' ? t('somethingWrong', { message: model.detail }) : t(`modelErrors.${model.code}`)}
        <details>
          <summary>Details</summary>
          {model.detail}
        </details>
        {model.code !== 'model-self-test' && (
          <button type="button" onClick={() => location.reload()} data-testid="model-retry">
            {t('offline:retry')}
          </button>
        )}
      </div>
    );
  if (model.status === 'ready') {
    const { manifest, backend, timings } = model.ready;
    return (
      // data-wasm-mb: ONNX Runtime's WebAssembly memory in the worker, after the self-test (MB).
      <p className="model-status" data-testid="model-ready" data-session-ms={timings.sessionMs} data-wasm-mb={model.ready.wasmMemoryMB.selfTested}>
        {t('model.ready', { name: manifest.name, version: manifest.version, backend: backendLabel(t, backend) })}
      </p>
    );
  }
  const p = model.progress;
  const MB = 1048576;
  const label =
    p?.stage === 'download' && p.total
      ? t('model.downloading', { loaded: Math.round(p.loaded! / MB), total: Math.round(p.total / MB), percent: formatPercent(p.loaded! / p.total) })
      : p?.stage === 'verify'
        ? t('model.verifying')
        : p?.stage === 'session'
          ? t('model.starting')
          : p?.stage === 'self-test'
            ? t('model.selfTest')
            : t('model.loading');
  return (
    <div className="model-status" role="status" aria-live="polite" data-testid="model-loading">
      {label}
      {p?.stage === 'download' && p.total ? <progress max={p.total} value={p.loaded} aria-label={label} /> : <progress aria-label={label} />}
    </div>
  );
}
