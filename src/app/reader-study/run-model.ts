// The model's answer for one study photo: the screening pipeline on the first-ranked face, with the same TTA as a
// screening (the manifest's, else the flip setting), so the answer is what a screening of the photo shows; null
// when the photo could not be screened (no face, unreadable: counted as wrong).
import { screenFile, ttaFor } from '../../screening/pipeline';
import { topClassIndex } from '../../pipeline/uncertainty';
import { getSettings } from '../../settings/settings';
import type { Engine } from '../engine';

export interface ModelAnswer {
  classId: string | null;
  probabilities: number[];
  /** The photo's embedding, when the model outputs one (mean-embedding fusion per child). */
  embedding?: number[];
}

export async function modelAnswer(engine: Engine, file: File): Promise<ModelAnswer> {
  if (engine.model.status !== 'ready') throw new Error('model not ready');
  const { manifest } = engine.model.ready;
  try {
    const { classification } = await screenFile(file, await engine.detector, (input, batch) => engine.client.classify(input, batch), {
      normalization: manifest.normalization,
      tta: ttaFor(manifest, getSettings().flipTta),
    });
    const p = classification.probabilities;
    return { classId: manifest.classes[topClassIndex(p)]!.id, probabilities: p, ...(classification.embedding && { embedding: classification.embedding }) };
  } catch {
    return { classId: null, probabilities: [] };
  }
}
