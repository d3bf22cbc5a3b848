/**
 * Live camera guidance: from one video frame's detections, whether the face is ready for a screening photo.
 * Uses the photo quality gate's own functions and "warn" limits, so a photo taken when all live checks pass
 * also passes the gate's face-size, yaw, roll and sharpness checks (exposure, cut-off and detector confidence
 * are judged on the photo itself).
 */
import type { Point, Size } from './image';
import { interOcularDistance, QUALITY_LIMITS, rollDegrees, yawDegrees } from './quality';

export type LiveCheckId = 'one-face' | 'centred' | 'large-enough' | 'frontal' | 'sharp';

export interface LiveFace {
  /** Box in frame pixels. */
  box: { x: number; y: number; width: number; height: number };
  /** BlazeFace keypoints in frame pixels. */
  keypoints: readonly Point[];
}

/**
 * The face box centre must lie within this fraction of the frame's width / height from the frame centre:
 * a centred face leaves margin on every side, so the crop is not cut off and the lens distorts it least.
 */
const CENTRE_TOLERANCE = 0.15;

/** A live frame asks for a level head (±15°): the photo gate tolerates more, since alignment levels it, but a level head is the easy case. */
const LIVE_ROLL_LIMIT_DEG = 15;

export interface LiveGuidance {
  checks: { id: LiveCheckId; ok: boolean }[];
  /** All checks pass: the shutter is enabled. */
  ready: boolean;
}

/** `blurPx`: the blur of the aligned crop of the face (blurSigma in quality.ts), when there was exactly one face. */
export function liveGuidance(faces: readonly LiveFace[], frame: Size, blurPx?: number): LiveGuidance {
  const face = faces.length === 1 ? faces[0]! : undefined;
  const centred =
    !!face &&
    Math.abs(face.box.x + face.box.width / 2 - frame.width / 2) <= CENTRE_TOLERANCE * frame.width &&
    Math.abs(face.box.y + face.box.height / 2 - frame.height / 2) <= CENTRE_TOLERANCE * frame.height;
  const checks: LiveGuidance['checks'] = [
    { id: 'one-face', ok: !!face },
    { id: 'centred', ok: centred },
    { id: 'large-enough', ok: !!face && interOcularDistance(face.keypoints) >= QUALITY_LIMITS.faceSizePx.warn },
    {
      id: 'frontal',
      ok: !!face && Math.abs(yawDegrees(face.keypoints)) <= QUALITY_LIMITS.yawDeg.warn && Math.abs(rollDegrees(face.keypoints)) <= LIVE_ROLL_LIMIT_DEG,
    },
    { id: 'sharp', ok: !!face && blurPx !== undefined && blurPx < QUALITY_LIMITS.blurPx.warn },
  ];
  return { checks, ready: checks.every((c) => c.ok) };
}
