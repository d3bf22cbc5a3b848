// The screening engine shared by every screen: the inference worker (which owns the ONNX session),
// the face detector, and the state of the active model. Both start with the app, not with the first photo.
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { InferenceClient, InferenceError, type LoadProgress } from '../inference/client';
import type { BackendPreference, InferenceErrorCode, ModelReady } from '../inference/protocol';
import { FacesInPhoto } from '../screening/face-detector';

export type ModelState =
  | { status: 'loading'; progress?: LoadProgress }
  | { status: 'ready'; ready: ModelReady }
  | { status: 'error'; code: InferenceErrorCode | 'unknown'; detail: string };

export interface Engine {
  client: InferenceClient;
  detector: Promise<FacesInPhoto>;
  model: ModelState;
  /** Loads (or switches to) a model from a folder URL holding manifest.json and model.onnx. */
  loadModel: (modelBaseUrl: string) => Promise<void>;
  backendPreference: BackendPreference;
}

const EngineContext = createContext<Engine | null>(null);

/** Developer options for tests and demos: ?model=<folder id>&backend=auto|webgpu|wasm */
export function launchOptions(search = location.search): { modelBaseUrl: string; backend: BackendPreference } {
  const q = new URLSearchParams(search);
  const model = q.get('model') ?? 'demo';
  const backend = q.get('backend');
  return {
    modelBaseUrl: `/models/${/^[a-z0-9-]+$/.test(model) ? model : 'demo'}/`,
    backend: backend === 'webgpu' || backend === 'wasm' ? backend : 'auto',
  };
}

export function EngineProvider({ children }: { children: ReactNode }) {
  const options = useMemo(() => launchOptions(), []);
  const client = useRef<InferenceClient | null>(null);
  const detector = useRef<Promise<FacesInPhoto> | null>(null);
  if (!client.current) client.current = new InferenceClient();
  if (!detector.current) {
    detector.current = FacesInPhoto.create();
    detector.current.catch(() => undefined);
  }
  const [model, setModel] = useState<ModelState>({ status: 'loading' });

  const loadModel = useCallback(
    async (modelBaseUrl: string) => {
      setModel({ status: 'loading' });
      try {
        const ready = await client.current!.load(modelBaseUrl, options.backend, (progress) => setModel({ status: 'loading', progress }));
        setModel({ status: 'ready', ready });
      } catch (e) {
        setModel(e instanceof InferenceError ? { status: 'error', code: e.code, detail: e.message } : { status: 'error', code: 'unknown', detail: String(e) });
      }
    },
    [options.backend],
  );

  useEffect(() => {
    void loadModel(options.modelBaseUrl);
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
