import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI, listeningUrl } from '../helpers/cli-process.js';
import { invokeEndpoint } from '../helpers/http.js';

const CONFIG = join(import.meta.dirname, '..', 'fixtures', 'gateway.yaml');

/**
 * Preloaded into the child: answers a `loaded-modules` message with the paths of every CommonJS
 * module loaded so far. Each package below is CommonJS, so importing it, even from ESM, lists it.
 */
const REPORT_LOADED_MODULES = `data:text/javascript,${encodeURIComponent(`
import { createRequire } from 'node:module';
const cache = createRequire(process.execPath).cache;
process.on('message', (message) => {
  if (message === 'loaded-modules') process.send(Object.keys(cache));
});
`)}`;

/** What serving does not need: each is loaded on first use only. */
const LOADED_ON_FIRST_USE = [
  '@fastify/swagger',
  '@fastify/swagger-ui',
  '@fastify/static',
  'ioredis',
  '@aws-sdk/client-bedrock-runtime',
  '@opentelemetry/sdk-trace-node',
];

/** Variables that would make the child load Redis or the tracing SDK at start. */
const ACTIVATING_VARIABLES = /^(LLMGW_REDIS_URL|MLFLOW_GATEWAY_RATE_LIMITS_STORAGE_URI|OTEL_.*)$/;

/** Spawned with all three streams piped and an IPC channel. */
type Gateway = ChildProcessWithoutNullStreams;
const running: Gateway[] = [];

afterEach(async () => {
  for (const child of running.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    }
  }
});

async function startGateway(): Promise<{ child: Gateway; url: string }> {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !ACTIVATING_VARIABLES.test(name)),
  );
  const child = spawn(
    process.execPath,
    [
      '--import',
      REPORT_LOADED_MODULES,
      CLI,
      'start',
      '--config-path',
      CONFIG,
      '--port',
      '0',
      '--workers',
      '1',
    ],
    { env: { ...env, LLMGW_LOG_LEVEL: 'info' }, stdio: ['pipe', 'pipe', 'pipe', 'ipc'] },
  ) as Gateway;
  running.push(child);
  return { child, url: await listeningUrl(child) };
}

/** The npm packages the child has loaded, by name (the innermost `node_modules` folder's). */
async function loadedPackages(child: Gateway): Promise<Set<string>> {
  const answer = once(child, 'message');
  child.send('loaded-modules');
  const [paths] = (await answer) as [string[]];
  const names = paths.flatMap((path) => {
    const inPackage = path.split('/node_modules/').slice(1).at(-1);
    if (inPackage === undefined) return [];
    const segments = inPackage.split('/');
    return [segments[0]?.startsWith('@') ? segments.slice(0, 2).join('/') : (segments[0] ?? '')];
  });
  return new Set(names);
}

describe('module loading', () => {
  it('serves a chat request without loading Swagger UI, Redis, the AWS SDK or the tracing SDK', async () => {
    const { child, url } = await startGateway();
    const response = await invokeEndpoint(url, 'chat', { messages: [{ role: 'user', content: 'hi' }] });
    expect(response.status).toBe(200);
    const loaded = await loadedPackages(child);
    expect(LOADED_ON_FIRST_USE.filter((name) => loaded.has(name))).toEqual([]);
    // The check sees the gateway's own dependencies, so an empty list above means something.
    expect(['fastify', 'undici'].filter((name) => loaded.has(name))).toEqual(['fastify', 'undici']);
  }, 60_000);

  it('loads Swagger UI on the first /docs request and serves the page and its assets', async () => {
    const { child, url } = await startGateway();
    const page = await fetch(`${url}/docs/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await page.text()).toContain('./static/swagger-ui-bundle.js');
    const asset = await fetch(`${url}/docs/static/swagger-ui.css`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toBe('text/css; charset=utf-8');
    await asset.arrayBuffer();
    const loaded = await loadedPackages(child);
    expect(['@fastify/swagger', '@fastify/swagger-ui'].filter((name) => loaded.has(name))).toEqual([
      '@fastify/swagger',
      '@fastify/swagger-ui',
    ]);
  }, 60_000);
});
