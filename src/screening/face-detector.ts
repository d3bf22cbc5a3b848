// MediaPipe Tasks FaceDetector (BlazeFace short range), self-hosted: runtime and model come from this origin.
import { FaceDetector, FilesetResolver } from '@mediapipe/tasks-vision';
import type { Point } from '../pipeline/image';

export interface DetectedFace {
  /** Box in pixels of the image given to detect(). */
  box: { x: number; y: number; width: number; height: number };
  /** Six keypoints: right eye, left eye, nose tip, mouth centre, right ear, left ear (subject's sides). */
  keypoints: Point[];
  score: number;
}

export interface FaceDetectorOptions {
  wasmBaseUrl?: string;
  modelUrl?: string;
  minDetectionConfidence?: number;
}

export class FacesInPhoto {
  private constructor(private readonly detector: FaceDetector) {}

  static async create(options: FaceDetectorOptions = {}): Promise<FacesInPhoto> {
    const fileset = await FilesetResolver.forVisionTasks(options.wasmBaseUrl ?? '/vendor/mediapipe/wasm');
    const detector = await FaceDetector.createFromOptions(fileset, {
      baseOptions: { modelAssetPath: options.modelUrl ?? '/vendor/mediapipe/face_detection_short_range.tflite', delegate: 'CPU' },
      runningMode: 'IMAGE',
      minDetectionConfidence: options.minDetectionConfidence ?? 0.5,
    });
    const faces = new FacesInPhoto(detector);
    // MediaPipe starts its graph on the first detect() (≈ 0.2–0.5 s): pay that while the model loads, not on the first photo.
    faces.detect(new OffscreenCanvas(128, 128));
    return faces;
  }

  /** Faces with boxes in pixels of `image` and keypoints normalised to [0, 1] from its top-left edge (as MediaPipe gives them). */
  detect(image: HTMLCanvasElement | OffscreenCanvas | ImageBitmap): DetectedFace[] {
    const result = this.detector.detect(image as HTMLCanvasElement);
    return result.detections
      .filter((d) => d.boundingBox && d.keypoints.length >= 4)
      .map((d) => ({
        box: { x: d.boundingBox!.originX, y: d.boundingBox!.originY, width: d.boundingBox!.width, height: d.boundingBox!.height },
        keypoints: d.keypoints.map((k) => ({ x: k.x, y: k.y })),
        score: d.categories[0]?.score ?? 0,
      }));
  }

  close() {
    this.detector.close();
  }
}
