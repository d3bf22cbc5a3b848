// The production build plus the bench page (scripts/bench/vite.config.ts), built into its own folder and served
// with the app's headers, for run.ts and fixtures.ts.
import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { preview, type PreviewServer } from 'vite';

const root = resolve(import.meta.dirname, '../..');
const config = join(root, 'scripts/bench/vite.config.ts');

export function buildBenchPages(dist: string): void {
  execFileSync('npx', ['vite', 'build', '--config', config, '--logLevel', 'warn'], { cwd: root, stdio: 'inherit', env: { ...process.env, FACIES_DIST: dist } });
}

export function serveBenchPages(port: number, dist: string): Promise<PreviewServer> {
  return preview({ configFile: config, root, build: { outDir: dist }, preview: { port, strictPort: true }, logLevel: 'warn' });
}
