// Built-in sample photos for the conference demo. Only public-domain or CC0 images, copied into the build from
// tests/fixtures/faces by scripts/prepare-assets.ts (public/vendor/samples/), each with its credit.
export interface SamplePhoto {
  file: string;
  /** i18n key (kiosk namespace) of the button label. */
  labelKey: string;
  credit: string;
  licence: 'Public domain' | 'CC0 1.0';
}

export const SAMPLE_PHOTOS: readonly SamplePhoto[] = [
  { file: 'astronaut.png', labelKey: 'samples.astronaut', credit: 'Eileen Collins, NASA (via scikit-image)', licence: 'Public domain' },
  { file: 'chelsea.png', labelKey: 'samples.chelsea', credit: 'Chelsea the cat, Stéfan van der Walt (via scikit-image)', licence: 'CC0 1.0' },
];

export const sampleUrl = (s: SamplePhoto) => `/vendor/samples/${s.file}`;
