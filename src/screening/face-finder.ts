// The one face detector of the app: MediaPipe Tasks FaceDetector (BlazeFace short range), self-hosted (runtime and
// model come from this origin), with one coordinate convention for stills and video frames alike: boxes in edge
// coordinates and keypoints in pixel-centre coordinates of the image given, as src/pipeline/face-search.ts and
// alignment read them. One MediaPipe graph serves both: it switches between IMAGE and VIDEO mode when asked.
import { FaceDetector, FilesetResolver } from '@mediapipe/tasks-vision';
import type { DetectedFace } from '../pipeline/face-search';

export interface FaceFinderOptions {
  wasmBaseUrl?: string;
  modelUrl?: string;
  minDetectionConfidence?: number;
}

/** What MediaPipe can detect in. */
export type DetectionImage = HTMLCanvasElement | OffscreenCanvas | ImageBitmap | HTMLVideoElement;

type Mode = 'IMAGE' | 'VIDEO';

/**
 * The canvas MediaPipe binds its WebGL context to. By default it makes an OffscreenCanvas; Safari's engine (WebKit)
 * has WebGL2 on a DOM canvas but not on an OffscreenCanvas, so there it gets a DOM canvas.
 */
function mediaPipeCanvas(): HTMLCanvasElement | undefined {
  if (typeof OffscreenCanvas !== 'undefined') {
    try {
      if (new OffscreenCanvas(1, 1).getContext('webgl2')) return undefined;
    } catch {
      // fall through to a DOM canvas
    }
  }
  return typeof document !== 'undefined' ? document.createElement('canvas') : undefined;
}

export class FaceFinder {
  private mode: Mode = 'IMAGE';
  private lastTimestamp = -1;
  /** Calls run one at a time: a mode switch must not land between another caller's switch and its detection. */
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(private readonly detector: FaceDetector) {}

  static async create(options: FaceFinderOptions = {}): Promise<FaceFinder> {
    const fileset = await FilesetResolver.forVisionTasks(options.wasmBaseUrl ?? '/vendor/mediapipe/wasm');
    const canvas = mediaPipeCanvas();
    const detector = await FaceDetector.createFromOptions(fileset, {
      baseOptions: { modelAssetPath: options.modelUrl ?? '/vendor/mediapipe/face_detection_short_range.tflite', delegate: 'CPU' },
      runningMode: 'IMAGE',
      minDetectionConfidence: options.minDetectionConfidence ?? 0.5,
      ...(canvas ? { canvas } : {}),
    });
    const finder = new FaceFinder(detector);
    // MediaPipe starts its graph on the first detect() (≈ 0.2–0.5 s): pay that while the model loads, not on the first photo.
    const blank =
      typeof OffscreenCanvas !== 'undefined' ? new OffscreenCanvas(128, 128) : Object.assign(document.createElement('canvas'), { width: 128, height: 128 });
    (blank.getContext('2d') as OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D).fillRect(0, 0, 128, 128);
    await finder.detect(blank);
    return finder;
  }

  private run<T>(mode: Mode, detect: () => T): Promise<T> {
    const next = this.queue.then(async () => {
      if (this.mode !== mode) {
        await this.detector.setOptions({ runningMode: mode });
        this.mode = mode;
      }
      return detect();
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Faces in a still image (a photo or a view of one). */
  detect(image: Exclude<DetectionImage, HTMLVideoElement>): Promise<DetectedFace[]> {
    return this.run('IMAGE', () => toFaces(this.detector.detect(image as HTMLCanvasElement).detections, { width: image.width, height: image.height }));
  }

  /** Faces in the current frame of a live video (MediaPipe tracks across frames; timestamps must increase). */
  detectForVideo(video: HTMLVideoElement, timestampMs: number): Promise<DetectedFace[]> {
    return this.run('VIDEO', () => {
      const ts = Math.max(timestampMs, this.lastTimestamp + 1);
      this.lastTimestamp = ts;
      return toFaces(this.detector.detectForVideo(video, ts).detections, { width: video.videoWidth, height: video.videoHeight });
    });
  }

  close() {
    this.detector.close();
  }
}

type Detection = ReturnType<FaceDetector['detect']>['detections'][number];

/** MediaPipe's keypoints are normalised to [0, 1] from the image's top-left edge: to pixel centres of that image. */
function toFaces(detections: Detection[], size: { width: number; height: number }): DetectedFace[] {
  return detections
    .filter((d) => d.boundingBox && d.keypoints.length >= 4)
    .map((d) => ({
      box: { x: d.boundingBox!.originX, y: d.boundingBox!.originY, width: d.boundingBox!.width, height: d.boundingBox!.height },
      keypoints: d.keypoints.map((k) => ({ x: k.x * size.width - 0.5, y: k.y * size.height - 0.5 })),
      score: d.categories[0]?.score ?? 0,
    }));
}
