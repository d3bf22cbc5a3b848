// A second MediaPipe FaceDetector, in VIDEO mode (it tracks across frames and needs increasing timestamps),
// for the live camera guidance; the IMAGE-mode detector screens the captured photo.
import { FaceDetector, FilesetResolver } from '@mediapipe/tasks-vision';
import { normalizedToPixel } from '../pipeline/preprocess';
import type { DetectedFace } from './face-detector';

export class FacesInVideo {
  private lastTimestamp = -1;
  private constructor(private readonly detector: FaceDetector) {}

  static async create(wasmBaseUrl = '/vendor/mediapipe/wasm', modelUrl = '/vendor/mediapipe/face_detection_short_range.tflite'): Promise<FacesInVideo> {
    const fileset = await FilesetResolver.forVisionTasks(wasmBaseUrl);
    const detector = await FaceDetector.createFromOptions(fileset, {
      baseOptions: { modelAssetPath: modelUrl, delegate: 'CPU' },
      runningMode: 'VIDEO',
      minDetectionConfidence: 0.5,
    });
    return new FacesInVideo(detector);
  }

  /** Faces in the current frame: boxes and keypoints in pixels of the video frame. */
  detect(video: HTMLVideoElement, timestampMs: number): DetectedFace[] {
    // MediaPipe rejects a timestamp that does not increase.
    const ts = Math.max(timestampMs, this.lastTimestamp + 1);
    this.lastTimestamp = ts;
    const frame = { width: video.videoWidth, height: video.videoHeight };
    return this.detector
      .detectForVideo(video, ts)
      .detections.filter((d) => d.boundingBox && d.keypoints.length >= 4)
      .map((d) => ({
        box: { x: d.boundingBox!.originX, y: d.boundingBox!.originY, width: d.boundingBox!.width, height: d.boundingBox!.height },
        keypoints: d.keypoints.map((k) => normalizedToPixel(k, frame)),
        score: d.categories[0]?.score ?? 0,
      }));
  }

  close() {
    this.detector.close();
  }
}
