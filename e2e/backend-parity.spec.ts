// WebGPU (SwiftShader here: correct but slow, so a small model with the ResNet-100's operator set) versus WASM.
import { test, expect } from '@playwright/test';
import { chromiumArgs } from './browser';
import { CLASS_IDS, fixture, openApp, probabilities, screen } from './app';
import { CHROMIUM } from '../scripts/system-tools';

test.use({ launchOptions: { executablePath: CHROMIUM, args: chromiumArgs({ webgpu: true }) } });

test('the test model gives the same probabilities on WebGPU and on WASM (1e-4)', async ({ browser }) => {
  const results: Record<string, Record<string, number>> = {};
  for (const backend of ['webgpu', 'wasm'] as const) {
    const page = await browser.newPage();
    await openApp(page, `?model=test-tiny&backend=${backend}`);
    await expect(page.getByTestId('model-ready')).toContainText(backend === 'webgpu' ? 'WebGPU' : 'WASM');
    await screen(page, fixture('astronaut.png'));
    await expect(page.getByTestId('result')).toHaveAttribute('data-photo', 'astronaut.png', { timeout: 120_000 });
    await expect(page.getByTestId('backend')).toHaveAttribute('data-ep', backend);
    results[backend] = await probabilities(page);
    await page.close();
  }
  console.log(`test-tiny on astronaut.png: webgpu ${JSON.stringify(results.webgpu)} wasm ${JSON.stringify(results.wasm)}`);
  for (const id of CLASS_IDS) expect(Math.abs(results.webgpu![id]! - results.wasm![id]!)).toBeLessThan(1e-4);
  // Not a degenerate model: the probabilities are not all in one class.
  expect(Math.max(...Object.values(results.wasm!))).toBeLessThan(0.999);
});
