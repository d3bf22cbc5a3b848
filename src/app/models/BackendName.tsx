import type { TFunction } from 'i18next';
import type { BackendInfo } from '../../inference/protocol';

/** "WebGPU", "WebGPU (software adapter)" or "WASM (2 threads)", in the user's language. */
export function backendLabel(t: TFunction, backend: BackendInfo): string {
  if (backend.ep === 'wasm') return t('backend.wasm', { ns: 'common', count: backend.threads });
  return backend.adapter?.software
    ? `${t('backend.webgpu', { ns: 'common' })} (${t('backend.softwareAdapter', { ns: 'common' })})`
    : t('backend.webgpu', { ns: 'common' });
}
