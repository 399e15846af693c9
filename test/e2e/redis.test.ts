import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { ProviderRegistry } from '../../src/providers/registry.js';
import { createGateway, type Gateway } from '../../src/server/start.js';
import { CLI, listeningUrl } from '../helpers/cli-process.js';
import { TestRedis } from '../helpers/redis.js';

const directory = mkdtempSync(join(tmpdir(), 'llmgw-redis-'));

function limitedYaml(calls: number): string {
  return `
endpoints:
  - name: chat
    endpoint_type: llm/v1/chat
    model: {provider: mock, config: {}}
    limit: {calls: ${calls}, renewal_period: minute}
`;
}

async function invoke(url: string): Promise<{ status: number; body: unknown }> {
  const response = await request(`${url}/endpoints/chat/invocations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }] }),
  });
  return { status: response.statusCode, body: await response.body.json() };
}

let redis: TestRedis;
const children: ChildProcess[] = [];
const gateways: Gateway[] = [];

beforeAll(async () => {
  redis = await TestRedis.start();
});

afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  }
  for (const gateway of gateways.splice(0)) await gateway.app.close();
  await redis.stop();
  await redis.start();
});

afterAll(async () => {
  await redis.stop();
  rmSync(directory, { recursive: true, force: true });
});

/** `llmgw start --workers 1` against the test Redis; resolves with its URL. */
async function startProcess(
  configPath: string,
  variable: 'LLMGW_REDIS_URL' | 'MLFLOW_GATEWAY_RATE_LIMITS_STORAGE_URI' = 'LLMGW_REDIS_URL',
): Promise<string> {
  const child = spawn(
    process.execPath,
    [CLI, 'start', '--config-path', configPath, '--port', '0', '--workers', '1'],
    {
      env: { ...process.env, LLMGW_REDIS_URL: '', [variable]: redis.url, LLMGW_LOG_LEVEL: 'info' },
    },
  );
  children.push(child);
  return listeningUrl(child);
}

/** An in-process gateway on the test Redis whose error lines are collected. */
async function startInProcess(calls: number): Promise<{ url: string; errors: string[]; infos: string[] }> {
  const errors: string[] = [];
  const infos: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) {
        if (line === '') continue;
        const record = JSON.parse(line) as { level: number; msg: string };
        (record.level >= 50 ? errors : infos).push(record.msg);
      }
      done();
    },
  });
  const config = parseConfig(limitedYaml(calls), new ProviderRegistry(), 'test.yaml');
  const gateway = await createGateway(config, { redisUrl: redis.url, logger: { level: 'info', stream } });
  gateways.push(gateway);
  const url = await gateway.app.listen({ host: '127.0.0.1', port: 0 });
  return { url, errors, infos };
}

const EXCEEDED = { error: 'Rate limit exceeded: 3 per 1 minute' };

describe('rate limits in Redis', () => {
  it("shares one count between two gateway processes (one set up through MLflow's variable)", async () => {
    const configPath = join(directory, 'shared.yaml');
    writeFileSync(configPath, limitedYaml(3));
    const [first, second] = await Promise.all([
      startProcess(configPath),
      startProcess(configPath, 'MLFLOW_GATEWAY_RATE_LIMITS_STORAGE_URI'),
    ]);
    expect((await invoke(first)).status).toBe(200);
    expect((await invoke(second)).status).toBe(200);
    expect((await invoke(first)).status).toBe(200);
    expect(await invoke(second)).toEqual({ status: 429, body: EXCEEDED });
    expect(await invoke(first)).toEqual({ status: 429, body: EXCEEDED });
  });

  it('lets requests through when Redis stops, logs it once, and counts again when it returns', async () => {
    const gateway = await startInProcess(1);
    expect((await invoke(gateway.url)).status).toBe(200);
    expect((await invoke(gateway.url)).status).toBe(429);

    await redis.stop();
    for (let call = 0; call < 5; call += 1) expect((await invoke(gateway.url)).status).toBe(200);
    const unreachable =
      'Rate-limit store (Redis) unreachable: requests pass without rate limits until it returns';
    expect(gateway.errors.filter((message) => message === unreachable)).toEqual([unreachable]);

    await redis.start();
    // Redis restarts empty: once the client has reconnected, the first call counts and the second is over.
    let status = 200;
    for (let attempt = 0; attempt < 200 && status !== 429; attempt += 1) {
      status = (await invoke(gateway.url)).status;
      if (status !== 429) await delay(25);
    }
    expect(status).toBe(429);
    expect(gateway.infos).toContain('Rate-limit store (Redis) reachable again: rate limits are enforced');
  });

  it('serves with limits open when Redis is down at start-up', async () => {
    await redis.stop();
    const gateway = await startInProcess(1);
    expect((await invoke(gateway.url)).status).toBe(200);
    expect((await invoke(gateway.url)).status).toBe(200);
  });
});
