import { defineConfig } from '@playwright/test';
import { chromiumArgs } from './e2e/browser';
import { CHROMIUM } from './scripts/system-tools';

// One worker: the machine has 2 cores and the ResNet-100 uses both. Each test file shares one page
// (and so one model session) across its tests.
const port = Number(process.env.FACIES_PORT ?? 4173);
/** Debian nginx with the shipped site configuration (deploy/facies-site.conf), serving the same build. */
const nginxPort = port + 2;

export default defineConfig({
  testDir: 'e2e',
  testMatch: '**/*.spec.ts',
  workers: 1,
  fullyParallel: false,
  retries: 0,
  timeout: 180_000,
  expect: { timeout: 30_000 },
  reporter: [['list'], ['json', { outputFile: 'test-results/e2e.json' }]],
  outputDir: 'test-results/artifacts',
  use: {
    baseURL: `http://localhost:${port}`,
    browserName: 'chromium',
    launchOptions: { executablePath: CHROMIUM, args: chromiumArgs() },
    trace: 'retain-on-failure',
  },
  projects: [
    { name: 'chromium', testIgnore: ['webkit/**', 'nginx/**'] },
    // Safari's engine (WebKitGTK through WebKitWebDriver, see e2e/webkit/webkit-browser.ts); Chromium is there too,
    // for comparing the two on the same photo.
    { name: 'webkit', testMatch: 'webkit/**/*.spec.ts' },
    // The offline and screening suites again, against nginx as a hospital would deploy it, plus its headers.
    { name: 'nginx', testMatch: ['offline.spec.ts', 'screening.spec.ts', 'nginx/**/*.spec.ts'], use: { baseURL: `http://localhost:${nginxPort}` } },
  ],
  webServer: [
    {
      command: `npx vite preview --port ${port} --strictPort`,
      url: `http://localhost:${port}`,
      reuseExistingServer: !process.env.CI,
      timeout: 60_000,
    },
    {
      command: `npx tsx e2e/nginx/serve.ts ${nginxPort}`,
      url: `http://localhost:${nginxPort}`,
      reuseExistingServer: !process.env.CI,
      timeout: 60_000,
    },
  ],
});
