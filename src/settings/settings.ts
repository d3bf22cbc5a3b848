// User settings, remembered on this device (localStorage). Each feature adds its fields here, with a default.
import { useSyncExternalStore } from 'react';

export interface Settings {
  /** Preferred inference backend; 'auto' = WebGPU on a hardware adapter, else WASM. */
  backend: 'auto' | 'webgpu' | 'wasm';
  /** Flip test-time augmentation: average the crop and its mirror (two model runs in one batch). */
  flipTta: boolean;
  /** A result is "inconclusive" when its top probability is below this (see src/pipeline/uncertainty.ts). */
  inconclusiveBelow: number;
  /** … or when the top two probabilities are closer than this. */
  inconclusiveMargin: number;
  /** Colour scheme; 'system' follows the device's light/dark setting. */
  theme: 'system' | 'light' | 'dark';
  /** Conference demo (kiosk) mode: nothing is stored, the app returns to the start after inactivity. */
  kiosk: boolean;
  /** Kiosk mode: seconds without a touch or key press before the app resets. */
  kioskResetSeconds: number;
  /** Encrypted records lock after this many minutes without a touch or key press. */
  lockAfterMinutes: number;
  /** The model screenings use: "" = the bundled model, else an imported model as "id@version" (see src/model/package/registry.ts). */
  activeModel: string;
}

export const DEFAULT_SETTINGS: Settings = {
  backend: 'auto',
  flipTta: true,
  inconclusiveBelow: 0.5,
  inconclusiveMargin: 0.15,
  theme: 'system',
  kiosk: false,
  kioskResetSeconds: 90,
  lockAfterMinutes: 5,
  activeModel: '',
};

const KEY = 'facies.settings';
const listeners = new Set<() => void>();
let current: Settings = load();

/** Unknown or ill-typed stored values fall back to the defaults, field by field. */
export function parseSettings(raw: string | null): Settings {
  let stored: Record<string, unknown> = {};
  try {
    const parsed: unknown = raw ? JSON.parse(raw) : {};
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) stored = parsed as Record<string, unknown>;
  } catch {
    /* corrupt: defaults */
  }
  const out = { ...DEFAULT_SETTINGS } as Record<string, unknown>;
  for (const [k, def] of Object.entries(DEFAULT_SETTINGS)) {
    if (k in stored && typeof stored[k] === typeof def) out[k] = stored[k];
  }
  return out as unknown as Settings;
}

function load(): Settings {
  try {
    return parseSettings(globalThis.localStorage?.getItem(KEY) ?? null);
  } catch {
    return { ...DEFAULT_SETTINGS };
  }
}

export function getSettings(): Settings {
  return current;
}

export function updateSettings(patch: Partial<Settings>): void {
  current = { ...current, ...patch };
  try {
    localStorage.setItem(KEY, JSON.stringify(current));
  } catch {
    /* private mode: kept for this session */
  }
  for (const l of listeners) l();
}

export function useSettings(): Settings {
  return useSyncExternalStore(
    (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    () => current,
  );
}
