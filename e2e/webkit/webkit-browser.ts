// Safari's engine in CI: Debian's WebKitGTK MiniBrowser, driven through WebKitWebDriver (W3C WebDriver) under a
// private Xvfb display, with selenium-webdriver as the client (Playwright's own WebKit cannot be downloaded here).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { Builder, By, until, type WebDriver, type WebElement } from 'selenium-webdriver';
import { systemTool } from '../../scripts/system-tools';

export interface WebKit {
  driver: WebDriver;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function waitFor(what: string, ok: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await Promise.resolve(ok()).catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not start within ${timeoutMs} ms`);
}

export async function startWebKit(): Promise<WebKit> {
  const processes: ChildProcess[] = [];
  const stopAll = () => processes.forEach((p) => p.kill('SIGTERM'));
  try {
    let display = 0;
    for (let n = 90 + (process.pid % 100); ; n++) {
      if (!existsSync(`/tmp/.X11-unix/X${n}`) && !existsSync(`/tmp/.X${n}-lock`)) {
        display = n;
        break;
      }
    }
    processes.push(spawn(systemTool('xvfb'), [`:${display}`, '-screen', '0', '1280x1024x24', '-nolisten', 'tcp'], { stdio: 'ignore' }));
    await waitFor('Xvfb', () => existsSync(`/tmp/.X11-unix/X${display}`));
    const port = await freePort();
    const env = { ...process.env, DISPLAY: `:${display}` };
    processes.push(spawn(systemTool('webkitDriver'), [`--port=${port}`, '--host=127.0.0.1'], { env, stdio: 'ignore' }));
    await waitFor('WebKitWebDriver', async () => (await fetch(`http://127.0.0.1:${port}/status`)).ok);
    const driver = await new Builder()
      .usingServer(`http://127.0.0.1:${port}`)
      .withCapabilities({ browserName: 'MiniBrowser', 'webkitgtk:browserOptions': { binary: systemTool('miniBrowser'), args: ['--automation'] } })
      .build();
    await driver.manage().setTimeouts({ script: 300_000 });
    return {
      driver,
      async stop() {
        await driver.quit().catch(() => undefined);
        stopAll();
      },
    };
  } catch (e) {
    stopAll();
    throw e;
  }
}

/** The element with this data-testid, once present. */
export async function byTestId(driver: WebDriver, id: string, timeoutMs = 60_000): Promise<WebElement> {
  return driver.wait(until.elementLocated(By.css(`[data-testid="${id}"]`)), timeoutMs, `no [data-testid="${id}"] within ${timeoutMs} ms`);
}

/** Waits until a script run in the page returns a truthy value, and returns it. */
export async function waitInPage<T>(driver: WebDriver, script: string, timeoutMs = 60_000, ...args: unknown[]): Promise<T> {
  return driver.wait(
    async () => (await driver.executeScript<T>(script, ...args)) || null,
    timeoutMs,
    `not true within ${timeoutMs} ms: ${script}`,
  ) as Promise<T>;
}
