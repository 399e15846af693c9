import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveSecret, Secret, secretSchema, withSecretCache } from '../../src/config/secrets.js';

const directory = mkdtempSync(join(tmpdir(), 'llmgw-secrets-'));

afterAll(() => {
  rmSync(directory, { recursive: true, force: true });
});

/** The revealed key, or the error message when resolution fails. */
function resolve(raw: unknown, env: NodeJS.ProcessEnv = {}): { key: string } | { error: string } {
  const resolved = resolveSecret(raw, env);
  return typeof resolved === 'string' ? { error: resolved } : { key: resolved.reveal() };
}

describe('resolveSecret (reference §2.9)', () => {
  it('reads $NAME from the environment, untrimmed', () => {
    expect(resolve('$KEY', { KEY: ' sk-env ' })).toEqual({ key: ' sk-env ' });
  });

  it.each([
    ['unset', {}],
    ['empty', { KEY: '' }],
  ])('fails for a $NAME whose variable is %s', (_state, env) => {
    expect(resolve('$KEY', env)).toEqual({ error: "Environment variable 'KEY' is not set" });
  });

  it('fails for a lone $, which names the empty variable', () => {
    expect(resolve('$', { KEY: 'x' })).toEqual({ error: "Environment variable '' is not set" });
  });

  it('reads the whole contents of an existing file', () => {
    const file = join(directory, 'plain');
    writeFileSync(file, ' sk-file ');
    expect(resolve(file)).toEqual({ key: ' sk-file ' });
  });

  it.each([
    ['\\n', 'sk-file\n'],
    ['\\r\\n', 'sk-file\r\n'],
  ])('removes one trailing %s from a file key [D10]', (_ending, contents) => {
    const file = join(directory, 'ending');
    writeFileSync(file, contents);
    expect(resolve(file)).toEqual({ key: 'sk-file' });
  });

  it('removes only one trailing newline from a file key', () => {
    const file = join(directory, 'two-newlines');
    writeFileSync(file, 'sk-file\n\n');
    expect(resolve(file)).toEqual({ key: 'sk-file\n' });
  });

  it('uses the path of a directory as a literal key', () => {
    const path = join(directory, 'a-directory');
    mkdirSync(path);
    expect(resolve(path)).toEqual({ key: path });
  });

  it('uses a string that names no file as the key itself', () => {
    expect(resolve('sk-literal')).toEqual({ key: 'sk-literal' });
  });

  it('falls back to the literal when probing the path fails', () => {
    const tooLong = 'x'.repeat(5000);
    expect(resolve(tooLong)).toEqual({ key: tooLong });
  });

  it.each([123, null, ['sk'], { key: 'sk' }])('rejects a key that is not a string (%j)', (raw) => {
    expect(resolve(raw)).toEqual({
      error:
        'The api key provided is not a string. Please provide either an environment variable key, a path to a file containing the api key, or the api key itself',
    });
  });

  it('records where the key came from, without the value', () => {
    const file = join(directory, 'source');
    writeFileSync(file, 'sk');
    const sources = [resolveSecret('$KEY', { KEY: 'sk' }), resolveSecret(file), resolveSecret('sk')].map(
      (secret) => (secret instanceof Secret ? secret.source : secret),
    );
    expect(sources).toEqual(['$KEY', `file ${file}`, 'literal']);
  });
});

describe('Secret', () => {
  const secret = new Secret('sk-very-secret', 'literal');

  it('renders as [redacted] through String, JSON and util.inspect', () => {
    expect([String(secret), JSON.stringify({ secret }), inspect({ secret })]).toEqual([
      '[redacted]',
      '{"secret":"[redacted]"}',
      '{ secret: [redacted] }',
    ]);
  });

  it('gives the value only through reveal()', () => {
    expect(secret.reveal()).toBe('sk-very-secret');
  });
});

describe('secretSchema', () => {
  it('resolves a literal into a Secret', () => {
    const parsed = secretSchema.parse('sk-literal');
    expect(parsed instanceof Secret ? parsed.reveal() : parsed).toBe('sk-literal');
  });

  it('fails with the resolution message as a custom issue', () => {
    const result = secretSchema.safeParse(42);
    expect(result.error?.issues.map(({ code, message }) => ({ code, message }))).toEqual([
      {
        code: 'custom',
        message:
          'The api key provided is not a string. Please provide either an environment variable key, a path to a file containing the api key, or the api key itself',
      },
    ]);
  });

  it('reads a key file once per load, however many endpoints name it', () => {
    const file = join(directory, 'shared-key');
    writeFileSync(file, 'sk-before');
    const reveal = () => secretSchema.parse(file).reveal();
    const seen = withSecretCache(() => {
      const first = reveal();
      writeFileSync(file, 'sk-during');
      return [first, reveal()];
    });
    expect(seen).toEqual(['sk-before', 'sk-before']);
  });

  it('reads the key file again at the next load', () => {
    const file = join(directory, 'reloaded-key');
    writeFileSync(file, 'sk-one');
    withSecretCache(() => secretSchema.parse(file));
    writeFileSync(file, 'sk-two');
    expect(withSecretCache(() => secretSchema.parse(file).reveal())).toBe('sk-two');
  });
});
