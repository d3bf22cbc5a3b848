// The screening engine shared by every screen: the inference worker (which owns the ONNX session),
// the face finder (one MediaPipe graph, for photos and the live camera alike), and the state of the active model.
// Both start with the app, not with the first photo.
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { InferenceClient, InferenceError, type LoadProgress } from '../inference/client';
import type { BackendPreference, InferenceErrorCode, LoadTuning, ModelReady } from '../inference/protocol';
import { FaceFinder } from '../screening/face-finder';
import { ModelRegistry, parseModelRef, type ModelRef } from '../model/package/registry';
import { provenanceOf, type Provenance } from '../model/provenance';
import { getSettings } from '../settings/settings';

export type ModelState =
  | { status: 'loading'; progress?: LoadProgress }
  | { status: 'ready'; ready: ModelReady; provenance: Provenance }
  | { status: 'error'; code: InferenceErrorCode | 'unknown'; detail: string };

export interface Engine {
  client: InferenceClient;
  detector: Promise<FaceFinder>;
  model: ModelState;
  /** Loads (or switches to) a model: a folder URL holding manifest.json and model.onnx, or an imported model in the store. */
  loadModel: (model: string | ModelRef) => Promise<void>;
  backendPreference: BackendPreference;
}

const EngineContext = createContext<Engine | null>(null);

/**
 * Developer options for tests, demos and support: ?model=<folder id>&backend=auto|webgpu|wasm (else Settings'
 * backend), &ortLog=verbose (ONNX Runtime's verbose log, node placement included, in the console).
 */
export function launchOptions(search = location.search): { modelBaseUrl: string; backend: BackendPreference; tuning?: LoadTuning } {
  const q = new URLSearchParams(search);
  const model = q.get('model') ?? 'demo';
  const backend = q.get('backend');
  return {
    modelBaseUrl: `/models/${/^[a-z0-9-]+$/.test(model) ? model : 'demo'}/`,
    // The URL option (tests, demos) wins over the clinician's choice in Settings.
    backend: backend === 'webgpu' || backend === 'wasm' ? backend : getSettings().backend,
    ...(q.get('ortLog') === 'verbose' ? { tuning: { ortVerboseLog: true } } : {}),
  };
}

export function EngineProvider({ children }: { children: ReactNode }) {
  const options = useMemo(() => launchOptions(), []);
  const client = useRef<InferenceClient | null>(null);
  const detector = useRef<Promise<FaceFinder> | null>(null);
  if (!client.current) client.current = new InferenceClient();
  if (!detector.current) {
    detector.current = FaceFinder.create();
    detector.current.catch(() => undefined);
  }
  const [model, setModel] = useState<ModelState>({ status: 'loading' });

  const loadModel = useCallback(
    async (source: string | ModelRef) => {
      setModel({ status: 'loading' });
      try {
        const onProgress = (progress: LoadProgress) => setModel({ status: 'loading', progress });
        const ready =
          typeof source === 'string'
            ? await client.current!.load(source, options.backend, onProgress, options.tuning)
            : await client.current!.loadStored(source.id, source.version, options.backend, onProgress);
        // Who vouches for it: the bundled model, or what the package came with when it was installed.
        const provenance: Provenance =
          typeof source === 'string' ? { kind: 'bundled' } : provenanceOf(new ModelRegistry(localStorage).package(source)?.signature);
        setModel({ status: 'ready', ready, provenance });
      } catch (e) {
        setModel(e instanceof InferenceError ? { status: 'error', code: e.code, detail: e.message } : { status: 'error', code: 'unknown', detail: String(e) });
      }
    },
    [options.backend, options.tuning],
  );

  useEffect(() => {
    // The admin's active model (Models screen), unless a ?model= developer option names a bundled one.
    const active = parseModelRef(getSettings().activeModel);
    void loadModel(active && !new URLSearchParams(location.search).has('model') ? active : options.modelBaseUrl);
  }, [loadModel, options.modelBaseUrl]);

  const engine = useMemo<Engine>(
    () => ({ client: client.current!, detector: detector.current!, model, loadModel, backendPreference: options.backend }),
    [model, loadModel, options.backend],
  );
  return <EngineContext.Provider value={engine}>{children}</EngineContext.Provider>;
}

export function useEngine(): Engine {
  const engine = useContext(EngineContext);
  if (!engine) throw new Error('useEngine outside EngineProvider');
  return engine;
}
