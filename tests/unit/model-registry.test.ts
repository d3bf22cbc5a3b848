import { describe, expect, it } from 'vitest';
import manifestSchema from '../../models/schema/manifest.schema.json' with { type: 'json' };
import { parseMarkdown } from '../../src/model/package/markdown';
import { formatModelRef, ModelRegistry, parseModelRef } from '../../src/model/package/registry';
import { assertSupportedSchema, schemaProblems } from '../../src/model/package/json-schema';
import { formatFingerprint, generateSigningKey, readPublicKey } from '../../src/model/package/signature';

class MemoryStorage {
  data = new Map<string, string>();
  getItem(k: string) {
    return this.data.get(k) ?? null;
  }
  setItem(k: string, v: string) {
    this.data.set(k, v);
  }
}

describe('ModelRegistry', () => {
  it('keeps trusted keys by fingerprint and logs every change', async () => {
    const storage = new MemoryStorage();
    const r = new ModelRegistry(storage);
    const key = await readPublicKey((await generateSigningKey()).publicKeyPem, 'Example Hospital ML');
    r.trustKey(key);
    r.trustKey({ ...key, label: 'renamed' });
    expect(r.trustedKeys().map((k) => k.label)).toEqual(['renamed']);
    r.distrustKey(key.fingerprint);
    expect(new ModelRegistry(storage).trustedKeys()).toEqual([]);
    expect(r.entries().map((e) => e.action)).toEqual(['key-added', 'key-added', 'key-removed']);
    expect(r.entries()[0]!.subject).toBe(key.fingerprint);
  });

  it('survives corrupt storage and keeps the log bounded', () => {
    const storage = new MemoryStorage();
    storage.setItem('facies.trustedKeys', '{not json');
    storage.setItem('facies.modelLog', '{"an":"object"}');
    const r = new ModelRegistry(storage);
    expect(r.trustedKeys()).toEqual([]);
    expect(r.entries()).toEqual([]);
    for (let i = 0; i < 520; i++) r.log('refused', `file${i}.zip`);
    expect(r.entries()).toHaveLength(500);
    expect(r.entries()[0]!.subject).toBe('file20.zip');
  });

  it('records and forgets installed packages', () => {
    const r = new ModelRegistry(new MemoryStorage());
    const ref = { id: 'hospital-ps', version: '1.0.0' };
    r.recordPackage({ ...ref, modelCard: '# Card', signature: { status: 'unsigned' }, packageBytes: 10, importedAt: '2026-01-01T00:00:00Z' });
    expect(r.package(ref)?.modelCard).toBe('# Card');
    r.forgetPackage(ref);
    expect(r.package(ref)).toBeUndefined();
  });

  it('writes the active model as id@version and reads only well-formed values', () => {
    expect(formatModelRef({ id: 'hospital-ps', version: '1.2.0' })).toBe('hospital-ps@1.2.0');
    expect(formatModelRef(null)).toBe('');
    expect(parseModelRef('hospital-ps@1.2.0')).toEqual({ id: 'hospital-ps', version: '1.2.0' });
    for (const bad of ['', 'hospital-ps', '@1.0.0', 'Hospital@1', 'a@b@c']) expect(parseModelRef(bad), bad).toBeNull();
  });

  it('formats fingerprints in groups of four for reading aloud', () => {
    expect(formatFingerprint('ab12cd34ef56')).toBe('ab12 cd34 ef56');
  });
});

describe('model card Markdown', () => {
  it('turns HTML into text and never into elements', () => {
    const blocks = parseMarkdown('# Title\n\n<script>alert(1)</script> and <img src=x onerror=alert(1)>');
    expect(blocks[0]).toEqual({ kind: 'heading', level: 1, content: [{ kind: 'text', text: 'Title' }] });
    expect(blocks[1]).toEqual({ kind: 'paragraph', content: [{ kind: 'text', text: '<script>alert(1)</script> and <img src=x onerror=alert(1)>' }] });
  });

  it('reads lists, tables, emphasis, code and links', () => {
    const blocks = parseMarkdown('- **one** item\n- `two`\n\n| Class | Recall |\n| --- | --- |\n| WBS | 0.88 |\n\nSee [paper](https://doi.org/x) *now*.');
    expect(blocks[0]).toEqual({
      kind: 'list',
      ordered: false,
      items: [
        [
          { kind: 'strong', text: 'one' },
          { kind: 'text', text: ' item' },
        ],
        [{ kind: 'code', text: 'two' }],
      ],
    });
    expect(blocks[1]).toMatchObject({ kind: 'table', header: [[{ text: 'Class' }], [{ text: 'Recall' }]], rows: [[[{ text: 'WBS' }], [{ text: '0.88' }]]] });
    expect(blocks[2]).toEqual({
      kind: 'paragraph',
      content: [
        { kind: 'text', text: 'See ' },
        { kind: 'link', text: 'paper', href: 'https://doi.org/x' },
        { kind: 'text', text: ' ' },
        { kind: 'em', text: 'now' },
        { kind: 'text', text: '.' },
      ],
    });
  });
});

describe('manifest JSON Schema', () => {
  it('uses only keywords the in-app checker implements', () => {
    expect(() => assertSupportedSchema(manifestSchema)).not.toThrow();
    expect(() => assertSupportedSchema({ type: 'object', properties: { a: { oneOf: [] } } })).toThrow(/"oneOf" at #\/properties\/a/);
  });

  it('resolves $ref and checks nested objects with readable paths', () => {
    const schema = {
      type: 'object' as const,
      required: ['a'],
      properties: { a: { $ref: '#/$defs/n' } },
      $defs: { n: { type: 'array' as const, items: { type: 'integer' as const, minimum: 0 } } },
    };
    expect(schemaProblems(schema, { a: [1, -1, 2.5] })).toEqual(['a[1] must be at least 0 (found -1)', 'a[2] must be a whole number (found 2.5)']);
    expect(schemaProblems(schema, {})).toEqual(['a is missing']);
  });
});
