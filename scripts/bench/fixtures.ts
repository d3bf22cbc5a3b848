// Model inputs made from the fixture photo (and variants of it) by the app's own detection, alignment and
// preprocessing in the bench page: the real-face inputs on which an optimised model is compared with its export.
//   tsx scripts/bench/fixtures.ts <out.bin> [--photo path] [--no-build]   (float32 NCHW, [n, 3, 112, 112])
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium, type Browser } from '@playwright/test';
import { chromiumArgs } from '../../e2e/browser.ts';
import type { ModelManifest } from '../../src/model/manifest.ts';
import type { FaciesBench } from './page/bench-page.ts';
import { buildBenchPages, serveBenchPages } from './bench-server.ts';
import { faceFixture } from '../../tests/fixtures/faces.ts';
import { CHROMIUM } from '../system-tools.ts';

const root = resolve(import.meta.dirname, '../..');
export const DEFAULT_FIXTURE_PHOTO = faceFixture('astronaut.png');

export interface FixtureInputs {
  names: string[];
  /** One float32 NCHW tensor per variant in which the face was found. */
  inputs: Float32Array[];
  skipped: string[];
}

export async function collectFixtureInputs(
  browser: Browser,
  port: number,
  photo: string,
  normalization: ModelManifest['normalization'],
): Promise<FixtureInputs> {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(`http://localhost:${port}/scripts/bench/page/index.html`);
    await page.waitForSelector('#bench-status[data-ready]');
    const got = await page.evaluate((o) => (window as unknown as { faciesBench: FaciesBench }).faciesBench.fixtureInputs(o), {
      photoBase64: readFileSync(photo).toString('base64'),
      photoType: photo.endsWith('.png') ? 'image/png' : 'image/jpeg',
      normalization,
    });
    const inputs = got.inputs.map((x) => {
      const b = Buffer.from(x.inputBase64, 'base64');
      return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
    });
    return { names: got.inputs.map((x) => x.name), inputs, skipped: got.skipped };
  } finally {
    await context.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { photo: { type: 'string', default: DEFAULT_FIXTURE_PHOTO }, 'no-build': { type: 'boolean', default: false } },
  });
  const out = positionals[0];
  if (!out) throw new Error('usage: tsx scripts/bench/fixtures.ts <out.bin> [--photo path] [--no-build]');
  const port = Number(process.env.FACIES_PORT ?? 4307);
  const dist = process.env.FACIES_DIST ?? 'dist-bench';
  if (!values['no-build']) buildBenchPages(dist);
  const server = await serveBenchPages(port, dist);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: chromiumArgs() });
  try {
    const manifest = JSON.parse(readFileSync(join(root, 'models/demo/manifest.json'), 'utf8')) as ModelManifest;
    const got = await collectFixtureInputs(browser, port, values.photo, manifest.normalization);
    const all = new Float32Array(got.inputs.reduce((n, x) => n + x.length, 0));
    got.inputs.reduce((o, x) => (all.set(x, o), o + x.length), 0);
    writeFileSync(out, new Uint8Array(all.buffer));
    console.log(`${out}: ${got.inputs.length} inputs (${got.names.join(', ')})${got.skipped.length ? `; no face in: ${got.skipped.join(', ')}` : ''}`);
  } finally {
    await browser.close();
    await server.close();
  }
}
