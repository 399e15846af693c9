import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { CLI, listeningUrl } from '../helpers/cli-process.js';
import { invokeEndpoint } from '../helpers/http.js';

const root = join(import.meta.dirname, '..', '..');
const fixture = (name: string) => join(root, 'test', 'fixtures', name);
const directory = mkdtempSync(join(tmpdir(), 'llmgw-cli-'));

/** The environment for the child, without any config-path variable the parent may carry. */
const CONFIG_VARIABLES = new Set([
  'LLMGW_CONFIG',
  'MLFLOW_GATEWAY_CONFIG',
  'MLFLOW_DEPLOYMENTS_CONFIG',
  'LLMGW_TEST_UNSET_KEY',
]);

function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const inherited = Object.entries(process.env).filter(([name]) => !CONFIG_VARIABLES.has(name));
  return { ...Object.fromEntries(inherited), LLMGW_LOG_LEVEL: 'info', ...extra };
}

interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

async function run(args: string[], extraEnv: Record<string, string> = {}): Promise<Finished> {
  const child = spawn(process.execPath, [CLI, ...args], { env: childEnv(extraEnv) });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

const running: ChildProcess[] = [];

afterEach(async () => {
  for (const child of running.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    }
  }
});

afterAll(() => {
  rmSync(directory, { recursive: true, force: true });
});

/** Starts `llmgw start` on port 0 and resolves with its URL once it logs that it listens. */
async function startServer(configPath: string): Promise<string> {
  // One process: this suite is about the CLI; test/e2e/workers.test.ts covers --workers.
  const child = spawn(
    process.execPath,
    [CLI, 'start', '--config-path', configPath, '--port', '0', '--workers', '1'],
    {
      env: childEnv(),
    },
  );
  running.push(child);
  return listeningUrl(child);
}

describe('llmgw start', () => {
  it('serves health and an invocation from the config file', async () => {
    const url = await startServer(fixture('gateway.yaml'));
    const health = await fetch(`${url}/health`);
    expect(await health.json()).toEqual({ status: 'OK' });
    const response = await invokeEndpoint(url, 'completions', { prompt: 'hi' });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { choices: unknown }).choices).toEqual([
      { index: 0, text: 'This is a mock completion of: hi', finish_reason: 'stop' },
    ]);
  }, 60_000);

  it('writes the access-log line of the last request before it exits, though stdout is buffered', async () => {
    const child = spawn(
      process.execPath,
      [CLI, 'start', '--config-path', fixture('gateway.yaml'), '--port', '0', '--workers', '1'],
      { env: childEnv() },
    );
    running.push(child);
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const url = await listeningUrl(child);
    const response = await fetch(`${url}/endpoints/completions/invocations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'last-one' },
      body: JSON.stringify({ prompt: 'hi' }),
    });
    expect(response.status).toBe(200);
    await response.arrayBuffer();
    // Stopped at once: the line is still in the 4 KB buffer, and the exit must flush it.
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    await exited;
    const lines = stdout
      .split('\n')
      .filter((line) => line.includes('"reqId":"last-one"'))
      .map((line) => JSON.parse(line) as { msg: string; statusCode: number });
    expect(lines.map(({ msg, statusCode }) => ({ msg, statusCode }))).toEqual([
      { msg: 'request completed', statusCode: 200 },
    ]);
  }, 60_000);

  it('fails with exit code 2 and a usage error without a config path (item 1)', async () => {
    const result = await run(['start', '--port', '0']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      "Error: Missing option '--config-path' (or set LLMGW_CONFIG, MLFLOW_GATEWAY_CONFIG, MLFLOW_DEPLOYMENTS_CONFIG).\n",
    );
  });

  it('fails with exit code 2 for a missing file (item 2)', async () => {
    const path = join(directory, 'missing.yaml');
    const result = await run(['start', '--config-path', path, '--port', '0']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(`Error: Invalid value for '--config-path': ${path} does not exist\n`);
  });

  it('fails with exit code 2 and nothing listening for an invalid config', async () => {
    const result = await run(['start', '--config-path', fixture('secret-env.yaml'), '--port', '0']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      `Error: Invalid value for '--config-path': ${fixture('secret-env.yaml')}:8:25 endpoint 'chat' at endpoints[0].model.config.openai_api_key: Environment variable 'LLMGW_TEST_UNSET_KEY' is not set\n`,
    );
    expect(result.stdout).not.toContain('listening');
  });

  it('fails once with exit code 2, before any worker starts, for a bad LLMGW_MAX_UPSTREAM_RESPONSE_BYTES', async () => {
    const result = await run(
      ['start', '--config-path', fixture('gateway.yaml'), '--port', '0', '--workers', '2'],
      { LLMGW_MAX_UPSTREAM_RESPONSE_BYTES: 'lots' },
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      "Error: LLMGW_MAX_UPSTREAM_RESPONSE_BYTES must be a positive whole number of bytes, got 'lots'.\n",
    );
    expect(result.stdout).not.toContain('listening');
  });

  it('reads the config path from MLFLOW_GATEWAY_CONFIG', async () => {
    const result = await run(['start', '--port', '0'], {
      MLFLOW_GATEWAY_CONFIG: join(directory, 'from-env.yaml'),
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      `Error: Invalid value for '--config-path': ${join(directory, 'from-env.yaml')} does not exist\n`,
    );
  });
});

describe('llmgw validate', () => {
  it('prints OK and the endpoint names for a good file, exit code 0', async () => {
    const result = await run(['validate', '--config-path', fixture('gateway.yaml')]);
    expect(result).toEqual({
      code: 0,
      stdout: `OK: ${fixture('gateway.yaml')} defines 3 endpoint(s): chat, completions, embeddings\n`,
      stderr: '',
    });
  });

  it('prints the deprecation warnings of a legacy file and still succeeds', async () => {
    const result = await run(['validate', '--config-path', fixture('legacy-routes.yaml')]);
    expect(result).toEqual({
      code: 0,
      stdout: `OK: ${fixture('legacy-routes.yaml')} defines 1 endpoint(s): chat\n`,
      stderr:
        "warning: The 'routes' configuration key has been deprecated and will be removed in an upcoming release. Use 'endpoints' instead.\n" +
        "warning: The 'route_type' configuration key has been deprecated and will be removed in an upcoming release. Use 'endpoint_type' instead.\n",
    });
  });

  it('prints one line per problem with file, line, endpoint and field, exit code 1', async () => {
    const path = fixture('invalid.yaml');
    const result = await run(['validate', '--config-path', path]);
    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr:
        `${path}:7:11 endpoint 'my chat' at endpoints[1].name: The route name provided contains disallowed characters for a url endpoint. 'my chat' is invalid. Names cannot contain spaces or any non alphanumeric characters other than hyphen and underscore.\n` +
        `${path}:8:20 endpoint 'my chat' at endpoints[1].endpoint_type: The route_type 'llm/v2/chat' is not supported.\n`,
    });
  });

  it('reports a file that is not YAML, exit code 1 (item 4)', async () => {
    const path = join(directory, 'broken.yaml');
    writeFileSync(path, 'endpoints: [\n  - name: chat\n');
    const result = await run(['validate', '--config-path', path]);
    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr: `${path}:2:3: The file at ${path} is not a valid yaml file: Block collections are not allowed within flow collections\n`,
    });
  });

  it('reports a missing file, exit code 1', async () => {
    const path = join(directory, 'missing.yaml');
    const result = await run(['validate', '--config-path', path]);
    expect(result).toEqual({ code: 1, stdout: '', stderr: `${path} does not exist\n` });
  });

  it('resolves secrets: an unset variable fails, a set one passes', async () => {
    const path = fixture('secret-env.yaml');
    const unset = await run(['validate', '--config-path', path]);
    const set = await run(['validate', '--config-path', path], { LLMGW_TEST_UNSET_KEY: 'sk-test' });
    expect([unset.code, unset.stderr, set.code, set.stdout]).toEqual([
      1,
      `${path}:8:25 endpoint 'chat' at endpoints[0].model.config.openai_api_key: Environment variable 'LLMGW_TEST_UNSET_KEY' is not set\n`,
      0,
      `OK: ${path} defines 1 endpoint(s): chat\n`,
    ]);
  });

  it('validates examples/offline.yaml', async () => {
    const path = join(root, 'examples', 'offline.yaml');
    const result = await run(['validate', '--config-path', path]);
    expect(result).toEqual({
      code: 0,
      stdout: `OK: ${path} defines 3 endpoint(s): chat, completions, embeddings\n`,
      stderr: '',
    });
  });
});
