// Copies the conference demo's sample photos (public-domain / CC0, see src/app/kiosk/samples.ts for credits)
// from the shared fixtures into public/vendor/samples/, so the build serves them from the app's own origin.
import { copyFile, mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { SAMPLE_PHOTOS } from '../../src/app/kiosk/samples.ts';

export async function prepareSamples(root: string): Promise<void> {
  const from = process.env.FACIES_FIXTURES ?? join(root, '../shared/fixtures/faces');
  const to = join(root, 'public/vendor/samples');
  await mkdir(to, { recursive: true });
  for (const s of SAMPLE_PHOTOS) {
    const source = join(from, s.file);
    if (!(await stat(source).catch(() => null))) {
      console.warn(`demo sample ${s.file}: not found in ${from}; the demo mode will say it is unavailable`);
      continue;
    }
    await copyFile(source, join(to, s.file));
  }
  console.log(`demo samples: ${SAMPLE_PHOTOS.map((s) => s.file).join(', ')}`);
}
