// Live camera guidance with Chromium's fake camera playing a still made from astronaut.png (a Y4M written here),
// on the small test model. The shutter's photo goes through the same screening as a chosen photo.
import { test, expect, chromium, type Browser, type Page } from '@playwright/test';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromiumArgs } from './browser';
import { fixture, openApp } from './app';
import { CHROMIUM } from '../scripts/system-tools';

test.describe.configure({ mode: 'serial' });

const W = 640;
const H = 480;
let dir: string;
let camera: Browser;
let page: Page;

/** RGBA → one Y4M frame, 4:2:0, BT.601 full range ("C420jpeg"). */
function y4m(rgba: Uint8Array, width: number, height: number): Buffer {
  const y = Buffer.alloc(width * height);
  const u = Buffer.alloc((width / 2) * (height / 2));
  const v = Buffer.alloc((width / 2) * (height / 2));
  for (let j = 0; j < height; j++) {
    for (let i = 0; i < width; i++) {
      const k = (j * width + i) * 4;
      const [r, g, b] = [rgba[k]!, rgba[k + 1]!, rgba[k + 2]!];
      y[j * width + i] = Math.round(0.299 * r + 0.587 * g + 0.114 * b);
      if (i % 2 === 0 && j % 2 === 0) {
        const c = (j / 2) * (width / 2) + i / 2;
        u[c] = Math.max(0, Math.min(255, Math.round(128 - 0.168736 * r - 0.331264 * g + 0.5 * b)));
        v[c] = Math.max(0, Math.min(255, Math.round(128 + 0.5 * r - 0.418688 * g - 0.081312 * b)));
      }
    }
  }
  const frame = Buffer.concat([Buffer.from('FRAME\n'), y, u, v]);
  return Buffer.concat([Buffer.from(`YUV4MPEG2 W${width} H${height} F10:1 Ip A1:1 C420jpeg\n`), frame, frame]);
}

test.beforeAll(async ({ browser, baseURL }) => {
  // A 640×480 camera frame with the astronaut's face in the middle, composed by a browser's canvas.
  const helper = await browser.newPage();
  const png = (await readFile(fixture('astronaut.png'))).toString('base64');
  const rgba = await helper.evaluate(
    async ({ png, W, H }) => {
      const img = await createImageBitmap(new Blob([Uint8Array.from(atob(png), (c) => c.charCodeAt(0))], { type: 'image/png' }));
      const c = new OffscreenCanvas(W, H);
      const ctx = c.getContext('2d')!;
      ctx.drawImage(img, 74, 22, 300, 225, 0, 0, W, H); // the face (centre ≈ 224, 130) to the frame centre
      return Array.from(ctx.getImageData(0, 0, W, H).data);
    },
    { png, W, H },
  );
  await helper.close();
  dir = await mkdtemp(join(tmpdir(), 'facies-camera-'));
  const video = join(dir, 'astronaut.y4m');
  await writeFile(video, y4m(Uint8Array.from(rgba), W, H));

  camera = await chromium.launch({
    executablePath: CHROMIUM,
    args: [...chromiumArgs(), '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', `--use-file-for-fake-video-capture=${video}`],
  });
  page = await camera.newPage({ baseURL });
  await openApp(page, '?model=test-tiny&backend=wasm');
});

test.afterAll(async () => {
  await camera?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('the live checks turn green for a centred, frontal, sharp face, and the shutter is enabled', async () => {
  await page.getByTestId('camera-open').click();
  await expect(page.getByTestId('camera-video')).toHaveJSProperty('readyState', 4, { timeout: 30_000 });
  for (const id of ['one-face', 'centred', 'large-enough', 'frontal', 'sharp']) {
    await expect(page.getByTestId(`camera-check-${id}`)).toHaveAttribute('data-ok', 'true', { timeout: 30_000 });
  }
  await expect(page.getByTestId('camera-shutter')).toBeEnabled();
});

test('the front/back switch restarts the camera, and the checks pass again', async () => {
  await expect(page.getByTestId('camera')).toHaveAttribute('data-facing', 'user');
  await page.getByTestId('camera-switch').click();
  await expect(page.getByTestId('camera')).toHaveAttribute('data-facing', 'environment');
  await expect(page.getByTestId('camera-error')).toHaveCount(0);
  await expect(page.getByTestId('camera-shutter')).toBeEnabled({ timeout: 30_000 });
});

test('the shutter screens the frame: the photo passes the quality gate and gets a result', async () => {
  await page.getByTestId('camera-shutter').click();
  const result = page.getByTestId('result');
  await expect(result).toBeVisible({ timeout: 60_000 });
  expect(await result.getAttribute('data-photo')).toMatch(/^camera-.*\.jpg$/);
  await expect(page.getByTestId('quality')).toHaveAttribute('data-overall', 'pass');
  await expect(page.getByTestId('camera')).toHaveCount(0);
  // The camera was released when the guidance closed.
  expect(await page.evaluate(() => document.querySelectorAll('video').length)).toBe(0);
});
