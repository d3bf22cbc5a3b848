// HEIC/HEIF photos (iPhone and iPad's default), which Chromium cannot decode itself: libheif in WebAssembly decodes
// them, honouring the file's orientation. The HEIC files are made here from the PNG fixture with heif-enc.
import { test, expect, type Page } from '@playwright/test';
import { CLASS_IDS, fixture, openApp, probabilities, screen } from './app';
import { heicOf } from './heic';

test.describe.configure({ mode: 'serial' });

let page: Page;
let fromPng: Record<string, number>;
/** How far the same photo saved as a JPEG (quality 90) moves the probabilities: the loss a HEIC is held to. */
let jpegDelta = 0;

const maxDelta = (a: Record<string, number>, b: Record<string, number>) => Math.max(...CLASS_IDS.map((id) => Math.abs(a[id]! - b[id]!)));

test.beforeAll(async ({ browser }) => {
  page = await browser.newPage();
  await openApp(page, '?model=test-tiny&backend=wasm');
  await screen(page, fixture('astronaut.png'));
  await expect(page.getByTestId('result')).toHaveAttribute('data-photo', 'astronaut.png', { timeout: 60_000 });
  fromPng = await probabilities(page);
  const jpeg = await page.evaluate(async () => {
    const bitmap = await createImageBitmap(await (await fetch('/vendor/samples/astronaut.png')).blob());
    const c = new OffscreenCanvas(bitmap.width, bitmap.height);
    c.getContext('2d')!.drawImage(bitmap, 0, 0);
    const bytes = new Uint8Array(await (await c.convertToBlob({ type: 'image/jpeg', quality: 0.9 })).arrayBuffer());
    let s = '';
    for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return btoa(s);
  });
  await screen(page, { name: 'astronaut-q90.jpg', mimeType: 'image/jpeg', buffer: Buffer.from(jpeg, 'base64') });
  await expect(page.getByTestId('result')).toHaveAttribute('data-photo', 'astronaut-q90.jpg', { timeout: 60_000 });
  jpegDelta = maxDelta(await probabilities(page), fromPng);
});

test.afterAll(async () => {
  await page.close();
});

for (const [name, options] of [
  ['astronaut.heic', {}],
  ['astronaut-rotated.heic', { storedTurnedClockwise: true }],
] as const) {
  test(`${name}: decoded${'storedTurnedClockwise' in options ? ' upright (irot honoured)' : ''} and screened like its PNG source`, async () => {
    await screen(page, { name, mimeType: 'image/heic', buffer: heicOf(fixture('astronaut.png'), options) });
    await expect(page.getByTestId('result')).toHaveAttribute('data-photo', name, { timeout: 60_000 });
    await expect(page.getByTestId('photo-turn')).toHaveCount(0);
    const [x, y, w] = (await page.getByTestId('face-box-chosen').getAttribute('data-box'))!.split(',').map(Number);
    expect(Math.abs(x! - 177)).toBeLessThan(12);
    expect(Math.abs(y! - 82)).toBeLessThan(12);
    expect(Math.abs(w! - 95)).toBeLessThan(15);
    const delta = maxDelta(await probabilities(page), fromPng);
    console.log(`${name}: max |Δp| vs the PNG = ${delta.toExponential(2)} (the same photo as JPEG q90: ${jpegDelta.toExponential(2)})`);
    // HEIC at quality 90 loses no more than JPEG at quality 90 (here 1.2e-2 and 6.7e-3 against 5.4e-2).
    expect(delta).toBeLessThanOrEqual(jpegDelta);
  });
}

test('a file that says HEIC but is not one is refused with the usual message', async () => {
  const fake = Buffer.concat([Buffer.from([0, 0, 0, 24]), Buffer.from('ftypheic\0\0\0\0mif1heic'), Buffer.alloc(64, 7)]);
  await screen(page, { name: 'broken.heic', mimeType: 'image/heic', buffer: fake });
  await expect(page.getByRole('alert')).toContainText('not a photo Facies can read');
});
