// Nothing in the project reads a path outside its checkout: a clone has no sibling folders (no ../shared), so a test
// or script that reaches one passes here and fails on a fresh machine. .ci/run also runs the tests from a clone
// placed where no sibling exists; this check names the line at fault.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

/** Relative path literals ('../x', "../../y") in a line that resolve outside `root` from the file's folder. */
export function escapingPaths(root: string, file: string, line: string): string[] {
  const out: string[] = [];
  for (const m of line.matchAll(/(['"`])((?:\.\.\/)+[^'"`\s]*|\.\.)\1/g)) {
    const target = resolve(dirname(join(root, file)), m[2]!);
    if (relative(root, target).startsWith('..')) out.push(m[2]!);
  }
  return out;
}

describe('paths stay inside the checkout', () => {
  it('finds an escaping literal and accepts an inner one', () => {
    expect(escapingPaths('/r', 'e2e/app.ts', "resolve(import.meta.dirname, '../../elsewhere/photos')")).toEqual(['../../elsewhere/photos']);
    expect(escapingPaths('/r', 'e2e/app.ts', "import x from '../src/a';")).toEqual([]);
  });

  it('no tracked file names a folder beside the checkout or outside it', () => {
    const files = execFileSync('git', ['ls-files'], { cwd: ROOT, encoding: 'utf8' })
      .split('\n')
      .filter((f) => /\.(ts|tsx|mjs|js|py|sh|json|html)$|^\.ci\//.test(f) && f !== 'package-lock.json');
    const found: string[] = [];
    for (const f of files) {
      if (!existsSync(join(ROOT, f))) continue;
      for (const [i, line] of readFileSync(join(ROOT, f), 'utf8').split('\n').entries()) {
        const at = `${f}:${i + 1}`;
        for (const p of escapingPaths(ROOT, f, line)) found.push(`${at}: ${p}`);
        if (/(['"])\.\.\1\s*,\s*(['"])shared\2|\/work\/|(^|[^.\w])\.\.\/shared\//.test(line)) found.push(`${at}: ${line.trim()}`);
      }
    }
    expect(found).toEqual([]);
  });
});
