// A model card's Markdown, parsed into plain data that React renders as text nodes: headings, paragraphs, lists,
// tables, code blocks, bold, italics, inline code and links (shown as text with their address). Raw HTML is never
// interpreted: a <script> in a card is displayed, not run. Every pattern is linear in the line's length (no nested
// or adjacent quantifiers that can backtrack over the same characters), and lines are capped, so a hostile card
// cannot stall the Models screen.

export type Inline = { kind: 'text' | 'strong' | 'em' | 'code'; text: string } | { kind: 'link'; text: string; href: string };

export type Block =
  | { kind: 'heading'; level: 1 | 2 | 3 | 4 | 5 | 6; content: Inline[] }
  | { kind: 'paragraph'; content: Inline[] }
  | { kind: 'list'; ordered: boolean; items: Inline[][] }
  | { kind: 'table'; header: Inline[][]; rows: Inline[][][] }
  | { kind: 'code'; text: string }
  | { kind: 'quote'; content: Inline[] }
  | { kind: 'rule' };

/** Characters kept of one line; a model card has no reason for longer ones. */
export const MAX_LINE = 2000;

/** "## Title ##" → level and text, without a pattern that backtracks over the spaces. */
function heading(line: string): { level: number; text: string } | null {
  const m = /^(#{1,6})[ \t]/.exec(line);
  if (!m) return null;
  let text = line.slice(m[1]!.length).trim();
  let end = text.length;
  while (end > 0 && text[end - 1] === '#') end--;
  if (end < text.length && (end === 0 || /\s/.test(text[end - 1]!))) text = text.slice(0, end).trim();
  return { level: m[1]!.length, text };
}

/** "---", "* * *", "___": three or more of one of -*_ and nothing else but spaces. */
const isRule = (line: string) => /^([-*_])\1{2,}$/.test(line.replace(/\s+/g, ''));

export function parseMarkdown(source: string): Block[] {
  const lines = source
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .map((l) => (l.length > MAX_LINE ? `${l.slice(0, MAX_LINE)}…` : l));
  const blocks: Block[] = [];
  let i = 0;
  const isBlank = (l: string) => l.trim() === '';
  const isTableRow = (l: string) => {
    const t = l.trim();
    return t.length >= 2 && t.startsWith('|') && t.endsWith('|');
  };
  const listItem = /^\s*([-*+]|\d+[.)])\s+(.*)$/;
  while (i < lines.length) {
    const line = lines[i]!;
    if (isBlank(line)) {
      i++;
      continue;
    }
    if (/^```/.test(line)) {
      const code: string[] = [];
      i++;
      while (i < lines.length && !/^```/.test(lines[i]!)) code.push(lines[i++]!);
      i++;
      blocks.push({ kind: 'code', text: code.join('\n') });
      continue;
    }
    const h = heading(line);
    if (h) {
      blocks.push({ kind: 'heading', level: h.level as 1, content: parseInline(h.text) });
      i++;
      continue;
    }
    if (isRule(line)) {
      blocks.push({ kind: 'rule' });
      i++;
      continue;
    }
    if (isTableRow(line) && i + 1 < lines.length && /^\s*\|?\s*:?-{2,}/.test(lines[i + 1]!)) {
      const cells = (l: string) =>
        l
          .trim()
          .replace(/^\||\|$/g, '')
          .split('|')
          .map((c) => parseInline(c.trim()));
      const header = cells(line);
      const rows: Inline[][][] = [];
      i += 2;
      while (i < lines.length && isTableRow(lines[i]!)) rows.push(cells(lines[i++]!));
      blocks.push({ kind: 'table', header, rows });
      continue;
    }
    const li = listItem.exec(line);
    if (li) {
      const ordered = /\d/.test(li[1]!);
      const items: Inline[][] = [];
      while (i < lines.length) {
        const m = listItem.exec(lines[i]!);
        if (!m) break;
        items.push(parseInline(m[2]!));
        i++;
      }
      blocks.push({ kind: 'list', ordered, items });
      continue;
    }
    if (/^>\s?/.test(line)) {
      const quote: string[] = [];
      while (i < lines.length && /^>\s?/.test(lines[i]!)) quote.push(lines[i++]!.replace(/^>\s?/, ''));
      blocks.push({ kind: 'quote', content: parseInline(quote.join(' ')) });
      continue;
    }
    const para: string[] = [];
    while (i < lines.length && !isBlank(lines[i]!) && !/^(#{1,6}\s|```|>)/.test(lines[i]!) && !listItem.test(lines[i]!) && !isTableRow(lines[i]!))
      para.push(lines[i++]!.trim());
    if (para.length === 0) para.push(lines[i++]!.trim());
    blocks.push({ kind: 'paragraph', content: parseInline(para.join(' ')) });
  }
  return blocks;
}

function parseInline(text: string): Inline[] {
  const out: Inline[] = [];
  const re = /(`[^`]+`)|(\*\*[^*]+\*\*|__[^_]+__)|(\*[^*\s][^*]*\*|_[^_\s][^_]*_)|(\[[^\]]+\]\([^)\s]+\))/g;
  let last = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m.index > last) out.push({ kind: 'text', text: text.slice(last, m.index) });
    const t = m[0];
    if (m[1]) out.push({ kind: 'code', text: t.slice(1, -1) });
    else if (m[2]) out.push({ kind: 'strong', text: t.slice(2, -2) });
    else if (m[3]) out.push({ kind: 'em', text: t.slice(1, -1) });
    else {
      const link = /^\[([^\]]+)\]\(([^)\s]+)\)$/.exec(t)!;
      out.push({ kind: 'link', text: link[1]!, href: link[2]! });
    }
    last = m.index + t.length;
  }
  if (last < text.length) out.push({ kind: 'text', text: text.slice(last) });
  return out;
}
