// Locking the records ends the consultation on screen: the screening screen keeps no photo, crop, result or typed
// patient reference once the records lock (here from another tab's "lock now"; the inactivity lock takes the same way).
import { test, expect } from '@playwright/test';
import { fixture, openApp, screen } from './app';

const PASSPHRASE = 'lock clears the screen';

test('a lock clears the last patient from the screening screen', async ({ browser }) => {
  const context = await browser.newContext();
  try {
    const ward = await context.newPage();
    await openApp(ward, '?model=test-tiny&backend=wasm');
    await screen(ward, fixture('astronaut.png'));
    await expect(ward.getByTestId('result')).toBeVisible({ timeout: 60_000 });
    await ward.getByTestId('encryption-passphrase').fill(PASSPHRASE);
    await ward.getByTestId('encryption-confirm').fill(PASSPHRASE);
    await ward.getByTestId('encryption-enable').click();
    await ward.getByTestId('case-patient-ref').fill('MRN-ON-SCREEN-7');
    await expect(ward.getByTestId('face-overlay')).toBeVisible();

    const office = await context.newPage();
    await openApp(office, '?model=test-tiny&backend=wasm#/history');
    await office.getByTestId('unlock-passphrase').fill(PASSPHRASE);
    await office.getByTestId('unlock-submit').click();
    await office.getByTestId('lock-now').click();

    await expect(ward.getByTestId('result')).toHaveCount(0);
    await expect(ward.getByTestId('face-overlay')).toHaveCount(0);
    await expect(ward.getByTestId('case-patient-ref')).toHaveCount(0);
    await expect(ward.getByText('MRN-ON-SCREEN-7')).toHaveCount(0);
    // Still ready for the next patient.
    await screen(ward, fixture('astronaut.png'));
    await expect(ward.getByTestId('result')).toBeVisible({ timeout: 60_000 });
  } finally {
    await context.close();
  }
});
