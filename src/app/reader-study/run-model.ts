// The model's answer for one study photo: the same decode → detect → align → classify steps as a screening,
// on the largest face, with the same flip TTA when it is on, so the answer is what a screening of the photo shows;
// null when the photo could not be screened (no face, unreadable: counted as wrong).
import { toNchwFloat32 } from '../../pipeline/preprocess';
import { decodePhoto } from '../../screening/photo';
import { alignFromPhoto, findFaces } from '../../screening/screen-photo';
import { ttaBatch, ttaOutcome } from '../../screening/trust';
import { getSettings } from '../../settings/settings';
import type { Engine } from '../engine';

export interface ModelAnswer {
  classId: string | null;
  probabilities: number[];
}

export async function modelAnswer(engine: Engine, file: File): Promise<ModelAnswer> {
  if (engine.model.status !== 'ready') throw new Error('model not ready');
  const { manifest } = engine.model.ready;
  let photo;
  try {
    photo = await decodePhoto(file);
    const found = findFaces(photo, await engine.detector);
    const aligned = alignFromPhoto(photo, found.faces[0]!);
    const { input, batch } = ttaBatch(toNchwFloat32(aligned.crop, manifest.normalization), getSettings().flipTta);
    const out = await engine.client.classify(input, batch);
    const p = ttaOutcome(out.probabilities, batch).probabilities;
    return { classId: manifest.classes[p.indexOf(Math.max(...p))]!.id, probabilities: p };
  } catch {
    return { classId: null, probabilities: [] };
  } finally {
    photo?.bitmap.close();
  }
}
