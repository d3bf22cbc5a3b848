// Nothing leaves the device, whatever channel a library might use: the page refuses fetch, XMLHttpRequest,
// WebSocket and EventSource to other origins before anything is sent, and its own <meta> policy blocks images and
// scripts from elsewhere. The browser is asked to record every request it would send.
import { test, expect } from '@playwright/test';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, resolve } from 'node:path';
import { openApp, recordRequests } from './app';

test('every channel to another origin is refused in the page, and nothing is sent', async ({ page }) => {
  const requests = recordRequests(page);
  const answered: string[] = [];
  const failed: string[] = [];
  page.on('response', (r) => answered.push(r.url()));
  page.on('requestfailed', (r) => failed.push(`${r.url()} ${r.failure()?.errorText}`));
  await openApp(page, '?model=test-tiny&backend=wasm');
  const outcome = await page.evaluate(async () => {
    const refused = async (attempt: () => unknown) => {
      try {
        await attempt();
        return 'sent';
      } catch (e) {
        return (e as Error).message.includes('nothing leaves this device') ? 'refused' : `error: ${(e as Error).message}`;
      }
    };
    const image = await new Promise<string>((resolve) => {
      const img = new Image();
      img.onload = () => resolve('loaded');
      img.onerror = () => resolve('blocked');
      img.src = 'https://tracker.example/pixel.png';
    });
    const script = await new Promise<string>((resolve) => {
      const s = document.createElement('script');
      s.onload = () => resolve('loaded');
      s.onerror = () => resolve('blocked');
      s.src = 'https://cdn.example/lib.js';
      document.head.append(s);
    });
    return {
      fetch: await refused(() => fetch('https://tracker.example/collect', { method: 'POST' })),
      xhr: await refused(() => new XMLHttpRequest().open('POST', 'https://tracker.example/collect')),
      webSocket: await refused(() => new WebSocket('wss://tracker.example/socket')),
      eventSource: await refused(() => new EventSource('https://tracker.example/events')),
      image,
      script,
      metaPolicy: document.querySelector('meta[http-equiv="Content-Security-Policy"]')?.getAttribute('content') ?? null,
    };
  });
  expect(outcome).toMatchObject({ fetch: 'refused', xhr: 'refused', webSocket: 'refused', eventSource: 'refused', image: 'blocked', script: 'blocked' });
  expect(outcome.metaPolicy).toContain("connect-src 'self'");
  // Only the image and the script ever became requests, and the page's own policy stopped both before the network.
  expect(requests.foreign().sort()).toEqual(['https://cdn.example/lib.js', 'https://tracker.example/pixel.png']);
  expect(answered.filter((u) => u.includes('.example/'))).toEqual([]);
  for (const f of failed.filter((x) => x.includes('.example/'))) expect(f).toMatch(/BLOCKED_BY_CSP|csp/i);
});

test("on a plain static host that sends no security headers, the page's own policy still blocks other origins", async ({ page }) => {
  const dist = resolve(import.meta.dirname, '..', process.env.FACIES_DIST ?? 'dist');
  const types: Record<string, string> = {
    '.html': 'text/html',
    '.js': 'text/javascript',
    '.mjs': 'text/javascript',
    '.css': 'text/css',
    '.wasm': 'application/wasm',
    '.json': 'application/json',
  };
  const server = createServer((req, res) => {
    const path = join(dist, decodeURIComponent((req.url ?? '/').split('?')[0]!));
    const file = existsSync(path) && statSync(path).isFile() ? path : join(dist, 'index.html');
    res.setHeader('Content-Type', types[extname(file)] ?? 'application/octet-stream');
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const failed: string[] = [];
    page.on('requestfailed', (r) => failed.push(`${r.url()} ${r.failure()?.errorText}`));
    const response = await page.goto(`http://127.0.0.1:${(server.address() as { port: number }).port}/`);
    expect(response!.headers()['content-security-policy']).toBeUndefined();
    await expect(page.getByRole('heading', { name: 'Facies', level: 1 })).toBeVisible();
    const image = await page.evaluate(
      () =>
        new Promise<string>((resolve) => {
          const img = new Image();
          img.onload = () => resolve('loaded');
          img.onerror = () => resolve('blocked');
          img.src = 'https://tracker.example/pixel.png';
        }),
    );
    expect(image).toBe('blocked');
    expect(failed).toContain('https://tracker.example/pixel.png csp');
  } finally {
    server.close();
  }
});
