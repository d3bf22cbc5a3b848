// What the hospital's admin decided on this device, kept in localStorage (small, per device): the trusted publisher
// keys, what each imported package came with (model card, signature), and a log of every import decision.
// The model files themselves belong to the model store (src/model/store.ts).
import type { SignatureStatus } from './package';
import type { TrustedKey } from './signature';

export interface InstalledPackage {
  id: string;
  version: string;
  modelCard: string;
  signature: SignatureStatus;
  /** Size of the package file, bytes. */
  packageBytes: number;
  importedAt: string;
}

export type LogAction = 'imported' | 'imported-unsigned' | 'refused' | 'activated' | 'deleted' | 'key-added' | 'key-removed';

export interface LogEntry {
  at: string;
  action: LogAction;
  /** "id version", the key's fingerprint, or the file name of a refused package. */
  subject: string;
  detail?: string;
}

/** The active model as kept in settings.activeModel: "" = the bundled model. */
export interface ModelRef {
  id: string;
  version: string;
}
export const formatModelRef = (ref: ModelRef | null): string => (ref ? `${ref.id}@${ref.version}` : '');
export function parseModelRef(value: string): ModelRef | null {
  const m = /^([a-z0-9][a-z0-9._-]{0,63})@([0-9A-Za-z.+-]+)$/.exec(value);
  return m ? { id: m[1]!, version: m[2]! } : null;
}

const KEYS = 'facies.trustedKeys';
const PACKAGES = 'facies.modelPackages';
const LOG = 'facies.modelLog';
const LOG_LIMIT = 500;

type KeyValueStore = Pick<Storage, 'getItem' | 'setItem'>;

export class ModelRegistry {
  constructor(private readonly storage: KeyValueStore) {}

  private read<T>(key: string, fallback: T): T {
    try {
      const v: unknown = JSON.parse(this.storage.getItem(key) ?? 'null');
      return v === null || typeof v !== typeof fallback || Array.isArray(v) !== Array.isArray(fallback) ? fallback : (v as T);
    } catch {
      return fallback;
    }
  }
  private write(key: string, value: unknown) {
    this.storage.setItem(key, JSON.stringify(value));
  }

  trustedKeys(): TrustedKey[] {
    return this.read<TrustedKey[]>(KEYS, []);
  }
  /** Adds a key (idempotent by fingerprint) and logs it. */
  trustKey(key: TrustedKey): void {
    const keys = this.trustedKeys().filter((k) => k.fingerprint !== key.fingerprint);
    this.write(KEYS, [...keys, key]);
    this.log('key-added', key.fingerprint, key.label);
  }
  distrustKey(fingerprint: string): void {
    const key = this.trustedKeys().find((k) => k.fingerprint === fingerprint);
    if (!key) return;
    this.write(
      KEYS,
      this.trustedKeys().filter((k) => k.fingerprint !== fingerprint),
    );
    this.log('key-removed', fingerprint, key.label);
  }

  packages(): Record<string, InstalledPackage> {
    return this.read<Record<string, InstalledPackage>>(PACKAGES, {});
  }
  package(ref: ModelRef): InstalledPackage | undefined {
    return this.packages()[formatModelRef(ref)];
  }
  recordPackage(p: InstalledPackage): void {
    this.write(PACKAGES, { ...this.packages(), [formatModelRef(p)]: p });
  }
  forgetPackage(ref: ModelRef): void {
    const all = this.packages();
    delete all[formatModelRef(ref)];
    this.write(PACKAGES, all);
  }

  entries(): LogEntry[] {
    return this.read<LogEntry[]>(LOG, []);
  }
  /** Appends to the log (oldest entries dropped past the limit). Never throws: a full storage must not block a decision. */
  log(action: LogAction, subject: string, detail?: string, now = new Date()): void {
    try {
      this.write(LOG, [...this.entries(), { at: now.toISOString(), action, subject, ...(detail ? { detail } : {}) }].slice(-LOG_LIMIT));
    } catch {
      /* storage full: the decision stands */
    }
  }
}
