// Copies the conference demo's sample photos (public-domain / CC0, see src/app/kiosk/samples.ts for credits)
// from the repository's test photos (tests/fixtures/faces) into public/vendor/samples/, so the build serves them
// from the app's own origin.
import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { SAMPLE_PHOTOS } from '../../src/app/kiosk/samples.ts';

export async function prepareSamples(root: string): Promise<void> {
  const from = join(root, 'tests/fixtures/faces');
  const to = join(root, 'public/vendor/samples');
  await mkdir(to, { recursive: true });
  for (const s of SAMPLE_PHOTOS) await copyFile(join(from, s.file), join(to, s.file));
  console.log(`demo samples: ${SAMPLE_PHOTOS.map((s) => s.file).join(', ')}`);
}
