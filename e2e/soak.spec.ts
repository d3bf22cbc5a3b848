// A clinic day in one page, short form for CI: 30 screenings alternating a face and a no-face photo (the heatmap on
// some), then 20 encrypted saves and deletes. After warm-up, what the page keeps must not grow: its JS objects (heap
// snapshots after a forced GC, compiled code left out: V8 keeps optimising hot functions for a while, which looks like
// growth in the raw heap size and levels off) within 5 %, DOM nodes and listeners, object URLs and ImageBitmaps. The
// raw heap and the renderer's RSS are printed. The test-tiny model: the point is what the app keeps, not the ResNet-100.
import { test, expect, type CDPSession, type Page } from '@playwright/test';
import { readFile } from 'node:fs/promises';
import { fixture, openApp, screen } from './app';

test.describe.configure({ mode: 'serial' });

const SCREENINGS = Number(process.env.FACIES_SOAK_SCREENINGS ?? 30);
const RECORDS = Number(process.env.FACIES_SOAK_RECORDS ?? 20);
const WARM_UP = 6;
const MiB = 1024 * 1024;

let page: Page;
let cdp: CDPSession;

test.beforeAll(async ({ browser }) => {
  page = await browser.newPage();
  // Count what the page makes and lets go of: a per-photo object URL or bitmap that is never released is a leak.
  await page.addInitScript(() => {
    const live = { urls: 0, bitmaps: 0 };
    (window as unknown as { __facies_live: typeof live }).__facies_live = live;
    const create = URL.createObjectURL.bind(URL);
    const revoke = URL.revokeObjectURL.bind(URL);
    URL.createObjectURL = (o: Blob | MediaSource) => (live.urls++, create(o));
    URL.revokeObjectURL = (u: string) => (live.urls--, revoke(u));
    const bitmap = window.createImageBitmap.bind(window) as (...a: unknown[]) => Promise<ImageBitmap>;
    (window as unknown as { createImageBitmap: unknown }).createImageBitmap = async (...a: unknown[]) => {
      const b = await bitmap(...a);
      live.bitmaps++;
      const close = b.close.bind(b);
      let closed = false;
      b.close = () => {
        if (!closed) live.bitmaps--;
        closed = true;
        close();
      };
      return b;
    };
  });
  cdp = await page.context().newCDPSession(page);
  await openApp(page, '?model=test-tiny&backend=wasm');
});

test.afterAll(async () => {
  await page.close();
});

/** The page's JS heap after a full GC, and the live object URLs and bitmaps it made. */
async function sample() {
  await cdp.send('HeapProfiler.collectGarbage');
  const { usedSize } = (await cdp.send('Runtime.getHeapUsage')) as { usedSize: number };
  const live = await page.evaluate(() => ({ ...(window as unknown as { __facies_live: { urls: number; bitmaps: number } }).__facies_live }));
  const dom = (await cdp.send('Memory.getDOMCounters')) as { nodes: number; jsEventListeners: number };
  return { heap: usedSize, ...live, nodes: dom.nodes, listeners: dom.jsEventListeners, rss: await rendererRss() };
}

/** RSS of the largest renderer process (this test's page is the only one open in its browser). */
async function rendererRss(): Promise<number> {
  const { readdir } = await import('node:fs/promises');
  let best = 0;
  for (const pid of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(pid)) continue;
    const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (!cmd.includes('chromium') || !cmd.includes('--type=renderer')) continue;
    const rss = Number(/VmRSS:\s+(\d+) kB/.exec(await readFile(`/proc/${pid}/status`, 'utf8').catch(() => ''))?.[1] ?? 0) * 1024;
    best = Math.max(best, rss);
  }
  return best;
}

/** Bytes of the page's heap objects by kind (a heap snapshot after GC), compiled code left out. */
async function objectBytes(): Promise<Map<string, number>> {
  await cdp.send('HeapProfiler.collectGarbage');
  const chunks: string[] = [];
  const on = (e: { chunk: string }) => chunks.push(e.chunk);
  cdp.on('HeapProfiler.addHeapSnapshotChunk', on);
  await cdp.send('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
  cdp.off('HeapProfiler.addHeapSnapshotChunk', on);
  const snap = JSON.parse(chunks.join('')) as { snapshot: { meta: { node_fields: string[]; node_types: [string[]] } }; nodes: number[]; strings: string[] };
  const f = snap.snapshot.meta.node_fields;
  const [type, name, size] = ['type', 'name', 'self_size'].map((k) => f.indexOf(k)) as [number, number, number];
  const types = snap.snapshot.meta.node_types[0];
  const out = new Map<string, number>();
  for (let i = 0; i < snap.nodes.length; i += f.length) {
    const t = types[snap.nodes[i + type]!]!;
    if (t === 'code') continue;
    const key = ['object', 'closure', 'native', 'array'].includes(t) ? `${t} ${snap.strings[snap.nodes[i + name]!]!.slice(0, 50)}` : t;
    out.set(key, (out.get(key) ?? 0) + snap.nodes[i + size]!);
  }
  return out;
}

const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);

/** Growth of the objects the page keeps between two snapshots, with the kinds that grew most. */
function objectGrowth(name: string, before: Map<string, number>, after: Map<string, number>): number {
  const grew = [...after]
    .map(([k, v]) => [k, v - (before.get(k) ?? 0)] as const)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 4);
  const growth = (total(after) - total(before)) / total(before);
  console.log(
    `${name}: heap objects (code left out) ${mib(total(before))} → ${mib(total(after))} (${(growth * 100).toFixed(1)} %); grew most: ${grew.map(([k, v]) => `${k} +${(v / 1024).toFixed(1)} KiB`).join(', ')}`,
  );
  return growth;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const mib = (b: number) => `${(b / MiB).toFixed(1)} MiB`;

function report(name: string, samples: Awaited<ReturnType<typeof sample>>[]) {
  const early = samples.slice(0, 3);
  const late = samples.slice(-3);
  const heap = { early: median(early.map((s) => s.heap)), late: median(late.map((s) => s.heap)) };
  const rss = { early: median(early.map((s) => s.rss)), late: median(late.map((s) => s.rss)) };
  console.log(
    `${name}: JS heap ${mib(heap.early)} → ${mib(heap.late)} (${(((heap.late - heap.early) / heap.early) * 100).toFixed(1)} %), ` +
      `renderer RSS ${mib(rss.early)} → ${mib(rss.late)} (${(((rss.late - rss.early) / rss.early) * 100).toFixed(1)} %), ` +
      `DOM nodes ${early[0]!.nodes} → ${late.at(-1)!.nodes}, listeners ${early[0]!.listeners} → ${late.at(-1)!.listeners}, ` +
      `live object URLs ${samples.at(-1)!.urls}, live ImageBitmaps ${samples.at(-1)!.bitmaps}`,
  );
  return { heap, rss };
}

test(`${SCREENINGS} screenings in one page: what the page keeps is flat after warm-up and nothing per photo piles up`, async () => {
  test.setTimeout(600_000);
  const samples: Awaited<ReturnType<typeof sample>>[] = [];
  let before = new Map<string, number>();
  for (let i = 0; i < SCREENINGS; i++) {
    const face = i % 2 === 0;
    await screen(page, fixture(face ? 'astronaut.png' : 'chelsea.png'));
    if (face) {
      await expect(page.getByTestId('result')).toHaveAttribute('data-photo', 'astronaut.png', { timeout: 60_000 });
      // The heatmap on every sixth screening: 50 more model runs and two canvases each time.
      if (i % 6 === 0) {
        await page.getByTestId('heatmap-start').click();
        await expect(page.getByTestId('heatmap')).toBeVisible({ timeout: 120_000 });
      }
    } else await expect(page.getByRole('alert')).toContainText('No face was found', { timeout: 60_000 });
    if (i === WARM_UP - 1) before = await objectBytes();
    if (i >= WARM_UP - 1 && i % 2 === 1) samples.push(await sample());
  }
  report('screening soak', samples);
  expect(objectGrowth('screening soak', before, await objectBytes())).toBeLessThan(0.05);
  expect(samples.at(-1)!.nodes).toBeLessThanOrEqual(samples[0]!.nodes * 1.05);
  expect(samples.at(-1)!.listeners).toBeLessThanOrEqual(samples[0]!.listeners * 1.05);
  // The photo on screen may hold one bitmap; none accumulate, and no object URL outlives its photo.
  expect(samples.at(-1)!.bitmaps).toBeLessThanOrEqual(2);
  expect(samples.at(-1)!.urls).toBeLessThanOrEqual(1);
});

test(`${RECORDS} encrypted saves and deletes: what the page keeps is flat and the store ends empty`, async () => {
  test.setTimeout(600_000);
  await screen(page, fixture('astronaut.png'));
  await expect(page.getByTestId('encryption-setup')).toBeVisible({ timeout: 60_000 });
  await page.getByTestId('encryption-passphrase').fill('soak test passphrase 1');
  await page.getByTestId('encryption-confirm').fill('soak test passphrase 1');
  await page.getByTestId('encryption-enable').click();
  const samples: Awaited<ReturnType<typeof sample>>[] = [];
  let before = new Map<string, number>();
  for (let i = 0; i < RECORDS; i++) {
    const form = page.getByTestId('save-case');
    await expect(form.getByTestId('case-save')).toBeVisible({ timeout: 60_000 });
    await form.getByTestId('case-patient-ref').fill(`SOAK-${i}`);
    await form.getByTestId('case-consent-yes').check();
    await form.getByTestId('case-save').click();
    // Delete it as a clinician would: open it from the saved message, delete, confirm, back to screening.
    await form.getByTestId('case-saved').getByRole('link').click();
    await page.getByTestId('case-delete').click();
    await page.getByTestId('case-delete-confirm').click();
    await expect(page.getByTestId('case-report')).toHaveCount(0);
    await page.getByTestId('nav-screening').click();
    await screen(page, fixture('astronaut.png'));
    await expect(page.getByTestId('case-saved')).toHaveCount(0);
    if (i === WARM_UP - 1) before = await objectBytes();
    if (i >= WARM_UP - 1 && i % 2 === 1) samples.push(await sample());
  }
  report('records soak', samples);
  expect(objectGrowth('records soak', before, await objectBytes())).toBeLessThan(0.05);
  await page.getByTestId('nav-history').click();
  await expect(page.getByTestId('history-count')).toHaveAttribute('data-count', '0');
});
