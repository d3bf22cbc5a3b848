// WebGPU (SwiftShader here: correct, but about 100× slower than WASM) versus WASM.
import { test, expect } from '@playwright/test';
import { chromiumArgs } from './browser';
import { CLASS_IDS, fixture, openApp, probabilities, screen } from './app';
import { CHROMIUM } from '../scripts/system-tools';

test.use({ launchOptions: { executablePath: CHROMIUM, args: chromiumArgs({ webgpu: true }) } });

// The mission's WebGPU backend end to end on the real model: every node of the demo ResNet-100 on
// the WebGPU provider (ORT's own node-placement log, ?ortLog=verbose), and the WASM probabilities. SwiftShader
// computes on the CPU: a few minutes, once per CI run.
test('the demo ResNet-100 runs whole on WebGPU, with no node on the CPU, and gives the WASM probabilities (1e-4)', async ({ browser }) => {
  test.setTimeout(600_000);
  const results: Record<string, Record<string, number>> = {};
  const placements: Record<string, Record<string, number>> = {};
  for (const backend of ['webgpu', 'wasm'] as const) {
    const page = await browser.newPage();
    const log: string[] = [];
    page.on('console', (m) => {
      if (m.text().includes('placed on [')) log.push(m.text());
    });
    await openApp(page, `?model=demo&backend=${backend}&ortLog=verbose`, { modelTimeout: 420_000 });
    await expect(page.getByTestId('model-ready')).toContainText(backend === 'webgpu' ? 'WebGPU' : 'WASM');
    await screen(page, fixture('astronaut.png'));
    await expect(page.getByTestId('result')).toHaveAttribute('data-photo', 'astronaut.png', { timeout: 300_000 });
    await expect(page.getByTestId('backend')).toHaveAttribute('data-ep', backend);
    results[backend] = await probabilities(page);
    // "All nodes placed on [EP]. Number of nodes: N", or one "Node(s) placed on [EP]. Number of nodes: N" per provider.
    placements[backend] = {};
    for (const line of log) {
      const m = /(?:All nodes|Node\(s\)) placed on \[(\w+)\]\. Number of nodes: (\d+)/.exec(line);
      if (m) placements[backend][m[1]!] = Number(m[2]);
    }
    await page.close();
  }
  console.log(`demo on astronaut.png: webgpu ${JSON.stringify(results.webgpu)} wasm ${JSON.stringify(results.wasm)}`);
  console.log(`demo node placement: webgpu ${JSON.stringify(placements.webgpu)} wasm ${JSON.stringify(placements.wasm)}`);
  expect(Object.keys(placements.webgpu!)).toEqual(['WebGpuExecutionProvider']);
  expect(placements.webgpu!.WebGpuExecutionProvider).toBeGreaterThan(100); // the whole graph, not a fragment
  expect(Object.keys(placements.wasm!)).toEqual(['CPUExecutionProvider']); // the log was read: WASM runs on the CPU EP
  for (const id of CLASS_IDS) expect(Math.abs(results.webgpu![id]! - results.wasm![id]!)).toBeLessThan(1e-4);
  // Not a degenerate model: the probabilities are not all in one class.
  expect(Math.max(...Object.values(results.wasm!))).toBeLessThan(0.999);
});
