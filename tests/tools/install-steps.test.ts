// Every install step is in scripts/setup.sh: a module or program that is here only because someone installed it by
// hand passes on this machine and fails on a fresh one, so these checks ask Debian which package provides each one
// and fail unless setup installs that package or one of setup's packages depends on it.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { PYTHON, SYSTEM_TOOL_DEFAULTS } from '../../scripts/system-tools';

const ROOT = resolve(import.meta.dirname, '../..');

/** The Debian packages scripts/setup.sh installs (its apt_packages=(...) list). */
export function setupPackages(script: string): string[] {
  const list = /apt_packages=\(([^)]*)\)/.exec(script)?.[1];
  if (!list) throw new Error('scripts/setup.sh has no apt_packages=(...) list');
  return list.split(/\s+/).filter(Boolean);
}

/** The package that owns a file, or null when no package does. */
function owner(path: string): string | null {
  try {
    return execFileSync('dpkg', ['-S', path], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
      .split('\n')[0]!
      .split(':')[0]!
      .trim();
  } catch {
    return null;
  }
}

let installed: Set<string>;

beforeAll(() => {
  const packages = setupPackages(readFileSync(join(ROOT, 'scripts/setup.sh'), 'utf8'));
  // Packages setup installs and everything they pull in (Depends, PreDepends; setup installs without Recommends).
  const out = execFileSync(
    'apt-cache',
    ['depends', '--recurse', '--no-recommends', '--no-suggests', '--no-conflicts', '--no-breaks', '--no-replaces', '--no-enhances', ...packages],
    { encoding: 'utf8', maxBuffer: 64 << 20 },
  );
  installed = new Set(
    out
      .split('\n')
      .filter((l) => l && !l.startsWith(' '))
      .map((l) => l.replace(/:amd64$/, '').replace(/[<>]/g, '')),
  );
}, 120_000);

describe('install steps', () => {
  it('reads the package list from setup.sh', () => {
    expect(setupPackages('apt_packages=(a b\n c)\n')).toEqual(['a', 'b', 'c']);
    expect(installed.has('chromium')).toBe(true);
    expect(installed.has('libc6')).toBe(true); // a dependency, not named in setup
  });

  it('every third-party Python module the training kit imports comes from a package setup installs', () => {
    const report = JSON.parse(execFileSync(PYTHON, [join(import.meta.dirname, 'kit_imports.py'), join(ROOT, 'models/training')], { encoding: 'utf8' })) as {
      module: string;
      file: string | null;
      error?: string;
    }[];
    expect(report.map((r) => r.module)).toEqual(expect.arrayContaining(['torch', 'numpy', 'onnx', 'PIL']));
    const problems: string[] = [];
    for (const r of report) {
      if (!r.file) {
        problems.push(`${r.module}: not importable by ${PYTHON} (${r.error}); add its Debian package to scripts/setup.sh`);
        continue;
      }
      const pkg = owner(realpathSync(r.file));
      if (!pkg) problems.push(`${r.module}: ${r.file} belongs to no Debian package (installed by pip?); use a Debian package from scripts/setup.sh`);
      else if (!installed.has(pkg)) problems.push(`${r.module}: from Debian package ${pkg}, which scripts/setup.sh does not install`);
    }
    expect(problems).toEqual([]);
  }, 120_000);

  it('every program the scripts run comes from a package setup installs', () => {
    const problems: string[] = [];
    for (const [tool, path] of Object.entries(SYSTEM_TOOL_DEFAULTS)) {
      if (!existsSync(path)) {
        problems.push(`${tool}: ${path} does not exist; add the package that provides it to scripts/setup.sh`);
        continue;
      }
      const pkg = owner(realpathSync(path)) ?? owner(path);
      if (!pkg) problems.push(`${tool}: ${path} belongs to no Debian package`);
      else if (!installed.has(pkg)) problems.push(`${tool}: ${path} is from Debian package ${pkg}, which scripts/setup.sh does not install`);
    }
    expect(problems).toEqual([]);
    // dpkg -S per program: a few seconds on an idle machine, more on a busy one.
  }, 60_000);

  it('no script runs a system program that scripts/system-tools.ts does not list', () => {
    const known = new Set<string>(Object.values(SYSTEM_TOOL_DEFAULTS));
    const files = execFileSync('git', ['ls-files', '*.ts', '*.tsx', '*.mjs', '*.js', '*.sh', 'package.json', '.ci/*'], { cwd: ROOT, encoding: 'utf8' })
      .split('\n')
      .filter(Boolean);
    const unknown: string[] = [];
    for (const f of files) {
      if (f === 'scripts/system-tools.ts' || !existsSync(join(ROOT, f))) continue;
      for (const [i, line] of readFileSync(join(ROOT, f), 'utf8').split('\n').entries()) {
        if (line.startsWith('#!')) continue;
        for (const m of line.matchAll(/\/usr\/(?:s?bin|lib|libexec)\/[\w./+-]+/g)) if (!known.has(m[0])) unknown.push(`${f}:${i + 1}: ${m[0]}`);
      }
    }
    expect(unknown).toEqual([]);
  }, 60_000);
});
