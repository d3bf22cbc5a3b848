/** "0.1.0 (2026-11-29 13:40)": package version and build, set in scripts/pwa.ts. */
declare const __FACIES_VERSION__: string;
