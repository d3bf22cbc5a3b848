// Decoding a photo the user picked: EXIF orientation honoured, size limits enforced, one bitmap kept.
import { ScreeningError } from './errors';
import { decodeHeif, isHeif } from './heic';
import { declaredSize, HEADER_BYTES } from './image-header';

/** A phone photo is 12–50 MP; anything far beyond is not a clinical photo and would exhaust a tablet's memory. */
const MAX_FILE_BYTES = 60 * 1024 * 1024;
const MAX_PIXELS = 100_000_000;

export interface DecodedPhoto {
  bitmap: ImageBitmap;
  width: number;
  height: number;
  name: string;
  type: string;
  bytes: number;
}

export async function decodePhoto(file: Blob & { name?: string }): Promise<DecodedPhoto> {
  if (file.size === 0) throw new ScreeningError('empty-file');
  if (file.size > MAX_FILE_BYTES) throw new ScreeningError('file-too-large', `${(file.size / 1048576).toFixed(0)} MB`);
  // The size the file declares, checked before decoding: a few kilobytes can declare gigabytes of pixels.
  const declared = declaredSize(new Uint8Array(await file.slice(0, HEADER_BYTES).arrayBuffer()));
  if (declared && declared.width * declared.height > MAX_PIXELS) throw new ScreeningError('image-too-large', `${declared.width}×${declared.height}`);
  let bitmap: ImageBitmap;
  try {
    // 'from-image' applies the EXIF orientation, so a portrait phone photo is upright.
    bitmap = await createImageBitmap(file, { imageOrientation: 'from-image' });
  } catch {
    // HEIC/HEIF from an iPhone or iPad, on a browser that cannot decode it itself.
    const heif = isHeif(new Uint8Array(await file.slice(0, 64).arrayBuffer()))
      ? await decodeHeif(new Uint8Array(await file.arrayBuffer())).catch(() => null)
      : null;
    if (!heif) throw new ScreeningError('not-an-image', file.type || 'unknown type');
    bitmap = heif;
  }
  if (bitmap.width * bitmap.height > MAX_PIXELS) {
    bitmap.close();
    throw new ScreeningError('image-too-large', `${bitmap.width}×${bitmap.height}`);
  }
  return { bitmap, width: bitmap.width, height: bitmap.height, name: file.name ?? 'photo', type: file.type, bytes: file.size };
}
