// Screening records on the device: save, history after reload, JSON export → erase → import, encryption at rest
// (read from raw IndexedDB), lock and unlock. The test-tiny model: the records flow does not need the ResNet-100.
import { test, expect, type Page } from '@playwright/test';
import { readFile } from 'node:fs/promises';
import { fixture, openApp, screen } from './app';

test.describe.configure({ mode: 'serial' });

const APP = '?model=test-tiny';
/** A patient reference that is also an HTML injection attempt: it must show as text and never run. */
const HOSTILE_REF = '<img src=x onerror="window.__xss=1">MRN-48213';
const PASSPHRASE = 'ward 7 tablet passphrase';

let page: Page;
let exported: { cases: Record<string, unknown>[] };
let cropPng: Buffer;

test.beforeAll(async ({ browser }) => {
  // One context: a second tab of the same browser shares its IndexedDB.
  page = await (await browser.newContext()).newPage();
  await openApp(page, APP);
});

test.afterAll(async () => {
  await page.context().close();
});

/** Every stored case as IndexedDB holds it, with byte arrays as latin-1 text so they can be searched. */
async function rawCases(p: Page): Promise<{ id: string; keys: string[]; text: string; sealedBytes: number | null }[]> {
  return p.evaluate(
    () =>
      new Promise((resolve, reject) => {
        const req = indexedDB.open('facies-records');
        req.onerror = () => reject(req.error ?? new Error('IndexedDB request failed'));
        req.onsuccess = () => {
          const db = req.result;
          const all = db.transaction('cases').objectStore('cases').getAll();
          all.onsuccess = () => {
            db.close();
            const flat = (v: unknown): string => {
              if (v instanceof Uint8Array) {
                let s = '';
                for (let i = 0; i < v.length; i++) s += String.fromCharCode(v[i]!);
                return s;
              }
              if (v && typeof v === 'object')
                return Object.entries(v)
                  .map(([k, x]) => `${k}:${flat(x)}`)
                  .join('|');
              return String(v);
            };
            resolve(
              all.result.map((v: { id: string; sealed?: { data: Uint8Array } }) => ({
                id: v.id,
                keys: Object.keys(v),
                text: flat(v),
                sealedBytes: v.sealed ? v.sealed.data.byteLength : null,
              })),
            );
          };
        };
      }),
  );
}

async function saveScreening(p: Page, fields: { ref: string; keepPhoto: boolean; notes: string }) {
  await screen(p, fixture('astronaut.png'));
  const form = p.getByTestId('save-case');
  await expect(form.getByTestId('case-save')).toBeVisible({ timeout: 60_000 });
  await form.getByTestId('case-patient-ref').fill(fields.ref);
  await form.getByTestId('case-age-years').fill('4');
  await form.getByTestId('case-age-months').fill('7');
  await form.getByTestId('case-sex-female').check();
  // Consent must be recorded before saving.
  await form.getByTestId('case-save').click();
  await expect(form.getByRole('alert')).toContainText('consent');
  await form.getByTestId('case-consent-yes').check();
  if (fields.keepPhoto) await form.getByTestId('case-keep-photo').check();
  await form.getByTestId('case-clinician').fill('Dr. Lin');
  await form.getByTestId('case-notes').fill(fields.notes);
  await form.getByTestId('case-save').click();
  const saved = form.getByTestId('case-saved');
  await expect(saved).toBeVisible();
  return (await saved.getAttribute('data-case-id'))!;
}

/** Exports through the export panel: encrypted with `passphrase`, else in clear after the acknowledgement. */
async function exportFile(p: Page, testId: 'export-json' | 'export-csv', passphrase?: string): Promise<{ text: string; name: string }> {
  await p.getByTestId(testId).click();
  const panel = p.getByTestId('export-panel');
  let trigger = 'export-plain';
  if (passphrase) {
    await panel.getByTestId('export-passphrase').fill(passphrase);
    await panel.getByTestId('export-passphrase-confirm').fill(passphrase);
    trigger = 'export-encrypted';
  } else {
    // A file in clear needs the clinician to say they understand what it holds.
    await expect(panel.getByTestId('export-plain')).toBeDisabled();
    await panel.getByTestId('export-plain-ack').check();
  }
  const [dl] = await Promise.all([p.waitForEvent('download'), panel.getByTestId(trigger).click()]);
  await expect(panel.getByTestId('export-done')).toBeVisible();
  const text = await readFile(await dl.path(), 'utf8');
  await panel.getByTestId('export-close').click();
  return { text, name: dl.suggestedFilename() };
}

/** The cases of a plain (version-2, JSON Lines) archive: the lines between the header and the closing count. */
const archiveCases = (text: string) => ({
  cases: text
    .trimEnd()
    .split('\n')
    .slice(1, -1)
    .map((l) => JSON.parse(l).case as Record<string, unknown>),
});

test('first run asks about encryption; a screening is saved with a patient reference and found in history after reload', async () => {
  await screen(page, fixture('astronaut.png'));
  await expect(page.getByTestId('encryption-setup')).toBeVisible({ timeout: 60_000 });
  await page.getByTestId('encryption-skip').click();
  const id = await saveScreening(page, { ref: HOSTILE_REF, keepPhoto: true, notes: '<script>window.__xss=2</script> follow up in 3 months' });
  await saveScreening(page, { ref: 'MRN-55100', keepPhoto: false, notes: 'second' });

  await page.reload();
  await expect(page.getByTestId('model-ready')).toBeVisible({ timeout: 120_000 });
  await page.getByTestId('nav-history').click();
  const rows = page.getByTestId('history-row');
  await expect(rows).toHaveCount(2);
  const row = page.locator(`[data-testid="history-row"][data-case-id="${id}"]`);
  await expect(row.getByTestId('history-patient-ref')).toHaveText(HOSTILE_REF);
  await page.getByTestId('history-search').fill('mrn-482');
  await expect(rows).toHaveCount(1);
  await page.getByTestId('history-search').fill('');

  // Case detail and printable report: text fields shown as text, never run.
  await row.getByTestId('history-open').click();
  const report = page.getByTestId('case-report');
  await expect(report.getByTestId('report-patient-ref')).toHaveText(HOSTILE_REF);
  await expect(report.getByTestId('report-notes')).toContainText('<script>');
  await expect(report.getByTestId('report-notice')).toContainText('not a diagnosis');
  await expect(report.getByTestId('report-demo-notice')).toContainText('no clinical meaning');
  await expect(report.getByTestId('case-crop')).toBeVisible();
  expect(await page.evaluate(() => (window as { __xss?: number }).__xss)).toBeUndefined();

  // Follow-up: the confirmed diagnosis is saved and counted in the summary.
  await page.getByTestId('case-diagnosis').selectOption('wbs');
  await page.getByTestId('case-diagnosis-detail').fill('7q11.23 deletion');
  await page.getByTestId('case-edit-save').click();
  await expect(page.getByTestId('case-edit-message')).toHaveAttribute('role', 'status');
  await page.getByTestId('nav-summary').click();
  await expect(page.getByTestId('summary-counts')).toHaveAttribute('data-total', '2');
  await expect(page.getByTestId('confusion-matrix')).toBeVisible();

  // Print stylesheet: only the report is on the page.
  await page.goto(`/${APP}#/history?case=${id}`);
  await expect(page.getByTestId('case-report')).toBeVisible({ timeout: 60_000 });
  await page.emulateMedia({ media: 'print' });
  await expect(page.locator('.app-nav')).toBeHidden();
  await expect(page.getByTestId('case-edit-save')).toBeHidden();
  await expect(page.getByTestId('case-report')).toBeVisible();
  await page.emulateMedia({ media: 'screen' });
  await page.getByTestId('case-back').click();
});

test('archive export, erase everything, import: the same cases come back; CSV has one row per case', async () => {
  const csv = (await exportFile(page, 'export-csv')).text;
  expect(csv.trimEnd().split('\r\n')).toHaveLength(3);
  const plain = await exportFile(page, 'export-json');
  expect(plain.name).toMatch(/^facies-cases-.*\.jsonl$/);
  exported = archiveCases(plain.text);
  expect(exported.cases).toHaveLength(2);
  const withPhoto = exported.cases.find((c) => c.patientRef === HOSTILE_REF)!;
  expect((withPhoto.photo as { base64: string }).base64.length).toBeGreaterThan(1000);
  cropPng = Buffer.from(withPhoto.crop as string, 'base64');

  // "Erase all data on this device" deletes the database; the open app must not block it.
  const blocked = await page.evaluate(
    () =>
      new Promise<boolean>((resolve) => {
        let wasBlocked = false;
        const req = indexedDB.deleteDatabase('facies-records');
        req.onblocked = () => (wasBlocked = true);
        req.onsuccess = () => resolve(wasBlocked);
      }),
  );
  expect(blocked).toBe(false);
  await page.reload();
  await page.getByTestId('nav-history').click();
  await page.getByTestId('encryption-skip').click();
  await expect(page.getByTestId('history-count')).toHaveAttribute('data-count', '0');

  // A foreign file is refused with a clear message.
  await page
    .getByTestId('import-file')
    .setInputFiles({ name: 'manifest.json', mimeType: 'application/json', buffer: Buffer.from('{"format":"facies-model-manifest/1"}') });
  await expect(page.getByTestId('import-error')).toContainText('not a Facies records archive');

  const archive = Buffer.from(plain.text);
  await page.getByTestId('import-file').setInputFiles({ name: 'cases.jsonl', mimeType: 'application/x-ndjson', buffer: archive });
  await expect(page.getByTestId('import-counts')).toHaveAttribute('data-new', '2');
  // Read and staged, not yet imported.
  await expect(page.getByTestId('history-count')).toHaveAttribute('data-count', '0');
  await page.getByTestId('import-confirm').click();
  await expect(page.getByTestId('import-done')).toContainText('2 added');
  await expect(page.getByTestId('history-row')).toHaveCount(2);
  const again = archiveCases((await exportFile(page, 'export-json')).text);
  const byId = (a: { cases: Record<string, unknown>[] }) => Object.fromEntries(a.cases.map((c) => [c.id, c]));
  expect(byId(again)).toEqual(byId(exported));

  // Importing the same file again: nothing to decide, nothing overwritten.
  await page.getByTestId('import-file').setInputFiles({ name: 'cases.jsonl', mimeType: 'application/x-ndjson', buffer: archive });
  await expect(page.getByTestId('import-counts')).toHaveAttribute('data-identical', '2');
  await page.getByTestId('import-confirm').click();
  await expect(page.getByTestId('import-done')).toContainText('2 skipped');

  // A file cut short (an unfinished download) is refused and nothing from it is imported.
  await page
    .getByTestId('import-file')
    .setInputFiles({ name: 'cut.jsonl', mimeType: 'application/x-ndjson', buffer: archive.subarray(0, archive.length - 30) });
  await expect(page.getByTestId('import-error')).toContainText('incomplete');
});

test('a conflicting import shows what differs, a future timestamp is flagged, and the replaced copy can be restored', async () => {
  const target = exported.cases.find((c) => c.patientRef === 'MRN-55100')!;
  const edited = (notes: string, updatedAt: string) => ({
    ...target,
    notes,
    updatedAt,
    followUp: { diagnosis: 'ns', detail: 'PTPN11', updatedAt: '2026-05-01T00:00:00.000Z' },
  });
  const future = new Date(Date.now() + 24 * 3600_000).toISOString();
  // A minute ahead (within clock tolerance) and written without milliseconds.
  const newer = new Date(Math.floor(Date.now() / 1000) * 1000 + 60_000).toISOString().replace('.000Z', 'Z');
  const file = (c: Record<string, unknown>) =>
    Buffer.from(
      [
        JSON.stringify({ format: 'facies-cases/2', exportedAt: newer, app: 'Facies test', count: 1, encryption: null }),
        JSON.stringify({ case: c }),
        '{"end":1}',
        '',
      ].join('\n'),
    );

  await page
    .getByTestId('import-file')
    .setInputFiles({ name: 'future.jsonl', mimeType: 'application/x-ndjson', buffer: file(edited('from a wrong clock', future)) });
  const row = page.getByTestId('import-conflict');
  await expect(row).toHaveAttribute('data-newer', 'file');
  await expect(row.getByTestId('import-future')).toContainText('in the future');
  await page.getByTestId('import-dup-newer').check();
  // "Newer" does not let a future timestamp win.
  await expect(row.getByTestId('import-replace')).not.toBeChecked();
  await page.getByTestId('import-cancel').click();

  await page
    .getByTestId('import-file')
    .setInputFiles({ name: 'colleague.jsonl', mimeType: 'application/x-ndjson', buffer: file(edited('seen by genetics', newer)) });
  await expect(row.locator('[data-testid="import-diff"][data-field="notes"]')).toContainText('seen by genetics');
  await expect(row.locator('[data-testid="import-diff"][data-field="diagnosis"]')).toContainText('Noonan');
  await page.getByTestId('import-dup-newer').check();
  await expect(row.getByTestId('import-replace')).toBeChecked();
  await page.getByTestId('import-confirm').click();
  await expect(page.getByTestId('import-done')).toContainText('1 replaced');
  const replaced = page.getByTestId('replaced-copies');
  await expect(replaced).toHaveAttribute('data-count', '1');
  await replaced.locator('summary').click();
  await expect(replaced.getByTestId('replaced-row')).toContainText('second');
  await replaced.getByTestId('replaced-restore').click();
  // Restored: the case has its own notes again, and the imported copy is kept in its place.
  await expect(page.locator(`[data-testid="history-row"][data-case-id="${String(target.id)}"]`)).toBeVisible();
  await expect(page.getByTestId('replaced-row')).toContainText('seen by genetics');
  await page.getByTestId('replaced-forget').click();
  await expect(page.getByTestId('replaced-copies')).toHaveCount(0);
});

test('an encrypted export holds nothing in clear and comes back with its passphrase only', async () => {
  const { text, name } = await exportFile(page, 'export-json', 'archive passphrase 1');
  expect(name).toMatch(/\.encrypted\.jsonl$/);
  expect(text).not.toContain('MRN-55100');
  expect(text).not.toContain('Dr. Lin');
  await page.getByTestId('delete-all').click();
  await page.getByTestId('delete-all-confirm').click();
  await expect(page.getByTestId('history-count')).toHaveAttribute('data-count', '0');
  await page.getByTestId('import-file').setInputFiles({ name, mimeType: 'application/x-ndjson', buffer: Buffer.from(text) });
  await page.getByTestId('import-passphrase').fill('not it');
  await page.getByTestId('import-passphrase-submit').click();
  await expect(page.getByTestId('import-passphrase-form').getByRole('alert')).toContainText('not the passphrase');
  await page.getByTestId('import-passphrase').fill('archive passphrase 1');
  await page.getByTestId('import-passphrase-submit').click();
  await page.getByTestId('import-confirm').click();
  await expect(page.getByTestId('import-done')).toContainText('2 added');
  await expect(page.getByTestId('history-row')).toHaveCount(2);
});

test('encryption on: raw IndexedDB holds neither the patient reference nor the crop in clear', async () => {
  const before = await rawCases(page);
  // Without encryption the patient reference is stored in clear (the check below can fail).
  expect(before.some((c) => c.text.includes('MRN-48213'))).toBe(true);

  await page.getByTestId('nav-settings').click();
  const section = page.getByTestId('settings-records');
  await section.locator('summary').click();
  await section.getByTestId('encryption-passphrase').fill(PASSPHRASE);
  await section.getByTestId('encryption-confirm').fill(PASSPHRASE);
  await section.getByTestId('encryption-enable').click();
  await expect(section.getByTestId('records-encryption-status')).toHaveAttribute('data-encrypted', 'true', { timeout: 60_000 });

  const raw = await rawCases(page);
  expect(raw).toHaveLength(2);
  const cropWindow = cropPng.subarray(Math.floor(cropPng.length / 2), Math.floor(cropPng.length / 2) + 48).toString('latin1');
  for (const c of raw) {
    expect(c.keys.sort()).toEqual(['createdAt', 'id', 'sealed', 'updatedAt']);
    for (const clear of ['MRN-48213', 'MRN-55100', 'Dr. Lin', 'follow up', 'onerror']) expect(c.text).not.toContain(clear);
    expect(c.text).not.toContain(cropWindow);
  }
  const withPhoto = raw.find((c) => c.id === exported.cases.find((x) => x.patientRef === HOSTILE_REF)!.id)!;
  const without = raw.find((c) => c !== withPhoto)!;
  console.log(`Stored case size (sealed): ${withPhoto.sealedBytes} bytes with the original photo, ${without.sealedBytes} bytes without`);
  console.log(`astronaut.png: ${(await readFile(fixture('astronaut.png'))).length} bytes; crop PNG: ${cropPng.length} bytes`);
});

test('locking hides the records until the passphrase is entered; a wrong passphrase changes nothing', async () => {
  await page.getByTestId('nav-history').click();
  await expect(page.getByTestId('history-row')).toHaveCount(2);
  await page.getByTestId('lock-now').click();
  await expect(page.getByTestId('records-locked')).toBeVisible();
  await expect(page.getByTestId('history-row')).toHaveCount(0);
  await expect(page.getByText('MRN-48213')).toHaveCount(0);

  const rawBefore = await rawCases(page);
  await page.getByTestId('unlock-passphrase').fill('not the passphrase');
  await page.getByTestId('unlock-submit').click();
  await expect(page.getByRole('alert')).toContainText('passphrase is not correct', { timeout: 30_000 });
  expect(await rawCases(page)).toEqual(rawBefore);

  // After a reload the key is gone: still locked.
  await page.reload();
  await page.getByTestId('nav-history').click();
  await expect(page.getByTestId('records-locked')).toBeVisible();
  await page.getByTestId('unlock-passphrase').fill(PASSPHRASE);
  await page.getByTestId('unlock-submit').click();
  await expect(page.getByTestId('history-row')).toHaveCount(2, { timeout: 30_000 });
  await expect(page.getByText(HOSTILE_REF)).toBeVisible();
});

test('two tabs: a stale edit is refused instead of overwriting; "lock now" locks both; a new passphrase re-opens them', async () => {
  const other = await page.context().newPage();
  await other.goto(`/${APP}#/history`);
  // The key lives in each tab's memory only: the second tab starts locked.
  await expect(other.getByTestId('records-locked')).toBeVisible({ timeout: 60_000 });
  await other.getByTestId('unlock-passphrase').fill(PASSPHRASE);
  await other.getByTestId('unlock-submit').click();
  await expect(other.getByTestId('history-row')).toHaveCount(2, { timeout: 30_000 });

  const id = (await page.getByTestId('history-row').first().getAttribute('data-case-id'))!;
  const openIn = (p: Page) => p.locator(`[data-testid="history-row"][data-case-id="${id}"]`).getByTestId('history-open').click();
  await openIn(page);
  await openIn(other);
  await other.getByTestId('case-edit-notes').fill('typed in the second tab');
  await page.getByTestId('case-edit-notes').fill('saved in the first tab');
  await page.getByTestId('case-edit-save').click();
  await expect(page.getByTestId('case-edit-message')).toHaveAttribute('role', 'status');
  await other.getByTestId('case-edit-save').click();
  await expect(other.getByTestId('case-edit-message')).toContainText('changed in another tab');
  await other.getByTestId('case-load-latest').click();
  await expect(other.getByTestId('case-edit-notes')).toHaveValue('saved in the first tab');

  await page.getByTestId('case-back').click();
  await page.getByTestId('lock-now').click();
  await expect(other.getByTestId('records-locked')).toBeVisible();
  await other.close();

  // Change the passphrase (every case re-sealed with a new key): the old one no longer opens the records.
  await page.getByTestId('nav-settings').click();
  const section = page.getByTestId('settings-records');
  await section.getByTestId('change-current').fill(PASSPHRASE);
  await section.getByTestId('change-next').fill('a brand new passphrase');
  await section.getByTestId('change-confirm').fill('a brand new passphrase');
  await section.getByTestId('change-submit').click();
  await expect(section.getByRole('status')).toContainText('Passphrase changed', { timeout: 60_000 });
  await page.getByTestId('lock-now').click();
  await page.getByTestId('nav-history').click();
  await page.getByTestId('unlock-passphrase').fill(PASSPHRASE);
  await page.getByTestId('unlock-submit').click();
  await expect(page.getByRole('alert')).toContainText('passphrase is not correct', { timeout: 30_000 });
  await page.getByTestId('unlock-passphrase').fill('a brand new passphrase');
  await page.getByTestId('unlock-submit').click();
  await expect(page.getByTestId('history-row')).toHaveCount(2, { timeout: 30_000 });
});
