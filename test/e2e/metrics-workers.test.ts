import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { CLI } from '../helpers/cli-process.js';
import { freePort } from '../helpers/port.js';
import { parsePrometheusText, valueOf } from '../telemetry/prometheus-text.js';

const directory = mkdtempSync(join(tmpdir(), 'llmgw-metrics-workers-'));
const configPath = join(directory, 'gateway.yaml');
writeFileSync(
  configPath,
  [
    'endpoints:',
    '  - name: chat',
    '    endpoint_type: llm/v1/chat',
    '    model:',
    '      provider: mock',
    '      name: mock-chat',
    '      config: {}',
    '',
  ].join('\n'),
);

const LISTENING = /"url":"(http:\/\/127\.0\.0\.1:\d+)"/g;

/** `llmgw start`, resolved once `workers` processes log that they listen. */
async function start(
  args: string[],
  workers: number,
  env: NodeJS.ProcessEnv = {},
): Promise<{ child: ChildProcessWithoutNullStreams; url: string }> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, LLMGW_LOG_LEVEL: 'info', ...env };
  delete childEnv.LLMGW_REDIS_URL;
  delete childEnv.OTEL_EXPORTER_OTLP_ENDPOINT;
  const child = spawn(process.execPath, [CLI, 'start', '--config-path', configPath, '--port', '0', ...args], {
    env: childEnv,
  });
  children.push(child);
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const urls = [...output.matchAll(LISTENING)].map((match) => match[1]!);
      if (urls.length >= workers) resolve(urls[0]!);
    });
    child.once('exit', (code) => {
      reject(new Error(`llmgw exited with ${String(code)}: ${output}`));
    });
  });
  return { child, url };
}

const children: ChildProcessWithoutNullStreams[] = [];

afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode !== null) continue;
    const exited = once(child, 'exit');
    child.kill('SIGINT');
    await exited;
  }
});

afterAll(() => {
  rmSync(directory, { recursive: true, force: true });
});

/** One chat call on a new connection, so the cluster's round robin hands them out in turn. */
async function chat(url: string): Promise<number> {
  const response = await request(`${url}/endpoints/chat/invocations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', connection: 'close' },
    body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }] }),
  });
  await response.body.dump();
  return response.statusCode;
}

async function scrape(url: string): Promise<{ status: number; text: string }> {
  const response = await request(url, { headers: { connection: 'close' } });
  return { status: response.statusCode, text: await response.body.text() };
}

describe('/metrics with --workers', () => {
  it("sums every worker's figures in one scrape on the gateway port", async () => {
    const { url } = await start(['--workers', '2'], 2);
    const statuses = [];
    for (let index = 0; index < 6; index += 1) statuses.push(await chat(url));
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200]);
    const { status, text } = await scrape(`${url}/metrics`);
    expect(status).toBe(200);
    const samples = parsePrometheusText(text);
    const labels = { route_family: 'endpoints', endpoint: 'chat', status: '200' };
    expect(valueOf(samples, 'llmgw_requests_total', labels)).toBe(6);
    expect(
      valueOf(samples, 'llmgw_request_duration_seconds_count', {
        route_family: 'endpoints',
        endpoint: 'chat',
      }),
    ).toBe(6);
    expect(valueOf(samples, 'llmgw_config_generation')).toBe(1);
    // Nothing in flight across both workers: the scrape in progress does not count itself.
    expect(valueOf(samples, 'llmgw_requests_in_flight')).toBe(0);
  });

  it('serves the sum from the primary on --metrics-port, and nothing on the gateway port', async () => {
    const metricsPort = await freePort();
    const { url } = await start(['--workers', '2', '--metrics-port', String(metricsPort)], 2);
    for (let index = 0; index < 4; index += 1) expect(await chat(url)).toBe(200);
    const { status, text } = await scrape(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(status).toBe(200);
    const samples = parsePrometheusText(text);
    expect(
      valueOf(samples, 'llmgw_requests_total', {
        route_family: 'endpoints',
        endpoint: 'chat',
        status: '200',
      }),
    ).toBe(4);
    expect((await scrape(`${url}/metrics`)).status).toBe(404);
  });

  it('serves no /metrics with LLMGW_METRICS=off', async () => {
    const { url } = await start(['--workers', '1'], 1, { LLMGW_METRICS: 'off' });
    expect(await chat(url)).toBe(200);
    expect((await scrape(`${url}/metrics`)).status).toBe(404);
  });
});
