// Each test photo in the repository is listed in its SOURCES.md with origin, licence and SHA-256.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FACE_FIXTURES } from '../fixtures/faces';

describe('test photos', () => {
  const sources = readFileSync(join(FACE_FIXTURES, 'SOURCES.md'), 'utf8');
  const rows = new Map(
    sources
      .split('\n')
      .filter((l) => /^\| [\w.-]+\.(png|jpe?g) \|/.test(l))
      .map((l) => l.split('|').map((c) => c.trim()))
      .map((c) => [c[1]!, { licence: c[5]!, sha256: c[6]! }]),
  );

  it.each(readdirSync(FACE_FIXTURES).filter((f) => f !== 'SOURCES.md'))('%s has its source, a free licence and its hash in SOURCES.md', (file) => {
    const row = rows.get(file);
    expect(row, `${file} is not listed in SOURCES.md`).toBeDefined();
    expect(row!.licence).toMatch(/^(Public domain|CC0 1\.0)/);
    expect(
      createHash('sha256')
        .update(readFileSync(join(FACE_FIXTURES, file)))
        .digest('hex'),
    ).toBe(row!.sha256);
  });
});
