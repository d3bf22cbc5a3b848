// What a browser lacks is said at start, in the user's language, with what still works: capabilities are taken
// away from the page before the app loads (as a browser without them would be).
import { test, expect, type Browser } from '@playwright/test';
import { fixture } from './app';

async function appWithout(browser: Browser, remove: string, locale = 'en-GB') {
  const context = await browser.newContext({ locale });
  await context.addInitScript(remove);
  const page = await context.newPage();
  await page.goto('/?model=test-tiny&backend=wasm');
  return { page, close: () => context.close() };
}

test('no SharedArrayBuffer (as in WebKit here): screening works, more slowly, and the notice says so', async ({ browser }) => {
  const { page, close } = await appWithout(browser, 'Object.defineProperty(window, "SharedArrayBuffer", { value: undefined, configurable: true });');
  try {
    const notice = page.getByTestId('capabilities');
    await expect(notice).toBeVisible();
    await expect(notice).toHaveAttribute('data-can-screen', 'true');
    await expect(notice).toHaveAttribute('role', 'status');
    await expect(page.getByTestId('capability-wasm-threads')).toContainText('one processor core');
    await expect(notice).toContainText('Screening works on this device');
  } finally {
    await close();
  }
});

test('no IndexedDB (private browsing): records and offline storage are said to be unavailable, in Chinese too', async ({ browser }) => {
  const { page, close } = await appWithout(browser, 'Object.defineProperty(window, "indexedDB", { get: () => undefined, configurable: true });', 'zh-CN');
  try {
    await expect(page.getByTestId('capability-indexeddb')).toContainText('无法保存记录');
    await expect(page.getByTestId('capabilities')).toHaveAttribute('data-can-screen', 'true');
  } finally {
    await close();
  }
});

test('no WebGL2: the app says it cannot screen photos here, and what still opens, instead of failing on the first photo', async ({ browser }) => {
  const { page, close } = await appWithout(
    browser,
    `for (const C of [HTMLCanvasElement, OffscreenCanvas]) {
       const get = C.prototype.getContext;
       C.prototype.getContext = function (kind, ...rest) { return kind === "webgl2" ? null : get.call(this, kind, ...rest); };
     }`,
  );
  try {
    const notice = page.getByTestId('capabilities');
    await expect(notice).toHaveAttribute('role', 'alert');
    await expect(notice).toContainText('This browser cannot screen photos');
    await expect(page.getByTestId('capability-webgl2')).toContainText('WebGL 2 is not available');
    await expect(notice).toContainText('Records, reports and the About page still open');
    // A photo picked anyway gets the plain reason, not a JavaScript error.
    await page.getByTestId('photo-input').setInputFiles(fixture('astronaut.png'));
    await expect(page.getByTestId('screening-error')).toContainText('The face detector could not start in this browser');
  } finally {
    await close();
  }
});
