// A three-photo reader study with a known answer key: the reader's answers are fixed by the test, the model's
// come from the small test model; the accuracy, recall and F1 shown and exported must be what those answers give.
import { test, expect, type Page } from '@playwright/test';
import { copyFile, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLASS_IDS, fixture, openApp, probabilities } from './app';

test.describe.configure({ mode: 'serial' });

let page: Page;
let dir: string;
// Two face photos and one without a face (the model cannot answer it: that counts as wrong).
const KEY: Record<string, string> = { 'child-a.png': 'wbs', 'child-b.png': 'ns', 'child-c.png': 'non_gs' };
const READER: Record<string, string> = { 'child-a.png': 'wbs', 'child-b.png': 'algs', 'child-c.png': 'non_gs' };

test.beforeAll(async ({ browser }) => {
  dir = await mkdtemp(join(tmpdir(), 'facies-study-'));
  await copyFile(fixture('astronaut.png'), join(dir, 'child-a.png'));
  await copyFile(fixture('astronaut.png'), join(dir, 'child-b.png'));
  await copyFile(fixture('chelsea.png'), join(dir, 'child-c.png'));
  await writeFile(join(dir, 'labels.csv'), 'file,label\nchild-a.png,WBS\nchild-b.png,NS\nchild-c.png,non-GS\n');
  page = await browser.newPage({ viewport: { width: 1024, height: 768 }, acceptDownloads: true });
  await openApp(page, '?model=test-tiny#/reader-study');
});

test.afterAll(async () => {
  await page.close();
});

test('a set without an answer key is refused with a clear message', async () => {
  await page.getByTestId('study-files').setInputFiles([join(dir, 'child-a.png'), join(dir, 'child-b.png')]);
  await expect(page.getByRole('alert')).toContainText('No answer key: add a file named labels.csv');
  await expect(page.getByTestId('study-start')).toBeDisabled();
});

test('three photos: answers before the model, then accuracy, recall and F1 for reader and model, and the CSV', async () => {
  await page.getByTestId('study-reader').fill('Dr Test');
  await page.getByTestId('study-files').setInputFiles(['child-a.png', 'child-b.png', 'child-c.png', 'labels.csv'].map((f) => join(dir, f)));
  await expect(page.getByTestId('study-loaded')).toHaveAttribute('data-count', '3');
  await expect(page.getByTestId('study-start')).toBeDisabled(); // consent not yet confirmed
  await page.getByTestId('study-consent').check();
  await page.getByTestId('study-start').click();

  const model: Record<string, string> = {};
  for (let i = 0; i < 3; i++) {
    const question = page.getByTestId('study-question');
    const photo = (await question.getAttribute('data-photo'))!;
    await expect(question).toContainText(`Photo ${i + 1} of 3`);
    // The model's answer is hidden until the reader has answered.
    await expect(page.getByTestId('study-model-answer')).toHaveCount(0);
    await page.getByTestId(`study-answer-${READER[photo]}`).click();
    const answer = page.getByTestId('study-model-answer');
    await expect(answer).toBeVisible({ timeout: 60_000 });
    model[photo] = (await answer.getAttribute('data-class'))!;
    await page.getByTestId('study-next').click();
  }
  // The same photo gives the same answer; the cat has no face.
  expect(model['child-a.png']).toBe(model['child-b.png']);
  expect(model['child-c.png']).toBe('none');

  const results = page.getByTestId('study-results');
  await expect(results).toContainText('Results for Dr Test — 3 photos');
  const value = async (id: string) => (await page.getByTestId(id).getAttribute('data-value'))!;
  // Reader: a and c right, b wrong → 2/3; recall WBS 1, NS 0, non-GS 1; F1 WBS 1, NS 0.
  expect(Number(await value('study-accuracy-reader'))).toBeCloseTo(2 / 3, 6);
  await expect(page.getByTestId('study-accuracy-reader')).toHaveText('66.7%');
  expect(Number(await value('study-recall-wbs-reader'))).toBe(1);
  expect(Number(await value('study-recall-ns-reader'))).toBe(0);
  expect(Number(await value('study-recall-non_gs-reader'))).toBe(1);
  expect(await value('study-recall-algs-reader')).toBe(''); // no ALGS photo in the set
  expect(Number(await value('study-f1-wbs-reader'))).toBe(1);
  expect(Number(await value('study-f1-ns-reader'))).toBe(0);
  // Model: right on a if it said WBS, on b if it said NS, never on c.
  const modelCorrect = Object.keys(KEY).filter((p) => model[p] === KEY[p]).length;
  expect(Number(await value('study-accuracy-model'))).toBeCloseTo(modelCorrect / 3, 6);
  await expect(results).toContainText('could not screen 1 photo');

  const download = page.waitForEvent('download');
  await page.getByTestId('study-export').click();
  const file = await download;
  expect(file.suggestedFilename()).toMatch(/^reader-study-Dr_Test-\d{4}-\d{2}-\d{2}\.csv$/);
  const csv = (await readFile(await file.path()))
    .toString('utf8')
    .replace(/^\uFEFF/, '')
    .split('\r\n');
  expect(csv[0]).toBe('reader,Dr Test');
  expect(csv).toContain('accuracy,0.6667,' + Number((modelCorrect / 3).toFixed(4)));
  expect(csv.find((l) => l.startsWith('child-b.png,'))).toMatch(/^child-b\.png,ns,algs,0,/);
  expect(csv.find((l) => l.startsWith('child-c.png,'))).toMatch(/^child-c\.png,non_gs,non_gs,1,no_face,0,/);

  // The model's answer is a screening's: the same photo screened on the screening screen (flip TTA on by
  // default) gives the probabilities the study exported, to the CSV's four decimals.
  const exported = csv
    .find((l) => l.startsWith('child-a.png,'))!
    .split(',')
    .slice(6, 10)
    .map(Number);
  await page.evaluate(() => (location.hash = '#/'));
  await page.getByTestId('photo-input').setInputFiles(fixture('astronaut.png'));
  await expect(page.getByTestId('tta')).toHaveAttribute('data-mode', 'flip');
  const screened = await probabilities(page);
  CLASS_IDS.forEach((id, i) => expect(exported[i]).toBeCloseTo(screened[id]!, 3));
});
