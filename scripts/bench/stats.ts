// Numbers for the benchmark report: median and spread of repeated runs, ratios, and a plain-text table.

export interface Summary {
  median: number;
  min: number;
  max: number;
  n: number;
}

export function summarize(samples: readonly number[]): Summary | null {
  const xs = samples
    .filter(Number.isFinite)
    .slice()
    .sort((a, b) => a - b);
  if (xs.length === 0) return null;
  const mid = xs.length >> 1;
  const median = xs.length % 2 ? xs[mid]! : (xs[mid - 1]! + xs[mid]!) / 2;
  return { median, min: xs[0]!, max: xs[xs.length - 1]!, n: xs.length };
}

/** a / b of two medians; null when either is missing (a stage not measured on this machine). */
export function ratio(a: Summary | null | undefined, b: Summary | null | undefined): number | null {
  if (!a || !b || b.median <= 0) return null;
  return a.median / b.median;
}

/** "612 ms (598–650, n=5)"; seconds above 10 s. */
export function formatSummary(s: Summary | null | undefined, unit: 'ms' | 'MB' = 'ms'): string {
  if (!s) return '—';
  const f = (x: number) => (unit === 'ms' && s.median >= 10_000 ? `${(x / 1000).toFixed(1)}` : x >= 100 ? x.toFixed(0) : x.toFixed(1));
  const u = unit === 'ms' && s.median >= 10_000 ? 's' : unit;
  return s.n === 1 ? `${f(s.median)} ${u}` : `${f(s.median)} ${u} (${f(s.min)}–${f(s.max)}, n=${s.n})`;
}

export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** Largest absolute difference between two probability vectors (same class order). */
export function maxAbsDifference(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length) return Infinity;
  return a.reduce((worst, x, i) => Math.max(worst, Math.abs(x - b[i]!)), 0);
}
