// Photos as they come from a clinic: rotated by EXIF, 12+ MP, several faces. The small test model is enough here:
// the point is decoding, detection and face choice, not the ResNet-100.
import { test, expect, type Page } from '@playwright/test';
import { readFile } from 'node:fs/promises';
import { fixture, openApp, screen } from './app';

test.describe.configure({ mode: 'serial' });

let page: Page;

test.beforeAll(async ({ browser }) => {
  page = await browser.newPage();
  await openApp(page, '?model=test-tiny');
});

test.afterAll(async () => {
  await page.close();
});

type Recipe = 'sideways' | 'large' | 'two-faces';

/** Draws a variant of astronaut.png on a canvas in the page and encodes it as JPEG (no image library needed). */
async function makeImage(p: Page, recipe: Recipe): Promise<Buffer> {
  const png = (await readFile(fixture('astronaut.png'))).toString('base64');
  const bytes = await p.evaluate(
    async ({ png, recipe }) => {
      const raw = Uint8Array.from(atob(png), (c) => c.charCodeAt(0));
      const img = await createImageBitmap(new Blob([raw], { type: 'image/png' }));
      const c = document.createElement('canvas');
      const x = c.getContext('2d')!;
      if (recipe === 'sideways') {
        // Pixels rotated 90° counter-clockwise; EXIF Orientation 6 tells viewers to turn them back.
        c.width = img.height;
        c.height = img.width;
        x.translate(0, c.height);
        x.rotate(-Math.PI / 2);
        x.drawImage(img, 0, 0);
      } else if (recipe === 'large') {
        // 12 MP, as from a phone camera: the 512×512 photo scaled up 7.8× (and padded to 4:3).
        c.width = 4000;
        c.height = 3000;
        x.fillStyle = '#777';
        x.fillRect(0, 0, 4000, 3000);
        x.imageSmoothingQuality = 'high';
        x.drawImage(img, 0, 0, 3000, 3000);
      } else {
        c.width = 1024;
        c.height = 600;
        x.fillStyle = '#888';
        x.fillRect(0, 0, 1024, 600);
        x.drawImage(img, 130, 40, 240, 240, 0, 0, 480, 480); // large face on the left
        x.drawImage(img, 130, 40, 240, 240, 640, 120, 300, 300); // smaller face on the right
      }
      const blob = await new Promise<Blob>((r) => c.toBlob((b) => r(b!), 'image/jpeg', 0.92));
      const out = new Uint8Array(await blob.arrayBuffer());
      let bin = '';
      for (let i = 0; i < out.length; i += 0x8000) bin += String.fromCharCode(...out.subarray(i, i + 0x8000));
      return btoa(bin);
    },
    { png, recipe },
  );
  return Buffer.from(bytes, 'base64');
}

/** Inserts an EXIF APP1 segment with the given Orientation right after the JPEG's SOI marker. */
function withExifOrientation(jpeg: Buffer, orientation: number): Buffer {
  const tiff = Buffer.from([
    0x4d,
    0x4d,
    0x00,
    0x2a,
    0x00,
    0x00,
    0x00,
    0x08, // big-endian TIFF header, IFD at offset 8
    0x00,
    0x01, // one entry
    0x01,
    0x12,
    0x00,
    0x03,
    0x00,
    0x00,
    0x00,
    0x01,
    0x00,
    orientation,
    0x00,
    0x00, // Orientation, SHORT, 1 value
    0x00,
    0x00,
    0x00,
    0x00, // no next IFD
  ]);
  const payload = Buffer.concat([Buffer.from('Exif\0\0', 'binary'), tiff]);
  const length = Buffer.alloc(2);
  length.writeUInt16BE(payload.length + 2);
  return Buffer.concat([jpeg.subarray(0, 2), Buffer.from([0xff, 0xe1]), length, payload, jpeg.subarray(2)]);
}

async function faceBox(p: Page): Promise<number[]> {
  return (await p.getByTestId('face-box-chosen').getAttribute('data-box'))!.split(',').map(Number);
}

test('a photo stored sideways with an EXIF orientation tag is screened upright', async () => {
  const sideways = await makeImage(page, 'sideways');
  await screen(page, { name: 'sideways-exif6.jpg', mimeType: 'image/jpeg', buffer: withExifOrientation(sideways, 6) });
  await expect(page.getByTestId('result')).toHaveAttribute('data-photo', 'sideways-exif6.jpg');
  const [x, y, w] = await faceBox(page);
  // Upright again: the face is where it is in the original 512×512 photo.
  expect(Math.abs(x! - 177)).toBeLessThan(15);
  expect(Math.abs(y! - 82)).toBeLessThan(15);
  expect(Math.abs(w! - 95)).toBeLessThan(15);
});

test('a 12-megapixel photo: detected on a downscaled copy, boxed in full-resolution coordinates', async () => {
  const big = await makeImage(page, 'large');
  await screen(page, { name: 'large-12mp.jpg', mimeType: 'image/jpeg', buffer: big });
  await expect(page.getByTestId('result')).toHaveAttribute('data-photo', 'large-12mp.jpg', { timeout: 60_000 });
  const [x, y, w] = await faceBox(page);
  const k = 3000 / 512;
  expect(Math.abs(x! - 177 * k)).toBeLessThan(80);
  expect(Math.abs(y! - 82 * k)).toBeLessThan(80);
  expect(Math.abs(w! - 95 * k)).toBeLessThan(80);
});

test('two faces: the clearest and largest is screened and says so; tapping the other screens it instead', async () => {
  const twoFaces = await makeImage(page, 'two-faces');
  await screen(page, { name: 'two-faces.jpg', mimeType: 'image/jpeg', buffer: twoFaces });
  await expect(page.getByTestId('result')).toHaveAttribute('data-photo', 'two-faces.jpg');
  await expect(page.getByTestId('face-box')).toHaveCount(1);
  await expect(page.getByTestId('face-choice')).toContainText('2 faces found — screening face 1, the clearest and largest');
  const largest = await faceBox(page);
  expect(largest[0]!).toBeLessThan(480);
  const before = await page.getByTestId('prob-wbs').getAttribute('data-value');

  await page.getByTestId('face-box').click();
  await expect(page.getByTestId('face-choice')).toContainText('screening face 2, as you chose');
  const picked = await faceBox(page);
  expect(picked[0]!).toBeGreaterThan(600);
  // A different crop went through the model.
  await expect(page.getByTestId('prob-wbs')).not.toHaveAttribute('data-value', before!);
});

test('an empty file and a non-image file get clear messages', async () => {
  await screen(page, { name: 'empty.jpg', mimeType: 'image/jpeg', buffer: Buffer.alloc(0) });
  await expect(page.getByRole('alert')).toContainText('This file is empty');
  await screen(page, { name: 'report.pdf', mimeType: 'application/pdf', buffer: Buffer.from('%PDF-1.4\n%âãÏÓ\n1 0 obj <<>> endobj\n') });
  await expect(page.getByRole('alert')).toContainText('not a photo Facies can read');
});
