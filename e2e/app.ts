// Helpers for driving Facies through its stable test ids.
import { expect, test, type Page } from '@playwright/test';
import { FACE_FIXTURES, faceFixture } from '../tests/fixtures/faces';

export const FIXTURES = FACE_FIXTURES;
export const fixture = faceFixture;
export const CLASS_IDS = ['wbs', 'ns', 'algs', 'non_gs'] as const;

/** Collects every request the page makes, to prove nothing goes to another origin. */
export function recordRequests(page: Page): { urls: string[]; foreign: () => string[] } {
  const urls: string[] = [];
  page.on('request', (r) => urls.push(r.url()));
  page.on('worker', (w) => urls.push(w.url()));
  const origin = new URL(page.url() === 'about:blank' ? test.info().project.use.baseURL! : page.url()).origin;
  return { urls, foreign: () => urls.filter((u) => !u.startsWith(`${origin}/`) && !u.startsWith('blob:') && !u.startsWith('data:')) };
}

export async function openApp(page: Page, query = '', { modelTimeout = 240_000 } = {}) {
  await page.goto(`/${query}`);
  await expect(page.getByTestId('model-ready').or(page.getByTestId('model-error'))).toBeVisible({ timeout: modelTimeout });
  await expect(page.getByTestId('model-error')).toHaveCount(0);
}

export async function screen(page: Page, file: string | { name: string; mimeType: string; buffer: Buffer }) {
  await page.getByTestId('photo-input').setInputFiles(file);
}

export async function probabilities(page: Page): Promise<Record<string, number>> {
  await expect(page.getByTestId('result')).toBeVisible();
  const out: Record<string, number> = {};
  for (const id of CLASS_IDS) out[id] = Number(await page.getByTestId(`prob-${id}`).getAttribute('data-value'));
  return out;
}
