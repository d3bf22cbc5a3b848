// HEIC/HEIF photos (the iPhone and iPad camera's default) where the browser cannot decode them itself (Chromium,
// Firefox): libheif compiled to WebAssembly (npm libheif-js, LGPL-3.0; its .wasm is inside the module, which Vite
// serves from this origin as a separate chunk, loaded only when such a photo arrives). libheif applies the
// file's orientation (irot/imir) while decoding, so the photo comes out upright.

/** ISO BMFF brands of HEVC-coded HEIF images. */
const HEIF_BRANDS = new Set(['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis', 'hevm', 'hevs', 'mif1', 'msf1']);

/** Whether the file starts with an ISO BMFF `ftyp` box naming a HEIF brand (major or compatible). */
export function isHeif(head: Uint8Array): boolean {
  if (head.length < 16) return false;
  const text = (from: number) => String.fromCharCode(head[from]!, head[from + 1]!, head[from + 2]!, head[from + 3]!);
  if (text(4) !== 'ftyp') return false;
  const size = Math.min(head.length, ((head[0]! << 24) | (head[1]! << 16) | (head[2]! << 8) | head[3]!) >>> 0);
  if (HEIF_BRANDS.has(text(8))) return true;
  for (let at = 16; at + 4 <= size; at += 4) if (HEIF_BRANDS.has(text(at))) return true;
  return false;
}

interface HeifImage {
  get_width(): number;
  get_height(): number;
  is_primary(): boolean;
  display(target: { data: Uint8ClampedArray; width: number; height: number }, done: (result: unknown) => void): void;
  free(): void;
}
interface Libheif {
  HeifDecoder: new () => { decoder: number | null; decode(bytes: Uint8Array): HeifImage[] };
  heif_context_free(context: number): void;
}

let runtime: Promise<Libheif> | null = null;

function libheif(): Promise<Libheif> {
  runtime ??= import('libheif-js/libheif-wasm/libheif-bundle.mjs').then(
    ({ default: factory }) =>
      new Promise<Libheif>((resolve, reject) => {
        try {
          // The callback can come before factory() returns: resolve on the next microtask, once `module` is set.
          const module = factory({ onRuntimeInitialized: () => queueMicrotask(() => resolve(module)) }) as Libheif;
        } catch (e) {
          reject(e instanceof Error ? e : new Error(String(e)));
        }
      }),
  );
  runtime.catch(() => (runtime = null));
  return runtime;
}

/** The primary image of a HEIF file as an upright bitmap; null when libheif cannot read it. */
export async function decodeHeif(bytes: Uint8Array): Promise<ImageBitmap | null> {
  const lib = await libheif();
  const decoder = new lib.HeifDecoder();
  const images = decoder.decode(bytes);
  const image = images.find((i) => i.is_primary()) ?? images[0];
  if (!image) return null;
  try {
    const width = image.get_width();
    const height = image.get_height();
    const data = new Uint8ClampedArray(width * height * 4);
    const ok = await new Promise<boolean>((resolve) => image.display({ data, width, height }, (r) => resolve(r !== null)));
    return ok ? await createImageBitmap(new ImageData(data, width, height)) : null;
  } finally {
    for (const i of images) i.free();
    if (decoder.decoder) lib.heif_context_free(decoder.decoder);
  }
}
