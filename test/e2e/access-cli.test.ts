import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI } from '../helpers/cli-process.js';

const run = promisify(execFile);
const directory = mkdtempSync(join(tmpdir(), 'llmgw-access-cli-'));
afterAll(() => {
  rmSync(directory, { recursive: true, force: true });
});

describe('llmgw keys new', () => {
  it('prints a fresh key and the sha256 to configure instead of it', async () => {
    const [first, second] = await Promise.all([
      run(process.execPath, [CLI, 'keys', 'new']),
      run(process.execPath, [CLI, 'keys', 'new']),
    ]);
    const parse = (text: string) => {
      const match = /^key: (llmgw-[A-Za-z0-9_-]{43})\nkey_sha256: ([0-9a-f]{64})\n/.exec(text);
      return { key: match?.[1] ?? '', hash: match?.[2] ?? '' };
    };
    const one = parse(first.stdout);
    expect(one.hash).toBe(createHash('sha256').update(one.key).digest('hex'));
    expect(parse(second.stdout).key).not.toBe(one.key);
  });
});

describe('llmgw validate', () => {
  it('reports a client problem with its place in the file', async () => {
    const path = join(directory, 'bad.yaml');
    writeFileSync(
      path,
      'endpoints:\n  - name: chat\n    endpoint_type: llm/v1/chat\n    model: {provider: mock, config: {}}\nclients:\n  - {name: a, key: k, budget: {usd: 1, renewal_period: day}}\n',
    );
    const failure = await run(process.execPath, [CLI, 'validate', '--config-path', path]).then(
      () => null,
      (error: unknown) => error as { code: number; stderr: string },
    );
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toBe(
      `${path}:6:31 at clients[0].budget: Client 'a' has a budget but may call endpoint 'chat', which has no pricing\n`,
    );
  });
});
