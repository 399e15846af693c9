import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { ConfigErrors } from '../../src/errors.js';
import { ProviderRegistry } from '../../src/providers/registry.js';

const directory = mkdtempSync(join(tmpdir(), 'llmgw-clients-'));
afterAll(() => {
  rmSync(directory, { recursive: true, force: true });
});

const ENDPOINTS = `
endpoints:
  - name: chat
    endpoint_type: llm/v1/chat
    model: {provider: mock, config: {}}
    pricing: {input_per_million: 0.15, output_per_million: 0.6}
  - name: embed-small
    endpoint_type: llm/v1/embeddings
    model: {provider: mock, config: {}}
`;

function parse(yaml: string, env: Record<string, string> = {}) {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    return parseConfig(yaml, new ProviderRegistry(), 'test.yaml');
  } finally {
    process.env = saved;
  }
}

function errorsOf(yaml: string): string[] {
  try {
    parse(yaml);
  } catch (error) {
    if (error instanceof ConfigErrors) return error.errors.map((each) => each.format('test.yaml'));
    throw error;
  }
  throw new Error('the config loaded');
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('clients: section', () => {
  it('leaves the config without access when neither clients nor access is present', () => {
    expect(parse(ENDPOINTS).access).toBeUndefined();
  });

  it('resolves a key from the environment and keeps only its hash', () => {
    const config = parse(`${ENDPOINTS}clients:\n  - {name: team-a, key: $TEAM_A_KEY}\n`, {
      TEAM_A_KEY: 'secret-a',
    });
    const client = config.access?.clients[0];
    expect(client?.name).toBe('team-a');
    expect(client?.keySha256.toString('hex')).toBe(sha256('secret-a'));
    expect([...(config.access?.byKeySha256.keys() ?? [])]).toEqual([sha256('secret-a')]);
    expect(JSON.stringify(config.access)).not.toContain('secret-a');
  });

  it('reads a key from a file, like any secret', () => {
    const path = join(directory, 'key');
    writeFileSync(path, 'from-file\n');
    const config = parse(`${ENDPOINTS}clients:\n  - {name: a, key: ${path}}\n`);
    expect(config.access?.clients[0]?.keySha256.toString('hex')).toBe(sha256('from-file'));
  });

  it('accepts key_sha256 in either case', () => {
    const hash = sha256('k').toUpperCase();
    const config = parse(`${ENDPOINTS}clients:\n  - {name: a, key_sha256: ${hash}}\n`);
    expect(config.access?.clients[0]?.keySha256.toString('hex')).toBe(sha256('k'));
  });

  it('compiles endpoint patterns: exact names and `*`', () => {
    const config = parse(`${ENDPOINTS}clients:\n  - {name: a, key: k, endpoints: [chat, "embed-*"]}\n`);
    const patterns = config.access?.clients[0]?.endpoints;
    expect(
      ['chat', 'embed-small', 'embed-', 'chat2', 'xembed-a'].map((name) => patterns?.allows(name)),
    ).toEqual([true, true, true, false, false]);
  });

  it('turns limit, token_limit and budget into counter caps', () => {
    const config = parse(
      `${ENDPOINTS}clients:\n  - name: a\n    key: k\n    endpoints: [chat]\n    limit: {calls: 100, renewal_period: minute}\n    token_limit: {tokens: 2000, renewal_period: 2 hours}\n    budget: {usd: 50.5, renewal_period: day}\n`,
    );
    const client = config.access?.clients[0];
    expect({ calls: client?.calls, tokens: client?.tokens, budget: client?.budget }).toEqual({
      calls: { key: 'client:a:calls:60', cap: 100, windowMs: 60_000, period: '1 minute' },
      tokens: { key: 'client:a:tokens:7200', cap: 2000, windowMs: 7_200_000, period: '2 hours' },
      budget: { key: 'client:a:usd:86400', cap: 50_500_000, windowMs: 86_400_000, period: '1 day' },
    });
  });

  it('reads the access options, off by default', () => {
    expect(parse(`${ENDPOINTS}clients: []\n`).access).toMatchObject({
      protectDocs: false,
      protectMetrics: false,
    });
    expect(parse(`${ENDPOINTS}access: {protect_docs: true, protect_metrics: true}\n`).access).toMatchObject({
      clients: [],
      protectDocs: true,
      protectMetrics: true,
    });
  });

  it.each([
    [
      'no key at all',
      '  - {name: a}',
      'test.yaml:11:5 at clients[0]: A client needs exactly one of `key` and `key_sha256`',
    ],
    [
      'both key and key_sha256',
      `  - {name: a, key: k, key_sha256: ${sha256('k')}}`,
      'test.yaml:11:5 at clients[0]: A client needs exactly one of `key` and `key_sha256`',
    ],
    [
      'a short hash',
      '  - {name: a, key_sha256: abc}',
      'test.yaml:11:27 at clients[0].key_sha256: key_sha256 must be 64 hex digits',
    ],
    [
      'an unset variable',
      '  - {name: a, key: $NOT_SET_ANYWHERE}',
      "test.yaml:11:20 at clients[0].key: Environment variable 'NOT_SET_ANYWHERE' is not set",
    ],
    [
      'an unknown field',
      '  - {name: a, key: k, keys: [x]}',
      'test.yaml:11:5 at clients[0]: Unrecognized key: "keys"',
    ],
    [
      'a bad renewal period',
      '  - {name: a, key: k, budget: {usd: 1, renewal_period: fortnight}}',
      "test.yaml:11:56 at clients[0].budget.renewal_period: renewal_period must be a unit (second, minute, hour, day, month, year), optionally after a count: 'day', '30 days'",
    ],
    [
      'a name with a space',
      "  - {name: 'a b', key: k}",
      'test.yaml:11:12 at clients[0].name: a client name is 1–64 letters, digits, `_`, `.` or `-`',
    ],
  ])('refuses %s', (_case, line, message) => {
    expect(errorsOf(`${ENDPOINTS}clients:\n${line}\n`)).toEqual([message]);
  });

  it('refuses two clients with one name, and two clients with one key', () => {
    expect(errorsOf(`${ENDPOINTS}clients:\n  - {name: a, key: k}\n  - {name: a, key: k}\n`)).toEqual([
      "test.yaml:12:12 at clients[1].name: Duplicate client name 'a'",
      "test.yaml:12:5 at clients[1]: Client 'a' uses the same key as another client",
    ]);
  });

  it('refuses a budgeted client that may call an endpoint without pricing', () => {
    expect(
      errorsOf(`${ENDPOINTS}clients:\n  - {name: a, key: k, budget: {usd: 1, renewal_period: day}}\n`),
    ).toEqual([
      "test.yaml:11:31 at clients[0].budget: Client 'a' has a budget but may call endpoint 'embed-small', which has no pricing",
    ]);
  });

  it('accepts a budgeted client limited to priced endpoints', () => {
    const yaml = `${ENDPOINTS}clients:\n  - {name: a, key: k, endpoints: [chat], budget: {usd: 1, renewal_period: month}}\n`;
    expect(parse(yaml).access?.clients[0]?.budget?.windowMs).toBe(30 * 86_400_000);
  });

  it('refuses pricing that is not two non-negative numbers', () => {
    const yaml = ENDPOINTS.replace('output_per_million: 0.6', 'output_per_million: -1');
    expect(errorsOf(yaml)).toEqual([
      "test.yaml:6:60 endpoint 'chat' at endpoints[0].pricing.output_per_million: Too small: expected number to be >=0",
    ]);
  });
});
