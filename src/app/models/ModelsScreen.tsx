// Model manager: the active model, installed models (switch, delete, card and metrics), package import with
// progress, trusted publisher keys and the log of every decision. Logic lives in src/model/package/.
import { useCallback, useEffect, useMemo, useRef, useState, type DragEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { localized, type ModelManifest } from '../../model/manifest';
import { importModelPackage, type ImportStage } from '../../model/package/import';
import { PackageRefusal, PACKAGE_EXTENSION, type RefusalReason } from '../../model/package/package';
import { formatModelRef, ModelRegistry, type InstalledPackage, type ModelRef } from '../../model/package/registry';
import { formatFingerprint, readPublicKey } from '../../model/package/signature';
import { deleteModel, getStoredManifest, listStoredModels, type StoredModelInfo } from '../../model/store';
import { updateSettings } from '../../settings/settings';
import { launchOptions, useEngine } from '../engine';
import { MarkdownCard, ValidationReportView } from './ModelCard';
import './models.css';
import { useAdmin } from '../admin/admin-context';

interface Installed {
  info: StoredModelInfo;
  manifest: ModelManifest;
  pkg?: InstalledPackage;
}

type ImportState =
  | { kind: 'idle' }
  | { kind: 'working'; stage: ImportStage; done?: number; total?: number }
  | { kind: 'confirm-unsigned'; manifest: ModelManifest; answer: (yes: boolean) => void }
  | { kind: 'installed'; manifest: ModelManifest }
  | { kind: 'refused'; reason: RefusalReason; detail: string };

export default function ModelsScreen() {
  const { t, i18n } = useTranslation('models');
  const engine = useEngine();
  const { requireAdmin } = useAdmin();
  const registry = useMemo(() => new ModelRegistry(localStorage), []);
  const [installed, setInstalled] = useState<Installed[]>([]);
  const [revision, setRevision] = useState(0);
  const refresh = useCallback(() => setRevision((r) => r + 1), []);
  const [state, setState] = useState<ImportState>({ kind: 'idle' });
  const [open, setOpen] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const inUse = engine.model.status === 'ready' ? engine.model.ready.manifest : null;

  useEffect(() => {
    let cancelled = false;
    void (async () => {
      const infos = (await listStoredModels().catch(() => [])).filter((m) => m.source === 'import');
      const list = await Promise.all(
        infos.map(async (info) => ({ info, manifest: (await getStoredManifest(info.id, info.version))!, pkg: registry.package(info) })),
      );
      if (!cancelled) setInstalled(list.filter((m) => m.manifest));
    })();
    return () => {
      cancelled = true;
    };
  }, [registry, revision]);

  const date = (iso: string | number) => new Intl.DateTimeFormat(i18n.language, { dateStyle: 'medium' }).format(new Date(iso));
  const size = (bytes: number) => new Intl.NumberFormat(i18n.language, { style: 'unit', unit: 'megabyte', maximumFractionDigits: 1 }).format(bytes / 1e6);
  const name = (m: ModelManifest) => localized(m.displayName, i18n.language);
  const weights = (m: ModelManifest) =>
    m.weights &&
    t(`weights.${m.weights.storage}`, {
      drift: new Intl.NumberFormat(i18n.language, { notation: 'scientific', maximumSignificantDigits: 2 }).format(m.weights.maxProbabilityDrift),
    });

  async function importFile(file: File) {
    setNotice(null);
    if (!(await requireAdmin('install-model'))) return setNotice(t('admin.refused', { ns: 'settings' }));
    setState({ kind: 'working', stage: 'archive' });
    try {
      const opened = await importModelPackage(file, {
        registry,
        confirmUnsigned: (manifest) => new Promise<boolean>((answer) => setState({ kind: 'confirm-unsigned', manifest, answer })),
        selfTest: (id, version) => engine.client.loadStored(id, version, engine.backendPreference, undefined, true),
        onProgress: (stage, done, total) => setState({ kind: 'working', stage, done, total }),
      });
      setState({ kind: 'installed', manifest: opened.manifest });
    } catch (e) {
      const r = e instanceof PackageRefusal ? e : new PackageRefusal('damaged', String(e));
      setState({ kind: 'refused', reason: r.reason, detail: r.detail });
    }
    refresh();
  }

  async function activate(ref: ModelRef | null, manifest?: ModelManifest, asked = false) {
    if (!asked && !(await requireAdmin('activate-model'))) return setNotice(t('admin.refused', { ns: 'settings' }));
    updateSettings({ activeModel: formatModelRef(ref) });
    registry.log('activated', ref ? `${ref.id} ${ref.version}` : t('bundled'));
    await engine.loadModel(ref ?? launchOptions().modelBaseUrl);
    if (manifest) setNotice(t('actions.switched', { name: name(manifest), version: manifest.version }));
    refresh();
  }

  async function remove(m: Installed) {
    const active = inUse?.id === m.info.id && inUse.version === m.info.version;
    const question = active
      ? t('actions.confirmDeleteActive', { name: name(m.manifest) })
      : t('actions.confirmDelete', { name: name(m.manifest), version: m.info.version });
    if (!window.confirm(question)) return;
    if (!(await requireAdmin('delete-model'))) return setNotice(t('admin.refused', { ns: 'settings' }));
    await deleteModel(m.info.id, m.info.version);
    registry.forgetPackage(m.info);
    registry.log('deleted', `${m.info.id} ${m.info.version}`);
    if (active) await activate(null, undefined, true);
    refresh();
  }

  const isInUse = (ref: ModelRef) => inUse?.id === ref.id && inUse.version === ref.version;
  const bundledInUse = inUse !== null && !installed.some((m) => isInUse(m.info));

  return (
    <div className="models" aria-labelledby="models-title">
      <h2 id="models-title">{t('title')}</h2>
      <p className="hint">{t('intro')}</p>
      {notice && (
        <p className="models-notice" role="status" data-testid="models-notice">
          {notice}
        </p>
      )}

      <section className="card" aria-labelledby="installed-title">
        <h3 id="installed-title">{t('installed')}</h3>
        <ul className="model-list">
          <li className="model-row" data-testid="model-row" data-model-id="bundled" data-active={bundledInUse}>
            <div className="model-head">
              <strong>{t('bundled')}</strong>
              {bundledInUse && inUse && (
                <span>
                  {' '}
                  — {name(inUse)} {inUse.version}
                </span>
              )}
              <p className="hint">{t('bundledNote')}</p>
              {bundledInUse && inUse?.weights && (
                <p className="hint" data-testid="model-weights">
                  {weights(inUse)}
                </p>
              )}
            </div>
            <div className="model-actions">
              {bundledInUse ? (
                <span className="in-use">{t('actions.inUse')}</span>
              ) : (
                <button type="button" onClick={() => void activate(null)} data-testid="activate-bundled">
                  {t('actions.activate')}
                </button>
              )}
            </div>
          </li>
          {installed.length === 0 && <li className="hint">{t('none')}</li>}
          {installed.map((m) => {
            const key = formatModelRef(m.info);
            const active = isInUse(m.info);
            const sig = m.pkg?.signature;
            return (
              <li key={key} className="model-row" data-testid="model-row" data-model-id={m.info.id} data-version={m.info.version} data-active={active}>
                <div className="model-head">
                  <strong>{name(m.manifest)}</strong>
                  <dl className="model-facts">
                    <dt>{t('fields.version')}</dt>
                    <dd>{m.info.version}</dd>
                    <dt>{t('fields.size')}</dt>
                    <dd>{size(m.info.bytes)}</dd>
                    <dt>{t('fields.created')}</dt>
                    <dd>{date(m.manifest.created)}</dd>
                    <dt>{t('fields.imported')}</dt>
                    <dd>{date(m.info.storedAt)}</dd>
                    <dt>{t('fields.publisher')}</dt>
                    <dd>{m.manifest.publisher.name}</dd>
                    <dt>{t('fields.signature')}</dt>
                    <dd data-testid="model-signature" data-status={sig?.status ?? 'unsigned'}>
                      {sig?.status === 'trusted'
                        ? t('signature.trusted', {
                            label: sig.key.label,
                            fingerprint:
                              sig.key.fingerprint
                                .slice(0, 19)
                                .replace(/(.{4})/g, '$1 ')
                                .trim() + '…',
                          })
                        : t('signature.unsigned')}
                    </dd>
                    {m.manifest.weights && (
                      <>
                        <dt>{t('fields.weights')}</dt>
                        <dd data-testid="model-weights">{weights(m.manifest)}</dd>
                      </>
                    )}
                    <dt>{t('fields.validation')}</dt>
                    <dd data-testid="model-validation">{m.manifest.demonstration ? t('status.demo') : t(`status.${m.manifest.clinicalValidation.status}`)}</dd>
                  </dl>
                </div>
                <div className="model-actions">
                  {active ? (
                    <span className="in-use" data-testid={`in-use-${m.info.id}`}>
                      {t('actions.inUse')}
                    </span>
                  ) : (
                    <button type="button" onClick={() => void activate(m.info, m.manifest)} data-testid={`activate-${m.info.id}`}>
                      {t('actions.activate')}
                    </button>
                  )}
                  <button type="button" onClick={() => setOpen(open === key ? null : key)} aria-expanded={open === key} data-testid={`details-${m.info.id}`}>
                    {open === key ? t('actions.hideDetails') : t('actions.details')}
                  </button>
                  <button type="button" className="danger" onClick={() => void remove(m)} data-testid={`delete-${m.info.id}`}>
                    {t('actions.delete')}
                  </button>
                </div>
                {open === key && (
                  <div className="model-details">
                    <h4>{t('card.title')}</h4>
                    {m.pkg ? <MarkdownCard source={m.pkg.modelCard} /> : null}
                    <ValidationReportView manifest={m.manifest} />
                  </div>
                )}
              </li>
            );
          })}
        </ul>
      </section>

      <ModelPackageImport state={state} onFile={(f) => void importFile(f)} onActivate={(mf) => void activate({ id: mf.id, version: mf.version }, mf)} />
      <TrustedKeys registry={registry} onChange={refresh} />
      <ModelLog registry={registry} revision={revision} />
    </div>
  );
}

function ModelPackageImport({ state, onFile, onActivate }: { state: ImportState; onFile: (f: File) => void; onActivate: (m: ModelManifest) => void }) {
  const { t, i18n } = useTranslation('models');
  const input = useRef<HTMLInputElement>(null);
  const [over, setOver] = useState(false);
  const busy = state.kind === 'working' || state.kind === 'confirm-unsigned';
  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setOver(false);
    const f = e.dataTransfer.files[0];
    if (f && !busy) onFile(f);
  };
  const percent = (done?: number, total?: number) =>
    done !== undefined && total ? new Intl.NumberFormat(i18n.language, { style: 'percent' }).format(done / total) : '';
  return (
    <section className="card" aria-labelledby="import-title">
      <h3 id="import-title">{t('import.title')}</h3>
      <p className="hint">{t('import.help')}</p>
      <div
        className={`picker${over ? ' drop-over' : ''}`}
        onDragOver={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={onDrop}
        data-testid="package-drop"
      >
        <button type="button" disabled={busy} onClick={() => input.current?.click()}>
          {t('import.choose')}
        </button>{' '}
        <span className="hint">{t('import.drop')}</span>
        <input
          ref={input}
          type="file"
          className="visually-hidden"
          accept={`${PACKAGE_EXTENSION},.zip,application/zip`}
          data-testid="package-input"
          aria-label={t('import.choose')}
          tabIndex={-1}
          disabled={busy}
          onChange={(e) => {
            const f = e.target.files?.[0];
            e.target.value = '';
            if (f) onFile(f);
          }}
        />
      </div>
      {state.kind === 'working' && (
        <p className="working" role="status" data-testid="import-progress" data-stage={state.stage}>
          {t(`import.stage.${state.stage}`, { percent: percent(state.done, state.total) })}
          {state.total ? <progress max={state.total} value={state.done ?? 0} /> : null}
        </p>
      )}
      {state.kind === 'confirm-unsigned' && (
        <div className="unsigned-confirm" role="alertdialog" aria-labelledby="unsigned-title" data-testid="unsigned-confirm">
          <h4 id="unsigned-title">{t('import.unsignedTitle')}</h4>
          <p>
            {t('import.unsignedBody', {
              name: localized(state.manifest.displayName, i18n.language),
              version: state.manifest.version,
              publisher: state.manifest.publisher.name,
            })}
          </p>
          <div className="actions">
            <button type="button" className="danger" onClick={() => state.answer(true)} data-testid="unsigned-accept">
              {t('import.unsignedConfirm')}
            </button>
            <button type="button" onClick={() => state.answer(false)} data-testid="unsigned-cancel">
              {t('import.cancel')}
            </button>
          </div>
        </div>
      )}
      {state.kind === 'installed' && (
        <p className="models-notice" role="status" data-testid="import-done">
          {t('import.installed', { name: localized(state.manifest.displayName, i18n.language), version: state.manifest.version })}{' '}
          <button type="button" onClick={() => onActivate(state.manifest)} data-testid="import-activate">
            {t('import.activateNow')}
          </button>
        </p>
      )}
      {state.kind === 'refused' && (
        <div className="error" role="alert" data-testid="import-refused" data-reason={state.reason}>
          <strong>{t('import.refusedTitle', { reason: t(`refusal.${state.reason}`) })}</strong>
          <p className="hint">{t('import.detail', { detail: state.detail })}</p>
        </div>
      )}
    </section>
  );
}

function TrustedKeys({ registry, onChange }: { registry: ModelRegistry; onChange: () => void }) {
  const { t, i18n } = useTranslation('models');
  const [pem, setPem] = useState('');
  const [label, setLabel] = useState('');
  // Kept as key + values so the message follows a language change.
  const [message, setMessage] = useState<{ ok: boolean; key: string; values: Record<string, string> } | null>(null);
  const keys = registry.trustedKeys();
  const { requireAdmin } = useAdmin();
  const refused = () => setMessage({ ok: false, key: 'admin.refused', values: { ns: 'settings' } });
  async function add() {
    if (!(await requireAdmin('trust-key'))) return refused();
    try {
      const key = await readPublicKey(pem, label);
      registry.trustKey(key);
      setMessage({ ok: true, key: 'keys.added', values: { label: key.label, fingerprint: formatFingerprint(key.fingerprint) } });
      setPem('');
      setLabel('');
    } catch (e) {
      setMessage({ ok: false, key: 'keys.invalid', values: { detail: (e as Error).message } });
    }
    onChange();
  }
  return (
    <section className="card" aria-labelledby="keys-title">
      <h3 id="keys-title">{t('keys.title')}</h3>
      <p className="hint">{t('keys.help')}</p>
      {keys.length === 0 ? (
        <p className="hint">{t('keys.none')}</p>
      ) : (
        <ul className="key-list">
          {keys.map((k) => (
            <li key={k.fingerprint} data-testid="trusted-key" data-fingerprint={k.fingerprint}>
              <strong>{k.label}</strong> ({k.algorithm}, {new Intl.DateTimeFormat(i18n.language, { dateStyle: 'medium' }).format(new Date(k.added))})
              <div>
                {t('keys.fingerprint')}: <code className="fingerprint">{formatFingerprint(k.fingerprint)}</code>
              </div>
              <button
                type="button"
                className="danger"
                onClick={() => void requireAdmin('distrust-key').then((ok) => (ok ? (registry.distrustKey(k.fingerprint), onChange()) : refused()))}
                data-testid="trusted-key-remove"
              >
                {t('keys.remove')}
              </button>
            </li>
          ))}
        </ul>
      )}
      <label className="field">
        <span>{t('keys.label')}</span>
        <input value={label} onChange={(e) => setLabel(e.target.value)} data-testid="trusted-key-label" />
      </label>
      <label className="field">
        <span>{t('keys.pem')}</span>
        <textarea rows={4} value={pem} onChange={(e) => setPem(e.target.value)} spellCheck={false} data-testid="trusted-key-pem" />
      </label>
      <div className="actions">
        <label className="button-like">
          {t('keys.loadFile')}
          <input type="file" accept=".pem,.pub,text/plain" className="visually-hidden" onChange={(e) => void e.target.files?.[0]?.text().then(setPem)} />
        </label>
        <button type="button" disabled={!pem.trim()} onClick={() => void add()} data-testid="trusted-key-add">
          {t('keys.add')}
        </button>
      </div>
      {message && (
        <p className={message.ok ? 'models-notice' : 'error'} role={message.ok ? 'status' : 'alert'} data-testid="trusted-key-message">
          {t(message.key, message.values)}
        </p>
      )}
    </section>
  );
}

function ModelLog({ registry, revision }: { registry: ModelRegistry; revision: number }) {
  const { t, i18n } = useTranslation('models');
  const entries = useMemo(() => registry.entries().slice().reverse(), [registry, revision]); // eslint-disable-line react-hooks/exhaustive-deps
  const when = new Intl.DateTimeFormat(i18n.language, { dateStyle: 'short', timeStyle: 'medium' });
  return (
    <section className="card" aria-labelledby="log-title">
      <h3 id="log-title">{t('log.title')}</h3>
      {entries.length === 0 ? (
        <p className="hint">{t('log.empty')}</p>
      ) : (
        <ol className="model-log" data-testid="model-log">
          {entries.slice(0, 50).map((e, i) => (
            <li key={i} data-action={e.action}>
              <time dateTime={e.at}>{when.format(new Date(e.at))}</time> — <strong>{t(`log.action.${e.action}`)}</strong>: {e.subject}
              {e.detail && <span className="hint"> ({e.detail})</span>}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
