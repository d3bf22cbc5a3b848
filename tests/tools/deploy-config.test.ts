// The shipped nginx configuration says what the app's own servers say: one policy (src/privacy/policy.ts).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONTENT_SECURITY_POLICY, ISOLATION_HEADERS } from '../../src/privacy/policy';

const site = readFileSync(resolve(import.meta.dirname, '../../deploy/facies-site.conf'), 'utf8');
const headers = Object.fromEntries([...site.matchAll(/^add_header ([\w-]+) "([^"]*)" always;$/gm)].map((m) => [m[1]!, m[2]!]));

describe('deploy/facies-site.conf', () => {
  it('sends the isolation headers and the Content-Security-Policy of src/privacy/policy.ts', () => {
    for (const [name, value] of Object.entries(ISOLATION_HEADERS)) expect(headers[name], name).toBe(value);
    expect(headers['Content-Security-Policy']).toBe(CONTENT_SECURITY_POLICY);
  });

  it('sets headers only at server level (an add_header inside a location would drop the others there)', () => {
    const insideLocations = site
      .split(/^location /m)
      .slice(1)
      .join('\n');
    expect(insideLocations).not.toMatch(/add_header/);
  });
});
