// The administrator lock on a shared ward or booth tablet: kiosk mode needs a PIN and offers only the screening and
// About; leaving it, erasing, and (outside it) trusting a key or installing a model are refused without the PIN
// and work with it; wrong entries are throttled; the PIN survives a reload. The test model: no ResNet-100 needed.
import { test, expect, type Page } from '@playwright/test';
import { generateKeyPairSync } from 'node:crypto';
import { openApp } from './app';

test.describe.configure({ mode: 'serial' });

const PIN = 'booth-admin-4711';
let page: Page;

test.beforeAll(async ({ browser }) => {
  page = await (await browser.newContext()).newPage();
  await openApp(page, '?model=test-tiny&backend=wasm');
});

test.afterAll(async () => {
  await page.context().close();
});

const go = async (path: string) => {
  await page.evaluate((p) => (location.hash = `#${p}`), path);
};

async function answerPrompt(pin: string | null) {
  const prompt = page.getByTestId('admin-prompt');
  await expect(prompt).toBeVisible();
  if (pin === null) return prompt.getByTestId('admin-pin-cancel').click();
  await prompt.getByTestId('admin-pin').fill(pin);
  await prompt.getByTestId('admin-pin-submit').click();
}

test('kiosk mode cannot be switched on before an administrator PIN is set', async () => {
  await go('/settings');
  await expect(page.getByTestId('admin-status')).toHaveAttribute('data-set', 'false');
  await page.getByTestId('kiosk-toggle').click();
  await expect(page.getByTestId('kiosk-needs-pin')).toContainText('Set an administrator PIN first');
  await expect(page.getByTestId('kiosk-banner')).toHaveCount(0);
});

test('the PIN is set, kept only as a verifier, and survives a reload', async () => {
  await page.getByTestId('admin-new').fill(PIN);
  await page.getByTestId('admin-confirm').fill(PIN);
  await page.getByTestId('admin-save').click();
  await expect(page.getByTestId('admin-message')).toContainText('Saved');
  const stored = await page.evaluate(() => JSON.stringify(localStorage));
  expect(stored).not.toContain(PIN);
  expect(stored).toContain('facies-admin-lock/1');
  await page.reload();
  await expect(page.getByTestId('model-ready')).toBeVisible({ timeout: 120_000 });
  await expect(page.getByTestId('admin-status')).toHaveAttribute('data-set', 'true');
});

test('outside kiosk mode, trusting a publisher key asks for the PIN: refused when cancelled or wrong, done with it', async () => {
  await go('/models');
  await page.getByTestId('trusted-key-label').fill('Some publisher');
  await page.getByTestId('trusted-key-pem').fill(generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString());
  await page.getByTestId('trusted-key-add').click();
  await answerPrompt(null);
  await expect(page.getByTestId('trusted-key-message')).toContainText('needs the administrator PIN');
  await expect(page.getByTestId('trusted-key')).toHaveCount(0);
  await page.getByTestId('trusted-key-add').click();
  await answerPrompt('not-the-pin');
  await expect(page.getByTestId('admin-pin-error')).toContainText('That is not the administrator PIN');
  await page.getByTestId('admin-pin').fill(PIN);
  await page.getByTestId('admin-pin-submit').click();
  await expect(page.getByTestId('trusted-key')).toHaveCount(1);
});

test('installing a model package asks for the PIN once the admin moment is over', async () => {
  await go('/settings');
  await page.getByTestId('admin-lock-now').click();
  await go('/models');
  await page
    .getByTestId('package-input')
    .setInputFiles({ name: 'x.facies-model.zip', mimeType: 'application/zip', buffer: Buffer.from('PK\x03\x04 not really a package') });
  await answerPrompt(null);
  await expect(page.getByTestId('models-notice')).toContainText('needs the administrator PIN');
  await expect(page.getByTestId('import-refused')).toHaveCount(0);
});

test('kiosk mode offers only the screening and About; Settings and Models cannot be reached', async () => {
  await go('/settings');
  await page.getByTestId('kiosk-toggle').click();
  await expect(page.getByTestId('kiosk-banner')).toBeVisible();
  const nav = page.getByRole('navigation', { name: 'Main' }).getByRole('link');
  await expect(nav).toHaveCount(2);
  await expect(page.getByTestId('nav-screening')).toBeVisible();
  await expect(page.getByTestId('nav-about')).toBeVisible();
  for (const path of ['/settings', '/models', '/history', '/reader-study']) {
    await go(path);
    await expect(page.getByTestId('nav-screening')).toHaveAttribute('aria-current', 'page');
  }
});

test('in kiosk mode, leaving it and erasing the device are refused without the PIN, and survive a reload', async () => {
  page.on('dialog', (d) => void d.accept());
  await page.getByTestId('kiosk-exit').click();
  await answerPrompt('wrong-pin-1');
  await expect(page.getByTestId('admin-pin-error')).toBeVisible();
  await page.getByTestId('admin-pin-cancel').click();
  await expect(page.getByTestId('kiosk-banner')).toBeVisible();
  await page.reload();
  await expect(page.getByTestId('model-ready')).toBeVisible({ timeout: 120_000 });
  await expect(page.getByTestId('kiosk-banner')).toBeVisible();
  await go('/about');
  const databases = await page.evaluate(async () => (await indexedDB.databases()).map((d) => d.name).sort());
  await page.getByTestId('erase-data').click();
  await page.getByTestId('erase-confirm').click();
  await answerPrompt(null);
  await expect(page.getByRole('alert').filter({ hasText: 'needs the administrator PIN' })).toBeVisible();
  expect(await page.evaluate(async () => (await indexedDB.databases()).map((d) => d.name).sort())).toEqual(databases);
  expect(await page.evaluate(() => localStorage.getItem('facies.adminLock'))).not.toBeNull();
});

test('wrong entries are throttled: after three, even the right PIN waits', async () => {
  await page.getByTestId('kiosk-exit').click();
  await answerPrompt('wrong-pin-2');
  // Each entry is checked (PBKDF2, ~0.5 s) before the field is cleared for the next one.
  await expect(page.getByTestId('admin-pin-error')).toBeVisible();
  await page.getByTestId('admin-pin').fill('wrong-pin-3');
  await page.getByTestId('admin-pin-submit').click();
  await expect(page.getByTestId('admin-pin-error')).toContainText(/wait \d+ s/);
  await page.getByTestId('admin-pin').fill(PIN);
  await page.getByTestId('admin-pin-submit').click();
  await expect(page.getByTestId('admin-pin-error')).toContainText('Too many wrong entries');
  await expect(page.getByTestId('admin-pin')).toHaveValue('');
  await expect(page.getByTestId('kiosk-banner')).toBeVisible();
  // The wait is stored with the lock: a test may end it; a visitor cannot (localStorage is not reachable from the UI).
  await page.evaluate(() => {
    const s = JSON.parse(localStorage.getItem('facies.adminLock')!);
    localStorage.setItem('facies.adminLock', JSON.stringify({ ...s, blockedUntil: 0 }));
  });
  await page.getByTestId('admin-pin').fill(PIN);
  await page.getByTestId('admin-pin-submit').click();
  await expect(page.getByTestId('kiosk-banner')).toHaveCount(0);
  await expect(page.getByTestId('nav-settings')).toBeVisible();
});
