/**
 * Plain image and geometry types shared by the pipeline stages.
 *
 * Everything in `src/pipeline/` works on these plain shapes so that it runs the
 * same in a Web Worker, on the main thread and in Node unit tests. An
 * {@link RgbaImage} is structurally compatible with the DOM `ImageData`
 * (`{ width, height, data }`), so an `ImageData` can be passed where an
 * `RgbaImage` is expected without copying.
 */

/** An 8-bit RGBA image, row-major, 4 bytes per pixel, no padding between rows. */
export interface RgbaImage {
  readonly width: number;
  readonly height: number;
  /** Length `width * height * 4`; pixel (x, y) starts at `(y * width + x) * 4`. */
  readonly data: Uint8ClampedArray;
}

/**
 * A point in pixel coordinates with the **pixel-centre convention**: the centre of
 * pixel (column i, row j) is at (i, j); the image covers [-0.5, width - 0.5] ×
 * [-0.5, height - 0.5]. This is the OpenCV / InsightFace convention.
 */
export interface Point {
  readonly x: number;
  readonly y: number;
}

/** Width and height in pixels. */
export interface Size {
  readonly width: number;
  readonly height: number;
}

/** Throws a RangeError unless `image.data` has exactly `width * height * 4` bytes. */
export function assertRgbaImage(image: RgbaImage): void {
  assertImageSize(image.width, image.height);
  const expected = image.width * image.height * 4;
  if (image.data.length !== expected) {
    throw new RangeError(`RgbaImage data has ${image.data.length} bytes, expected ${expected} for ${image.width}×${image.height}`);
  }
}

function assertImageSize(width: number, height: number): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 0 || height < 0) {
    throw new RangeError(`invalid image size ${width}×${height}`);
  }
}
