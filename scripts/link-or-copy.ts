import { copyFileSync, linkSync, rmSync } from 'node:fs';

/** Puts `from` at `to`, replacing what is there: a hard link where the filesystem allows (models are 100–260 MB), else a copy. */
export function linkOrCopy(from: string, to: string): void {
  rmSync(to, { force: true });
  try {
    linkSync(from, to);
  } catch {
    copyFileSync(from, to);
  }
}
