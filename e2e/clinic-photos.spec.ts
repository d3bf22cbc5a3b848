// Clinic photos through the one screening pipeline (src/screening/pipeline.ts), on the small test model: a small
// face in a large photo, a rolled face, a photo stored sideways without EXIF, a spurious large box beside the real
// face, blurred faces, and a photo picked before the model was ready. Photos are made in the page from the fixtures.
import { test, expect, type Page } from '@playwright/test';
import { readFile } from 'node:fs/promises';
import { CLASS_IDS, fixture, openApp, probabilities, screen } from './app';

test.describe.configure({ mode: 'serial' });

let page: Page;

test.beforeAll(async ({ browser }) => {
  page = await browser.newPage();
  await openApp(page, '?model=test-tiny&backend=wasm');
});

test.afterAll(async () => {
  await page.close();
});

type Recipe =
  /** 12 MP, the face 5 % of the longer side (a tablet photo from 1–1.5 m). */
  | 'small-face'
  /** The fixture rolled 35° clockwise (its own roll is ≈ +5°). */
  | 'rolled'
  /** Pixels stored turned 90° counter-clockwise, and no EXIF orientation to say so. */
  | 'sideways'
  /** A large, heavily blurred copy of the face (the detector's low-confidence, larger box) beside the sharp face. */
  | 'spurious-beside'
  /** Blurred by ≈ 1.1 and ≈ 2.7 crop pixels. */
  | 'soft'
  | 'blurred';

/** Draws a photo from astronaut.png in the page's canvas and encodes it (JPEG, no EXIF). */
async function photo(p: Page, recipe: Recipe): Promise<{ name: string; mimeType: string; buffer: Buffer }> {
  const png = (await readFile(fixture('astronaut.png'))).toString('base64');
  const b64 = await p.evaluate(
    async ({ png, recipe }) => {
      const img = await createImageBitmap(new Blob([Uint8Array.from(atob(png), (c) => c.charCodeAt(0))], { type: 'image/png' }));
      const c = document.createElement('canvas');
      const x = c.getContext('2d')!;
      const face = { cx: 224.5, cy: 129.5, w: 95 }; // the fixture's face box centre and width
      if (recipe === 'small-face') {
        c.width = 4000;
        c.height = 3000;
        x.fillStyle = '#b8b2a7';
        x.fillRect(0, 0, c.width, c.height);
        const s = 200 / face.w;
        x.setTransform(s, 0, 0, s, 1500 - s * face.cx, 1300 - s * face.cy);
        x.drawImage(img, 0, 0);
      } else if (recipe === 'rolled') {
        c.width = c.height = 800;
        x.fillStyle = '#808080';
        x.fillRect(0, 0, 800, 800);
        x.translate(400, 400);
        x.rotate((35 * Math.PI) / 180);
        x.drawImage(img, -face.cx, -face.cy);
      } else if (recipe === 'sideways') {
        c.width = img.height;
        c.height = img.width;
        x.translate(0, c.height);
        x.rotate(-Math.PI / 2);
        x.drawImage(img, 0, 0);
      } else if (recipe === 'spurious-beside') {
        c.width = 1200;
        c.height = 800;
        x.fillStyle = '#9a9a9a';
        x.fillRect(0, 0, 1200, 800);
        const big = 250 / face.w;
        x.filter = 'blur(16px)';
        x.drawImage(img, 130, 40, 240, 240, 20, 80, 240 * big, 240 * big);
        x.filter = 'none';
        const small = 160 / face.w;
        x.drawImage(img, 130, 40, 240, 240, 1200 - 240 * small - 20, 200, 240 * small, 240 * small);
      } else {
        c.width = img.width;
        c.height = img.height;
        x.filter = recipe === 'soft' ? 'blur(1.25px)' : 'blur(3px)';
        x.drawImage(img, 0, 0);
      }
      const blob = await new Promise<Blob>((r) => c.toBlob((b) => r(b!), 'image/jpeg', 0.92));
      const bytes = new Uint8Array(await blob.arrayBuffer());
      let s = '';
      for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
      return btoa(s);
    },
    { png, recipe },
  );
  return { name: `${recipe}.jpg`, mimeType: 'image/jpeg', buffer: Buffer.from(b64, 'base64') };
}

const box = async (p: Page) => (await p.getByTestId('face-box-chosen').getAttribute('data-box'))!.split(',').map(Number) as [number, number, number, number];
const check = async (p: Page, id: string) => ({
  status: await p.getByTestId(`quality-${id}`).getAttribute('data-status'),
  value: Number(await p.getByTestId(`quality-${id}`).getAttribute('data-value')),
});

test('a small face in a 12-megapixel photo (5 % of its width) is found and screened', async () => {
  await screen(page, await photo(page, 'small-face'));
  await expect(page.getByTestId('result')).toHaveAttribute('data-photo', 'small-face.jpg', { timeout: 60_000 });
  const [x, y, w] = await box(page);
  // The face box centre was drawn at (1500, 1300), 200 px wide.
  expect(Math.abs(x + w / 2 - 1500)).toBeLessThan(40);
  expect(Math.abs(y + w / 2 - 1300)).toBeLessThan(60);
  expect(Math.abs(w - 200)).toBeLessThan(50);
  await expect(page.getByTestId('face-choice')).toContainText('One face found');
});

test('a rolled face is levelled from keypoints found again upright, and the roll alone does not block it', async () => {
  await screen(page, await photo(page, 'rolled'));
  await expect(page.getByTestId('result')).toHaveAttribute('data-photo', 'rolled.jpg', { timeout: 60_000 });
  const roll = await check(page, 'roll');
  // 35° + the fixture's own ≈ 5°: read in full (a single look at the photo read 45° as ≈ 24°).
  expect(Math.abs(roll.value - 40)).toBeLessThan(6);
  expect(roll.status).toBe('warn');
  await expect(page.getByTestId('photo-turn')).toHaveCount(0);
});

test('a photo stored sideways without EXIF is turned upright, and the result says so', async () => {
  await screen(page, await photo(page, 'sideways'));
  await expect(page.getByTestId('result')).toHaveAttribute('data-photo', 'sideways.jpg', { timeout: 60_000 });
  await expect(page.getByTestId('photo-turn')).toHaveAttribute('data-turn', '90');
  await expect(page.getByTestId('photo-turn')).toContainText('turned it 90° clockwise');
  const [x, y, w] = await box(page);
  // Upright: the face is where it is in the original 512×512 photo.
  expect(Math.abs(x - 177)).toBeLessThan(15);
  expect(Math.abs(y - 82)).toBeLessThan(15);
  expect(Math.abs(w - 95)).toBeLessThan(20);
  expect(Math.abs((await check(page, 'roll')).value)).toBeLessThan(15);
});

test('a large low-confidence box beside the real face does not win: the sharp face is screened', async () => {
  await screen(page, await photo(page, 'spurious-beside'));
  await expect(page.getByTestId('result')).toHaveAttribute('data-photo', 'spurious-beside.jpg', { timeout: 60_000 });
  const [x, , w] = await box(page);
  // The sharp face is on the right (x ≈ 850, 160 px); the blurred copy (x ≈ 20–300, larger) is not chosen.
  expect(x).toBeGreaterThan(700);
  expect(w).toBeLessThan(220);
  expect(Number(await page.getByTestId('face-box-chosen').getAttribute('data-score'))).toBeGreaterThan(0.75);
  expect((await check(page, 'sharpness')).status).toBe('pass');
});

test('blurred faces: ≈ 1 crop px of blur warns with a result, ≈ 3 px fails the gate', async () => {
  await screen(page, await photo(page, 'soft'));
  await expect(page.getByTestId('result')).toHaveAttribute('data-photo', 'soft.jpg', { timeout: 60_000 });
  expect((await check(page, 'sharpness')).status).toBe('warn');
  await screen(page, await photo(page, 'blurred'));
  await expect(page.getByTestId('quality-blocked')).toBeVisible({ timeout: 60_000 });
  const blur = await check(page, 'sharpness');
  expect(blur.status).toBe('fail');
  expect(blur.value).toBeGreaterThan(2.1);
  await expect(page.getByTestId('quality-sharpness').locator('.check-fix')).not.toBeEmpty();
});

test('one child from three photos (one failing the gate): the fused result, saved, exported and imported again', async () => {
  await screen(page, fixture('astronaut.png'));
  await expect(page.getByTestId('result')).toHaveAttribute('data-photo', 'astronaut.png', { timeout: 60_000 });
  await expect(page.getByTestId('result-fusion')).toHaveCount(0);
  await page.getByTestId('photo-add-input').setInputFiles([await photo(page, 'rolled'), await photo(page, 'blurred')]);
  const entries = page.getByTestId('photo-entry');
  await expect(entries).toHaveCount(3);
  await expect(entries.nth(1)).toHaveAttribute('data-state', 'screened', { timeout: 60_000 });
  await expect(entries.nth(2)).toHaveAttribute('data-state', 'gated', { timeout: 60_000 });
  // The blurred photo is shown, left out of the child's result, and says why.
  await expect(entries.nth(2)).toHaveAttribute('data-included', 'false');
  await expect(entries.nth(2).getByTestId('photo-left-out')).toContainText('Sharpness');
  const fusion = page.getByTestId('result-fusion');
  await expect(fusion).toHaveAttribute('data-included', '2');
  await expect(fusion).toHaveAttribute('data-photos', '3');
  await expect(fusion).toHaveAttribute('data-rule', 'mean-probability');
  await expect(fusion).toContainText('from 2 of 3 photos (mean of the photos’ probabilities)');
  // The child's result is the mean of the two included photos' own results (the manifest declares no other rule).
  const own = async (i: number) =>
    Promise.all(CLASS_IDS.map(async (c) => Number(await entries.nth(i).getByTestId(`photo-prob-${c}`).getAttribute('data-value'))));
  const [first, second] = [await own(0), await own(1)];
  await expect(entries.nth(2).getByTestId('photo-prob-wbs')).toHaveCount(0);
  const fused = await probabilities(page);
  CLASS_IDS.forEach((c, k) => expect(Math.abs(fused[c]! - (first[k]! + second[k]!) / 2)).toBeLessThan(1e-6));
  expect(first).not.toEqual(second);
  await page.screenshot({ path: 'test-results/screenshots/en-child-three-photos.png', fullPage: true });

  // Saved with every photo; exported; erased; imported: the case comes back with its three photos and the rule.
  const form = page.getByTestId('save-case');
  await expect(page.getByTestId('encryption-setup')).toBeVisible({ timeout: 60_000 });
  await page.getByTestId('encryption-skip').click();
  await form.getByTestId('case-patient-ref').fill('MRN-3PHOTO');
  await form.getByTestId('case-consent-yes').check();
  await form.getByTestId('case-save').click();
  await expect(form.getByTestId('case-saved')).toBeVisible();
  await page.getByTestId('nav-history').click();
  await page.getByTestId('export-json').click();
  const panel = page.getByTestId('export-panel');
  await panel.getByTestId('export-plain-ack').check();
  const [dl] = await Promise.all([page.waitForEvent('download'), panel.getByTestId('export-plain').click()]);
  await expect(panel.getByTestId('export-done')).toBeVisible();
  const text = await readFile(await dl.path(), 'utf8');
  await panel.getByTestId('export-close').click();
  const archived = JSON.parse(text.trimEnd().split('\n')[1]!).case as {
    extraPhotos: { crop: string | null }[];
    result: { probabilities: number[]; fusion: { rule: string; photos: { included: boolean }[] } };
  };
  expect(archived.result.fusion.rule).toBe('mean-probability');
  expect(archived.result.fusion.photos.map((ph) => ph.included)).toEqual([true, true, false]);
  expect(archived.extraPhotos.every((e) => (e.crop ?? '').length > 100)).toBe(true);
  CLASS_IDS.forEach((c, k) => expect(archived.result.probabilities[k]).toBeCloseTo(fused[c]!, 9));
  await page.getByTestId('delete-all').click();
  await page.getByTestId('delete-all-confirm').click();
  await expect(page.getByTestId('history-count')).toHaveAttribute('data-count', '0');
  await page.getByTestId('import-file').setInputFiles({ name: 'child.jsonl', mimeType: 'application/x-ndjson', buffer: Buffer.from(text) });
  await page.getByTestId('import-confirm').click();
  await expect(page.getByTestId('import-done')).toContainText('1 added');
  await page.getByTestId('history-row').getByTestId('history-open').click();
  const report = page.getByTestId('report-photos');
  await expect(report).toHaveAttribute('data-count', '3');
  await expect(report.getByTestId('report-photo')).toHaveCount(3);
  await expect(report.locator('[data-testid="report-photo"][data-included="false"]')).toContainText('left out');
  await expect(page.getByTestId('report-prob-wbs')).toHaveAttribute('data-value', String(fused.wbs));
  await page.getByTestId('case-back').click();
  await page.getByTestId('nav-screening').click();
});

test('a photo picked while the model loads is analysed at once and screened as soon as the model is ready', async ({ browser }) => {
  const context = await browser.newContext();
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  // Hold the model file (the worker's download) until the photo has been picked.
  await context.route('**/models/test-tiny/model.onnx', async (route) => {
    await held;
    await route.continue();
  });
  const p = await context.newPage();
  const errors: string[] = [];
  p.on('pageerror', (e) => errors.push(e.message));
  try {
    await p.goto('/?model=test-tiny&backend=wasm');
    await expect(p.getByTestId('model-loading')).toBeVisible();
    // Usable from the first paint.
    await expect(p.getByRole('button', { name: 'Choose photo' })).toBeEnabled();
    await expect(p.getByTestId('camera-open')).toBeEnabled();
    await screen(p, fixture('astronaut.png'));
    await expect(p.getByTestId('screening-waiting')).toBeVisible({ timeout: 60_000 });
    await expect(p.getByTestId('quality')).toHaveAttribute('data-overall', 'pass');
    await expect(p.getByRole('alert')).toHaveCount(0);
    await expect(p.getByTestId('result')).toHaveCount(0);
    release();
    await expect(p.getByTestId('result')).toHaveAttribute('data-photo', 'astronaut.png', { timeout: 120_000 });
    await expect(p.getByTestId('screening-waiting')).toHaveCount(0);
    expect(errors).toEqual([]);
  } finally {
    release();
    await context.close();
  }
});
