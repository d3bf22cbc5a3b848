// Update flow: two real builds of the app served one after the other on the same port. The new version is
// announced, does not replace the running code mid-screening, and takes over on "Reload" with nothing lost.
import { test, expect, type BrowserContext, type Page } from '@playwright/test';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { fixture, screen } from './app';

test.describe.configure({ mode: 'serial', timeout: 300_000 });

// Its own port (the app under test keeps FACIES_PORT): the test stops and starts this server.
const PORT = Number(process.env.FACIES_PORT ?? 4173) + 100;
const BASE = `http://localhost:${PORT}`;
// A: the build under test (npm run test:e2e builds it); B: the same sources built again as a newer release.
const DIST = { a: process.env.FACIES_DIST ?? 'dist', b: 'dist-update-b' } as const;

let server: ChildProcess | null = null;
let context: BrowserContext;
let page: Page;
let versionA = '';

function buildVersionB() {
  execFileSync('npx', ['vite', 'build', '--logLevel', 'error'], {
    env: { ...process.env, FACIES_DIST: DIST.b, FACIES_BUILD_ID: 'update-b' },
    stdio: 'inherit',
  });
}

async function serve(v: keyof typeof DIST) {
  server = spawn('npx', ['vite', 'preview', '--port', String(PORT), '--strictPort'], {
    env: { ...process.env, FACIES_DIST: DIST[v] },
    stdio: 'ignore',
    detached: true,
  });
  for (let i = 0; i < 120; i++) {
    if (
      await fetch(BASE).then(
        (r) => r.ok,
        () => false,
      )
    )
      return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`preview of ${DIST[v]} did not start`);
}

async function stop() {
  if (!server?.pid) return;
  process.kill(-server.pid, 'SIGTERM');
  server = null;
  for (
    let i = 0;
    i < 60 &&
    (await fetch(BASE).then(
      () => true,
      () => false,
    ));
    i++
  )
    await new Promise((r) => setTimeout(r, 250));
}

test.beforeAll(async ({ browser }) => {
  buildVersionB();
  await serve('a');
  context = await browser.newContext({ baseURL: BASE });
  page = await context.newPage();
});

test.afterAll(async () => {
  await context?.close();
  await stop();
});

test('version A installs, stores the model and screens a photo', async () => {
  await page.goto('/?model=test-tiny#/about');
  versionA = (await page.getByTestId('app-version').textContent())!;
  expect(versionA).not.toContain('update-b');
  await page.goto('/?model=test-tiny');
  await expect(page.getByTestId('model-ready')).toBeVisible({ timeout: 120_000 });
  await expect(page.getByTestId('offline-status')).toHaveAttribute('data-ready', 'true', { timeout: 120_000 });
  await page.getByTestId('language-select').selectOption('zh-CN');
  await screen(page, fixture('astronaut.png'));
  await expect(page.getByTestId('result')).toHaveAttribute('data-photo', 'astronaut.png', { timeout: 60_000 });
});

test('version B is announced, and the screening on screen stays until the user reloads', async () => {
  await stop();
  await serve('b');
  await page.evaluate(async () => (await navigator.serviceWorker.getRegistration())!.update());
  const prompt = page.getByTestId('update-prompt');
  await expect(prompt).toBeVisible({ timeout: 120_000 });
  await expect(prompt).toContainText('有可用更新');
  // Nothing swapped under the clinician: the result is still there, on version A's code.
  await page.waitForTimeout(1000);
  await expect(page.getByTestId('result')).toHaveAttribute('data-photo', 'astronaut.png');
  await expect(page.getByTestId('update-prompt')).toBeVisible();
});

test('"Reload" switches to version B with nothing lost: settings, stored model, offline readiness', async () => {
  const modelRequests: string[] = [];
  context.on('request', (r) => r.url().endsWith('/model.onnx') && modelRequests.push(r.url()));
  await Promise.all([page.waitForEvent('load'), page.getByTestId('update-reload').click()]);
  await expect(page.getByTestId('model-ready')).toBeVisible({ timeout: 120_000 });
  await expect(page.getByTestId('language-select')).toHaveValue('zh-CN');
  await expect(page.getByTestId('update-prompt')).toHaveCount(0);
  await expect(page.getByTestId('offline-status')).toHaveAttribute('data-ready', 'true', { timeout: 120_000 });
  expect(modelRequests).toEqual([]); // the model came from the store, verified, not downloaded again
  await page.goto('/?model=test-tiny#/about');
  await expect(page.getByTestId('app-version')).toContainText('update-b');
  expect(await page.getByTestId('app-version').textContent()).not.toBe(versionA);
});
