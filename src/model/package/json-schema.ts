// The subset of JSON Schema (2020-12) that models/schema/manifest.schema.json uses, checked without code
// generation: the app's CSP forbids eval, so schema compilers such as Ajv cannot run in the page.
// Messages name the field the way a person reads it: classes[1].displayName.zh-CN.

export interface Schema {
  $ref?: string;
  type?: 'object' | 'array' | 'string' | 'number' | 'integer' | 'boolean';
  description?: string;
  const?: unknown;
  enum?: unknown[];
  required?: string[];
  properties?: Record<string, Schema>;
  additionalProperties?: Schema | boolean;
  items?: Schema;
  prefixItems?: Schema[];
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  $defs?: Record<string, Schema>;
}

const SUPPORTED = new Set([
  '$schema',
  '$id',
  '$ref',
  '$defs',
  '$comment',
  'title',
  'description',
  'type',
  'const',
  'enum',
  'required',
  'properties',
  'additionalProperties',
  'items',
  'prefixItems',
  'minItems',
  'maxItems',
  'minLength',
  'maxLength',
  'pattern',
  'minimum',
  'maximum',
  'exclusiveMinimum',
]);

/** Lists every problem of `value` against `schema` (empty when valid). */
export function schemaProblems(schema: Schema, value: unknown, subject = 'manifest'): string[] {
  const problems: string[] = [];
  check(schema, schema, value, '', subject, problems);
  return problems;
}

/** Refuses a schema that uses keywords this checker would silently ignore. */
export function assertSupportedSchema(schema: unknown, at = '#'): void {
  if (typeof schema !== 'object' || schema === null) return;
  for (const [k, v] of Object.entries(schema)) {
    if (!SUPPORTED.has(k)) throw new Error(`JSON Schema keyword "${k}" at ${at} is not supported by src/model/package/json-schema.ts`);
    if (k === 'properties' || k === '$defs') for (const [name, s] of Object.entries(v as object)) assertSupportedSchema(s, `${at}/${k}/${name}`);
    else if (k === 'items' || k === 'additionalProperties') assertSupportedSchema(v, `${at}/${k}`);
    else if (k === 'prefixItems') (v as unknown[]).forEach((s, i) => assertSupportedSchema(s, `${at}/${k}/${i}`));
  }
}

const fieldName = (path: string, subject: string) => (path ? path.replace(/^\./, '') : subject);
const typeOf = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : Number.isInteger(v) ? 'integer' : typeof v);
const describe = (v: unknown) => (typeof v === 'string' ? `"${v.length > 40 ? `${v.slice(0, 40)}…` : v}"` : JSON.stringify(v));
const TYPE_WORDS: Record<string, string> = {
  object: 'an object',
  array: 'a list',
  string: 'text',
  number: 'a number',
  integer: 'a whole number',
  boolean: 'true or false',
};

function resolve(root: Schema, ref: string): Schema {
  const m = /^#\/\$defs\/(.+)$/.exec(ref);
  const target = m && root.$defs?.[m[1]!];
  if (!target) throw new Error(`unresolvable $ref ${ref}`);
  return target;
}

function check(root: Schema, schema: Schema, value: unknown, path: string, subject: string, out: string[]): void {
  const name = fieldName(path, subject);
  const before = out.length;
  if (schema.$ref) {
    check(root, resolve(root, schema.$ref), value, path, subject, out);
    if (out.length > before) return;
  }
  if (schema.type) {
    const t = typeOf(value);
    const ok = schema.type === 'number' ? typeof value === 'number' && Number.isFinite(value) : schema.type === 'integer' ? t === 'integer' : t === schema.type;
    if (!ok) return void out.push(`${name} must be ${TYPE_WORDS[schema.type]} (found ${value === undefined ? 'nothing' : describe(value)})`);
  }
  if ('const' in schema && JSON.stringify(value) !== JSON.stringify(schema.const)) return void out.push(`${name} must be ${describe(schema.const)}`);
  if (schema.enum && !schema.enum.some((e) => e === value))
    return void out.push(`${name} must be one of ${schema.enum.map(describe).join(', ')} (found ${describe(value)})`);

  if (typeof value === 'string') {
    if (schema.minLength !== undefined && value.length < schema.minLength) out.push(`${name} must not be empty`);
    else if (schema.maxLength !== undefined && value.length > schema.maxLength) out.push(`${name} is longer than ${schema.maxLength} characters`);
    else if (schema.pattern && !new RegExp(schema.pattern, 'u').test(value))
      out.push(`${name} is not in the expected form${schema.description ? ` (${schema.description})` : ''}: ${describe(value)}`);
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) out.push(`${name} must be at least ${schema.minimum} (found ${value})`);
    if (schema.maximum !== undefined && value > schema.maximum) out.push(`${name} must be at most ${schema.maximum} (found ${value})`);
    if (schema.exclusiveMinimum !== undefined && value <= schema.exclusiveMinimum)
      out.push(`${name} must be greater than ${schema.exclusiveMinimum} (found ${value})`);
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems)
      out.push(`${name} must list at least ${schema.minItems} item${schema.minItems === 1 ? '' : 's'} (found ${value.length})`);
    if (schema.maxItems !== undefined && value.length > schema.maxItems)
      out.push(`${name} must list at most ${schema.maxItems} item${schema.maxItems === 1 ? '' : 's'} (found ${value.length})`);
    value.forEach((item, i) => {
      const s = schema.prefixItems?.[i] ?? schema.items;
      if (s) check(root, s, item, `${path}[${i}]`, subject, out);
    });
  }
  if (typeOf(value) === 'object') {
    const obj = value as Record<string, unknown>;
    for (const key of schema.required ?? []) if (obj[key] === undefined) out.push(`${path ? `${name}.` : ''}${key} is missing`);
    for (const [key, v] of Object.entries(obj)) {
      if (v === undefined) continue; // absent (an object built in code rather than parsed from JSON)
      const s = schema.properties?.[key] ?? (typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined);
      if (s) check(root, s, v, `${path}.${key}`, subject, out);
      else if (schema.additionalProperties === false) out.push(`${path ? `${name}.` : ''}${key} is not allowed`);
    }
  }
}
