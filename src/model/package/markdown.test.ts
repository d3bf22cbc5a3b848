import { describe, expect, it } from 'vitest';
import { MAX_LINE, parseMarkdown } from './markdown';

/** Lines crafted against backtracking patterns: each took seconds with the earlier heading, rule and table patterns. */
const hostile = [
  `#${' '.repeat(5000)}x${' '.repeat(5000)}y`,
  `## a${' '.repeat(3000)}#${' '.repeat(3000)}!`,
  `-${' -'.repeat(3000)}${' '.repeat(3000)}x`,
  `|${' |'.repeat(4000)}${' '.repeat(4000)}x`,
  `*${'a'.repeat(20000)}`,
  `[${'['.repeat(10000)}`,
];

describe('model card Markdown', () => {
  it.each(hostile.map((l, i) => [i, l] as const))('parses hostile line %i in linear time', (_i, line) => {
    const t0 = performance.now();
    parseMarkdown(`# Card\n\n${line}\n\n${line}`);
    // Linear parsing of 20 kB takes well under a millisecond per kB; the backtracking patterns took seconds.
    expect(performance.now() - t0).toBeLessThan(250);
  });

  it('still reads headings with closing hashes, rules and tables', () => {
    expect(parseMarkdown('## Intended use ##')).toEqual([{ kind: 'heading', level: 2, content: [{ kind: 'text', text: 'Intended use' }] }]);
    expect(parseMarkdown('# C#')).toEqual([{ kind: 'heading', level: 1, content: [{ kind: 'text', text: 'C#' }] }]);
    expect(parseMarkdown('* * *')).toEqual([{ kind: 'rule' }]);
    expect(parseMarkdown('| a | b |\n| --- | --- |\n| 1 | 2 |')[0]).toMatchObject({ kind: 'table', rows: [[[{ text: '1' }], [{ text: '2' }]]] });
  });

  it('caps very long lines', () => {
    const [block] = parseMarkdown('x'.repeat(50_000));
    expect(block).toMatchObject({ kind: 'paragraph' });
    const text = (block as { content: { text: string }[] }).content[0]!.text;
    expect(text.length).toBe(MAX_LINE + 1);
  });
});
