import type { ModelManifest } from '../../model/manifest';

/** Permanent: shown above every result and on the start screen. */
export function ScreeningNotice({ manifest }: { manifest?: ModelManifest }) {
  return (
    <div className="notice" data-testid="screening-notice" role="note">
      <strong>Screening aid — not a diagnosis.</strong> Facies suggests which syndrome a face photo resembles; only clinical assessment and genetic
      testing can confirm a diagnosis.
      {manifest?.demonstration && (
        <div className="notice-demo" data-testid="demo-notice">
          <strong>Demonstration model:</strong> the bundled model “{manifest.name}” is untrained (random weights). Its outputs carry{' '}
          <strong>no clinical meaning</strong>. Load a validated model before any clinical use.
        </div>
      )}
    </div>
  );
}
