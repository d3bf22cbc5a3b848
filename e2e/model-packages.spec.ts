// A hospital's model, end to end: packed with the CLI, imported in the app offline, listed with its card and
// metrics, made active, used for a screening, then switched back; tampered and unsigned packages are refused.
import { expect, test, type Page } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fixture, openApp, screen } from './app';
import { PACKAGE_LIMITS } from '../src/model/package/package';
import { bytesSource, extractEntry, listEntries, writeZip } from '../src/model/package/zip';

const root = resolve(import.meta.dirname, '..');
const work = join(root, 'test-results', 'model-packages');
const signed = join(work, 'example-hospital.facies-model.zip');
const unsigned = join(work, 'example-hospital-unsigned.facies-model.zip');
const tampered = join(work, 'example-hospital-tampered.facies-model.zip');
const damaged = join(work, 'example-hospital-damaged.facies-model.zip');
/** Unsigned, and claiming what nobody checked: external validation and 0.95 recall for every class. */
const boldClaims = join(work, 'bold-claims-unsigned.facies-model.zip');
const BOLD_ID = 'bold-claims-tiny';
const ID = 'example-hospital-ps-tiny';

const cli = (script: string, ...args: string[]) =>
  execFileSync(join(root, 'node_modules/.bin/tsx'), [join(root, 'scripts', script), ...args], { cwd: root, encoding: 'utf8' });

test.describe.configure({ mode: 'serial' });
let page: Page;
let fingerprint = '';

test.beforeAll(async ({ browser }) => {
  // The training kit's hand-off: a folder with config.json, model.onnx and MODEL_CARD.md.
  rmSync(work, { recursive: true, force: true });
  const folder = join(work, 'trained-model');
  mkdirSync(folder, { recursive: true });
  cpSync(join(root, 'e2e/fixtures/hospital-model'), folder, { recursive: true });
  // The float32 export plus "optimize": the packer makes the float16-stored model.onnx and checks its drift.
  copyFileSync(join(root, 'models/test-tiny/model.export.onnx'), join(folder, 'model.export.onnx'));
  const config = JSON.parse(readFileSync(join(folder, 'config.json'), 'utf8'));
  config.optimize = { weights: 'float16', keepFloat32: ['/MatMul'], maxProbabilityDrift: 1e-3 };
  writeFileSync(join(folder, 'config.json'), JSON.stringify(config, null, 2));
  fingerprint = /fingerprint: ([0-9a-f ]+)/.exec(cli('model-keygen.ts', join(work, 'publisher')))![1]!.replace(/ /g, '');
  cli('model-pack.ts', folder, '--out', signed, '--sign-key', join(work, 'publisher.key.pem'));
  cli('model-pack.ts', folder, '--out', unsigned);
  const bold = join(work, 'bold-claims');
  cpSync(folder, bold, { recursive: true });
  const claims = JSON.parse(readFileSync(join(bold, 'config.json'), 'utf8'));
  claims.id = BOLD_ID;
  claims.version = '2.0.0';
  claims.clinicalValidation = {
    status: 'external',
    summary: 'Externally validated at three independent sites: recall 0.95 for every syndrome.',
    by: 'Claims Inc.',
    dataset: '1,000 children at three sites',
  };
  for (const c of Object.values<{ recall: { mean: number } }>(claims.validation.perClass)) c.recall.mean = 0.95;
  writeFileSync(join(bold, 'config.json'), JSON.stringify(claims, null, 2));
  cli('model-pack.ts', bold, '--out', boldClaims);
  // Tampered: one byte of the weights changed and the archive rebuilt, so only the manifest's SHA-256 can tell.
  const src = bytesSource(new Uint8Array(readFileSync(signed)));
  const entries = await listEntries(src, PACKAGE_LIMITS);
  const contents = await Promise.all(entries.map(async (e) => ({ name: e.name, data: await extractEntry(src, e) })));
  const weights = contents.find((f) => f.name === 'model.onnx')!.data;
  weights[weights.length - 5000] = weights[weights.length - 5000]! ^ 0xff;
  writeFileSync(tampered, Buffer.concat(writeZip(contents)));
  // Damaged: a byte flipped in the file itself, as a bad copy would.
  const bytes = readFileSync(signed);
  bytes[bytes.length - 5000] = bytes[bytes.length - 5000]! ^ 0xff;
  writeFileSync(damaged, bytes);
  expect(cli('model-verify.ts', signed, '--trust', join(work, 'publisher.pub.pem'))).toContain('ACCEPTED');

  page = await browser.newPage();
  page.on('dialog', (d) => void (d.type() === 'confirm' ? d.accept() : d.dismiss()));
  await openApp(page, '?model=test-tiny&backend=wasm');
  await page.getByTestId('nav-models').click();
  await expect(page.getByRole('heading', { name: 'Models', level: 2 })).toBeVisible();
  // Everything from here on works without a network.
  await page.context().setOffline(true);
});

test.afterAll(async () => {
  await page?.context().setOffline(false);
  await page?.close();
});

async function importPackage(file: string) {
  await page.getByTestId('package-input').setInputFiles(file);
}

test('a package signed by an unknown publisher is refused, naming the reason', async () => {
  await importPackage(signed);
  const refused = page.getByTestId('import-refused');
  await expect(refused).toHaveAttribute('data-reason', 'unknown-publisher');
  await expect(refused).toContainText("not on this device's list of trusted publishers");
  await expect(page.getByTestId('model-row').filter({ has: page.locator(`[data-model-id="${ID}"]`) })).toHaveCount(0);
});

test('the admin trusts the publisher key; the fingerprint matches the one the CLI printed', async () => {
  await page.getByTestId('trusted-key-label').fill('Example Hospital ML group');
  await page.getByTestId('trusted-key-pem').fill(readFileSync(join(work, 'publisher.pub.pem'), 'utf8'));
  await page.getByTestId('trusted-key-add').click();
  await expect(page.getByTestId('trusted-key')).toHaveAttribute('data-fingerprint', fingerprint);
});

test('the signed package imports offline, with its card, metrics and confusion matrix', async () => {
  await importPackage(signed);
  await expect(page.getByTestId('import-done')).toContainText('passed its self-test', { timeout: 60_000 });
  const row = page.locator(`[data-testid="model-row"][data-model-id="${ID}"]`);
  await expect(row).toHaveAttribute('data-version', '1.2.0');
  await expect(row).toContainText('Example Hospital PS model (test fixture)');
  await expect(row).toContainText("Example Children's Hospital, Cardiology ML group");
  await expect(row.getByTestId('model-signature')).toHaveAttribute('data-status', 'trusted');
  await expect(row.getByTestId('model-validation')).toHaveText('Internally validated');
  await expect(row.getByTestId('model-weights')).toContainText(
    /Stored as float16 \(first layers float32\), computed in float32 — probabilities within \d\.\dE-\d of the float32 export/,
  );
  await row.getByTestId(`details-${ID}`).click();
  const card = row.getByTestId('model-card');
  await expect(card.getByRole('heading', { name: 'Intended use' })).toBeVisible();
  // HTML in a card is text: shown, never run.
  await expect(card).toContainText('<script>alert("cards are rendered as text")</script>');
  await expect(card.locator('script')).toHaveCount(0);
  await expect(row.getByTestId('metrics-wbs')).toContainText('87.5%');
  await expect(row.getByTestId('metrics-accuracy')).toContainText('84.4%');
  await expect(row.getByTestId('cm-wbs-wbs')).toHaveAttribute('data-value', '35');
  await expect(row.getByTestId('cm-non_gs-algs')).toHaveAttribute('data-value', '3');
});

test('made active, it screens astronaut.png and the result names it with its validated figures', async () => {
  await page.getByTestId(`activate-${ID}`).click();
  await expect(page.getByTestId(`in-use-${ID}`)).toBeVisible({ timeout: 60_000 });
  await expect(page.getByTestId('model-ready')).toContainText('Example Hospital PS screening model (test fixture) 1.2.0');
  await page.getByTestId('nav-screening').click();
  await screen(page, fixture('astronaut.png'));
  await expect(page.getByTestId('result')).toBeVisible({ timeout: 60_000 });
  const info = page.getByTestId('result-model');
  await expect(info).toHaveAttribute('data-model-id', ID);
  await expect(info).toHaveAttribute('data-version', '1.2.0');
  await expect(info.getByTestId('result-model-name')).toHaveText('Example Hospital PS model (test fixture) 1.2.0');
  await expect(info.getByTestId('result-model-status')).toHaveText('Internally validated');
  await expect(info).toHaveAttribute('data-verified', 'true');
  await expect(info.getByTestId('result-provenance')).toHaveAttribute('data-kind', 'trusted');
  await expect(info.getByTestId('result-provenance')).toContainText('Signed by Example Hospital ML group');
  await expect(info.getByTestId('result-metric-wbs')).toHaveAttribute('data-recall', '0.875');
  await expect(info.getByTestId('result-metric-wbs')).toContainText('87.5%');
  await expect(page.getByTestId('result-demo-notice')).toHaveCount(0);
  const sum = await Promise.all(['wbs', 'ns', 'algs', 'non_gs'].map(async (c) => Number(await page.getByTestId(`prob-${c}`).getAttribute('data-value'))));
  expect(sum.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
});

test('switching back to the bundled model restores the demonstration notice', async () => {
  await page.getByTestId('nav-models').click();
  await page.getByTestId('activate-bundled').click();
  await expect(page.locator('[data-testid="model-row"][data-model-id="bundled"]')).toHaveAttribute('data-active', 'true', { timeout: 60_000 });
  await expect(page.getByTestId('demo-notice')).toBeVisible();
  expect(await page.evaluate(() => JSON.parse(localStorage.getItem('facies.settings') ?? '{}').activeModel)).toBe('');
});

test('a tampered package is refused with the reason, and the installed model is untouched', async () => {
  await importPackage(tampered);
  const refused = page.getByTestId('import-refused');
  await expect(refused).toHaveAttribute('data-reason', 'hash-mismatch');
  await expect(refused).toContainText('does not match its SHA-256 in the manifest');
  await expect(page.locator(`[data-testid="model-row"][data-model-id="${ID}"]`)).toHaveCount(1);
  await importPackage(damaged);
  await expect(refused).toHaveAttribute('data-reason', 'damaged');
  await expect(refused).toContainText('fails its ZIP checksum');
});

test('an unsigned package needs an explicit confirmation, and the decision is logged', async () => {
  await importPackage(unsigned);
  await expect(page.getByTestId('unsigned-confirm')).toContainText('This package is not signed');
  await page.getByTestId('unsigned-cancel').click();
  await expect(page.getByTestId('import-refused')).toHaveAttribute('data-reason', 'unsigned-not-confirmed');
  const log = page.getByTestId('model-log');
  await expect(log.locator('li[data-action="refused"]')).toHaveCount(4);
  await expect(log.locator('li[data-action="imported"]')).toHaveCount(1);
  await expect(log.locator('li[data-action="key-added"]')).toHaveCount(1);
});

test('an unsigned package claiming external validation installs only with confirmation; its result and report say the claims are unverified', async () => {
  await importPackage(boldClaims);
  await expect(page.getByTestId('unsigned-confirm')).toBeVisible();
  await page.getByTestId('unsigned-accept').click();
  await expect(page.getByTestId('import-done')).toContainText('passed its self-test', { timeout: 60_000 });
  const row = page.locator(`[data-testid="model-row"][data-model-id="${BOLD_ID}"]`);
  await expect(row.getByTestId('model-signature')).toHaveAttribute('data-status', 'unsigned');
  await page.getByTestId(`activate-${BOLD_ID}`).click();
  await expect(page.getByTestId(`in-use-${BOLD_ID}`)).toBeVisible({ timeout: 60_000 });
  await page.getByTestId('nav-screening').click();
  await screen(page, fixture('astronaut.png'));
  const info = page.getByTestId('result-model');
  await expect(info).toHaveAttribute('data-model-id', BOLD_ID, { timeout: 60_000 });
  await expect(info).toHaveAttribute('data-verified', 'false');
  await expect(info.getByTestId('result-model-status')).toHaveText('Externally validated — claimed by the package, not verified');
  await expect(info.getByTestId('result-provenance')).toHaveAttribute('data-kind', 'unsigned');
  await expect(info.getByTestId('result-model-metrics').locator('caption')).toContainText('not verified');
  await expect(info.getByTestId('result-metric-wbs')).toHaveAttribute('data-recall', '0.95');
  await expect(page.getByTestId('model-name')).toContainText('claimed by the package, not verified');

  // Saved, the case keeps who vouched for the model, and its printed report says the same.
  const form = page.getByTestId('save-case');
  await form.getByTestId('encryption-skip').click();
  await form.getByTestId('case-consent-no').check();
  await form.getByTestId('case-save').click();
  const id = await form.getByTestId('case-saved').getAttribute('data-case-id');
  // This page never installed the service worker (the suite ran offline from the first visit), so the records
  // screens' code is fetched now.
  await page.context().setOffline(false);
  await page.getByTestId('nav-history').click();
  await page.locator(`[data-testid="history-row"][data-case-id="${id}"]`).getByTestId('history-open').click();
  const report = page.getByTestId('case-report');
  await expect(report.getByTestId('report-provenance')).toHaveAttribute('data-kind', 'unsigned');
  await expect(report.getByTestId('report-validation')).toContainText('claimed by the package, not verified');
  await page.context().setOffline(true);

  await page.getByTestId('nav-models').click();
  await page.getByTestId('activate-bundled').click();
  await expect(page.locator('[data-testid="model-row"][data-model-id="bundled"]')).toHaveAttribute('data-active', 'true', { timeout: 60_000 });
});

test('an installed model can be deleted', async () => {
  await page.getByTestId(`delete-${ID}`).click();
  await expect(page.locator(`[data-testid="model-row"][data-model-id="${ID}"]`)).toHaveCount(0);
  await expect(page.getByTestId('model-log').locator('li[data-action="deleted"]')).toHaveCount(1);
});
