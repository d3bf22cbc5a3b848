// Who vouches for a model: what every result, saved case and printed report says next to the model's own claims.
// A package signed by a key the hospital's admin trusts carries its publisher; an unsigned package's validation
// figures are only what the package claims; the bundled model ships with this app build. (A package signed by an
// unknown key is refused at install, so it never produces a result.)
import type { SignatureStatus } from './package/package';

export type Provenance = { kind: 'bundled' } | { kind: 'unsigned' } | { kind: 'trusted'; publisher: string; fingerprint: string };

export function provenanceOf(signature: SignatureStatus | undefined): Provenance {
  return signature?.status === 'trusted' ? { kind: 'trusted', publisher: signature.key.label, fingerprint: signature.key.fingerprint } : { kind: 'unsigned' };
}

/** Whether the model's validation claims come from someone this device trusts (the bundled model claims none). */
export const claimsVerified = (p: Provenance | undefined): boolean => p?.kind === 'trusted';

/** Reads a stored provenance (records, archives); anything else is "not recorded" (null). */
export function parseProvenance(raw: unknown): Provenance | null {
  if (!raw || typeof raw !== 'object') return null;
  const r = raw as Record<string, unknown>;
  if (r.kind === 'bundled' || r.kind === 'unsigned') return { kind: r.kind };
  if (
    r.kind === 'trusted' &&
    typeof r.publisher === 'string' &&
    r.publisher.length <= 200 &&
    typeof r.fingerprint === 'string' &&
    /^[0-9a-f]{64}$/.test(r.fingerprint)
  )
    return { kind: 'trusted', publisher: r.publisher, fingerprint: r.fingerprint };
  return null;
}
