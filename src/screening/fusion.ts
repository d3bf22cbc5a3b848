// Several photos of one child → one result, by the rule the model was validated with (the manifest's
// inference.fusion; the training kit picks it by cross-validated macro-F1). Framework-free.
//   mean-probability      the mean of the photos' probabilities
//   mean-log-probability  softmax of the mean log-probability (a geometric mean, renormalised): one confident
//                         photo counts less against several that agree
//   mean-embedding        the mean of the L2-normalised embeddings, renormalised, through the CosFace head:
//                         softmax(s · cos(ē, wₖ) / T), as GestaltMatcher-Arc fuses a patient's photos

import { fromBase64 } from '../encoding/base64';
import type { FusionRule, ModelManifest } from '../model/manifest';

export type { FusionRule } from '../model/manifest';

/** A screening holds at most this many photos of one child. */
export const MAX_PHOTOS_PER_CHILD = 5;

/** The CosFace head as the manifest gives it, for fusing embeddings. */
export interface EmbeddingHead {
  /** L2-normalised class weights, K × dimension, row-major. */
  classWeights: Float32Array;
  dimension: number;
  scale: number;
  temperature: number;
}

export interface FusionInput {
  probabilities: readonly number[];
  /** The photo's L2-normalised embedding (mean of its TTA passes), when the model outputs one. */
  embedding?: readonly number[];
}

export class FusionError extends Error {}

const heads = new WeakMap<ModelManifest, EmbeddingHead>();

/** The CosFace head the manifest gives for mean-embedding fusion (class weights decoded once per manifest). */
export function embeddingHead(manifest: ModelManifest): EmbeddingHead | undefined {
  const spec = manifest.inference?.embedding;
  if (!spec) return undefined;
  let head = heads.get(manifest);
  if (!head) {
    const bytes = fromBase64(spec.classWeightsBase64);
    head = { classWeights: new Float32Array(bytes.slice().buffer), dimension: spec.dimension, scale: manifest.cosfaceScale, temperature: manifest.temperature };
    heads.set(manifest, head);
  }
  return head;
}

/** Smallest probability taken into a logarithm: a float32 softmax can round a class to 0. */
const FLOOR = 1e-12;

function softmax(logits: number[]): number[] {
  const max = Math.max(...logits);
  const e = logits.map((l) => Math.exp(l - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

export function fuse(photos: readonly FusionInput[], rule: FusionRule, head?: EmbeddingHead): number[] {
  if (photos.length === 0) throw new FusionError('no photo to fuse');
  const k = photos[0]!.probabilities.length;
  if (photos.some((p) => p.probabilities.length !== k)) throw new FusionError('photos have different numbers of classes');
  if (photos.length === 1 && rule !== 'mean-embedding') return [...photos[0]!.probabilities];
  if (rule === 'mean-probability') return Array.from({ length: k }, (_, c) => photos.reduce((s, p) => s + p.probabilities[c]!, 0) / photos.length);
  if (rule === 'mean-log-probability')
    return softmax(Array.from({ length: k }, (_, c) => photos.reduce((s, p) => s + Math.log(Math.max(FLOOR, p.probabilities[c]!)), 0) / photos.length));
  if (!head) throw new FusionError('mean-embedding fusion needs the model’s head (manifest inference.embedding)');
  const d = head.dimension;
  if (head.classWeights.length !== k * d) throw new FusionError(`the head has ${head.classWeights.length / d} classes, the photos ${k}`);
  const mean = new Float64Array(d);
  for (const p of photos) {
    if (!p.embedding || p.embedding.length !== d) throw new FusionError('a photo has no embedding of the head’s dimension');
    for (let i = 0; i < d; i++) mean[i]! += p.embedding[i]!;
  }
  const norm = Math.hypot(...mean);
  if (!(norm > 0)) throw new FusionError('the embeddings cancel out');
  const logits = Array.from({ length: k }, (_, c) => {
    let cos = 0;
    for (let i = 0; i < d; i++) cos += (mean[i]! / norm) * head.classWeights[c * d + i]!;
    return (head.scale * cos) / head.temperature;
  });
  return softmax(logits);
}
