import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConfigWatcher } from '../../src/config/watch.js';
import { ProviderRegistry } from '../../src/providers/registry.js';
import { startGateway, type RunningGateway } from '../../src/server/start.js';
import { FakeUpstream } from '../fakes/fake-upstream.js';
import { chatCompletion, chatStreamFrames } from '../fakes/openai.js';
import { postJson } from '../helpers/http.js';
import { parsePrometheusText, valueOf, type PrometheusSample } from '../telemetry/prometheus-text.js';

const HI = { messages: [{ role: 'user', content: 'secret prompt text' }] };

function endpointYaml(name: string, model: string, base: string, extra: string[] = []): string[] {
  return [
    `  - name: ${name}`,
    '    endpoint_type: llm/v1/chat',
    '    model:',
    '      provider: openai',
    `      name: ${model}`,
    '      config:',
    '        openai_api_key: sk-test-metrics',
    `        openai_api_base: ${base}/v1`,
    ...extra,
  ];
}

function configYaml(base: string, comment = ''): string {
  return [
    `# ${comment}`,
    'endpoints:',
    ...endpointYaml('chat', 'gpt-4o-mini', base),
    ...endpointYaml('limited', 'gpt-4o-mini', base, [
      '    limit:',
      '      calls: 1',
      '      renewal_period: minute',
    ]),
    ...endpointYaml('primary', 'gpt-4o-mini', base),
    ...endpointYaml('backup', 'gpt-4o', base),
    'routes:',
    '  - name: resilient',
    '    task_type: llm/v1/chat',
    '    routing_strategy: FALLBACK',
    '    destinations:',
    '      - name: primary',
    '      - name: backup',
    '',
  ].join('\n');
}

/**
 * Writes the config and rewrites it until the watcher reports `event`. Under load a single
 * write was sometimes not seen (see the report); rewriting the same text is harmless, since
 * the watcher answers an already applied or rejected text with `unchanged`, never a reload.
 */
async function rewriteUntil(
  watcher: ConfigWatcher,
  event: 'reloaded' | 'reload-failed',
  path: string,
  text: string,
) {
  const seen = once(watcher, event);
  writeFileSync(path, text);
  const retry = setInterval(() => {
    writeFileSync(path, text);
  }, 500);
  try {
    await seen;
  } finally {
    clearInterval(retry);
  }
}

interface LogLine {
  msg: string;
  usage?: Record<string, unknown>;
}

describe('GET /metrics after a known sequence of requests', () => {
  const directory = mkdtempSync(join(tmpdir(), 'llmgw-metrics-'));
  const path = join(directory, 'gateway.yaml');
  const logs: LogLine[] = [];
  let fake: FakeUpstream;
  let gateway: RunningGateway;
  let samples: PrometheusSample[];
  let metricsText: string;
  const statuses: number[] = [];
  const timing: { duration: number; overhead: number }[] = [];

  const record = (response: Response): void => {
    statuses.push(response.status);
    timing.push({
      duration: Number(response.headers.get('x-mlflow-gateway-duration-ms')),
      overhead: Number(response.headers.get('x-mlflow-gateway-overhead-duration-ms')),
    });
  };

  beforeAll(async () => {
    fake = await FakeUpstream.start();
    writeFileSync(path, configYaml(fake.url));
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString('utf8').split('\n')) if (line !== '') logs.push(JSON.parse(line));
        done();
      },
    });
    gateway = await startGateway({
      configPath: path,
      host: '127.0.0.1',
      port: 0,
      registry: new ProviderRegistry(),
      timeoutSeconds: 5,
      reloadDebounceMs: 20,
      logger: { level: 'info', stream },
    });
    const url = gateway.url;
    fake
      .reply({ kind: 'json', body: chatCompletion })
      .reply({ kind: 'json', body: chatCompletion })
      .reply({
        kind: 'json',
        status: 400,
        body: { error: { message: 'bad', type: 'invalid_request_error' } },
      })
      .reply({ kind: 'sse', events: chatStreamFrames() })
      .reply({ kind: 'json', body: chatCompletion })
      .reply({ kind: 'json', status: 503, body: { error: { message: 'overloaded' } } })
      .reply({ kind: 'json', body: { ...chatCompletion, model: 'gpt-4o-2024-08-06' } });
    record(await postJson(`${url}/endpoints/chat/invocations`, HI));
    record(await postJson(`${url}/endpoints/chat/invocations`, HI));
    record(await postJson(`${url}/v1/chat/completions`, { ...HI, model: 'chat' }));
    const streamed = await postJson(`${url}/endpoints/chat/invocations`, { ...HI, stream: true });
    await streamed.text();
    record(streamed);
    record(await postJson(`${url}/endpoints/limited/invocations`, HI));
    record(await postJson(`${url}/endpoints/limited/invocations`, HI));
    record(await postJson(`${url}/endpoints/resilient/invocations`, HI));
    record(await postJson(`${url}/endpoints/nope/invocations`, HI));
    const watcher = gateway.watcher!;
    await rewriteUntil(watcher, 'reloaded', path, configYaml(fake.url, 'second generation'));
    await rewriteUntil(watcher, 'reload-failed', path, 'endpoints: [');
    const scrape = await fetch(`${url}/metrics`);
    expect(scrape.status).toBe(200);
    expect(scrape.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    metricsText = await scrape.text();
    samples = parsePrometheusText(metricsText);
  });

  afterAll(async () => {
    await gateway.close();
    await fake.close();
    rmSync(directory, { recursive: true, force: true });
  });

  it('answered the sequence with the statuses the metrics count', () => {
    expect(statuses).toEqual([200, 200, 400, 200, 200, 429, 200, 404]);
  });

  it('counts requests by route family, endpoint, provider, model and status', () => {
    const requests = (labels: Record<string, string>) => valueOf(samples, 'llmgw_requests_total', labels);
    const chat = { endpoint: 'chat', provider: 'openai', model: 'gpt-4o-mini' };
    expect(requests({ route_family: 'endpoints', ...chat, status: '200' })).toBe(3);
    expect(requests({ route_family: 'v1', ...chat, status: '400' })).toBe(1);
    expect(requests({ route_family: 'endpoints', endpoint: 'limited', status: '200' })).toBe(1);
    expect(requests({ route_family: 'endpoints', endpoint: 'limited', status: '429' })).toBe(1);
    expect(requests({ route_family: 'endpoints', endpoint: 'backup', model: 'gpt-4o', status: '200' })).toBe(
      1,
    );
    expect(requests({ route_family: 'endpoints', endpoint: '_none', status: '404' })).toBe(1);
  });

  it('observes request duration and overhead once per request', () => {
    const labels = { route_family: 'endpoints', endpoint: 'chat' };
    expect(valueOf(samples, 'llmgw_request_duration_seconds_count', labels)).toBe(3);
    expect(valueOf(samples, 'llmgw_overhead_duration_seconds_count', labels)).toBe(3);
    expect(valueOf(samples, 'llmgw_overhead_duration_seconds_sum', labels)).toBeLessThanOrEqual(
      valueOf(samples, 'llmgw_request_duration_seconds_sum', labels),
    );
  });

  it('observes each upstream attempt and the first streamed chunk by provider and model', () => {
    const operation = (model: string, errorType: string) =>
      valueOf(samples, 'gen_ai_client_operation_duration_seconds_count', {
        gen_ai_operation_name: 'chat',
        gen_ai_provider_name: 'openai',
        gen_ai_request_model: model,
        error_type: errorType,
      });
    expect(operation('gpt-4o-mini', '')).toBe(4);
    expect(operation('gpt-4o-mini', 'UPSTREAM_ERROR')).toBe(2);
    expect(operation('gpt-4o', '')).toBe(1);
    expect(
      valueOf(samples, 'llmgw_upstream_time_to_first_chunk_seconds_count', {
        provider: 'openai',
        model: 'gpt-4o-mini',
      }),
    ).toBe(1);
  });

  it("sums tokens in and out from the upstream's usage", () => {
    const tokens = (endpoint: string, type: string, suffix: string) =>
      valueOf(samples, `gen_ai_client_token_usage_${suffix}`, { endpoint, gen_ai_token_type: type });
    expect(tokens('chat', 'input', 'count')).toBe(2);
    expect(tokens('chat', 'input', 'sum')).toBe(38);
    expect(tokens('chat', 'output', 'sum')).toBe(20);
    expect(tokens('backup', 'input', 'sum')).toBe(19);
    expect(tokens('limited', 'output', 'sum')).toBe(10);
  });

  it('counts rate-limit rejections, route attempts and fallbacks by destination', () => {
    expect(valueOf(samples, 'llmgw_rate_limited_total', { endpoint: 'limited' })).toBe(1);
    const attempts = (route: string, endpoint: string, outcome: string) =>
      valueOf(samples, 'llmgw_route_attempts_total', { route, endpoint, outcome });
    expect(attempts('chat', 'chat', 'success')).toBe(3);
    expect(attempts('resilient', 'primary', 'retryable')).toBe(1);
    expect(attempts('resilient', 'backup', 'success')).toBe(1);
    expect(valueOf(samples, 'llmgw_route_fallbacks_total', { route: 'resilient', endpoint: 'backup' })).toBe(
      1,
    );
    expect(valueOf(samples, 'llmgw_route_fallbacks_total', { route: 'resilient', endpoint: 'primary' })).toBe(
      0,
    );
  });

  it('counts config reloads by result and reports the generation', () => {
    expect(valueOf(samples, 'llmgw_config_reloads_total', { result: 'success' })).toBe(1);
    expect(valueOf(samples, 'llmgw_config_reloads_total', { result: 'failure' })).toBe(1);
    expect(valueOf(samples, 'llmgw_config_generation')).toBe(2);
  });

  it('reports nothing in flight, the scrape not counting itself, and no stream open', () => {
    expect(valueOf(samples, 'llmgw_requests_in_flight')).toBe(0);
    expect(valueOf(samples, 'llmgw_streams_open')).toBe(0);
  });

  it('leaves scrapes, health probes and the docs out of the request metrics', async () => {
    const url = gateway.url;
    expect((await fetch(`${url}/health`)).status).toBe(200);
    expect((await fetch(`${url}/docs/json`)).status).toBe(200);
    await (await fetch(`${url}/metrics`)).text();
    const again = parsePrometheusText(await (await fetch(`${url}/metrics`)).text());
    const requestSeries = (from: PrometheusSample[]) =>
      from.filter((sample) => sample.name === 'llmgw_requests_total');
    expect(requestSeries(again)).toEqual(requestSeries(samples));
    const families = new Set(again.map((sample) => sample.labels.route_family).filter(Boolean));
    expect([...families].sort()).toEqual(['endpoints', 'v1']);
  });

  it('matches the registry it was rendered from', async () => {
    const json = await gateway.telemetry.metrics!.registry.getMetricsAsJSON();
    const counter = json.find((metric) => metric.name === 'llmgw_rate_limited_total');
    expect(counter?.values.filter((sample) => sample.value !== 0)).toEqual([
      { labels: { endpoint: 'limited' }, value: 1 },
    ]);
    expect(metricsText).toContain('\nllmgw_rate_limited_total{endpoint="limited"} 1\n');
  });

  it('puts no request content in label values', () => {
    expect(metricsText).not.toContain('secret prompt text');
    expect(samples.some((sample) => Object.values(sample.labels).includes('nope'))).toBe(false);
  });

  it('stamps timing headers on every answer, overhead within duration', () => {
    expect(timing).toHaveLength(8);
    for (const { duration, overhead } of timing) {
      expect(duration).toBeGreaterThan(0);
      expect(overhead).toBeGreaterThanOrEqual(0);
      expect(overhead).toBeLessThanOrEqual(duration);
    }
  });

  it('logs one usage record per request that reached an endpoint, without content', () => {
    const usages = logs.filter((line) => line.msg === 'request completed' && line.usage !== undefined);
    expect(usages.map((line) => line.usage?.endpoint)).toEqual([
      'chat',
      'chat',
      'chat',
      'chat',
      'limited',
      'limited',
      'resilient',
    ]);
    const { durationMs, overheadMs, ...first } = usages[0]!.usage!;
    expect(first).toEqual({
      endpoint: 'chat',
      route: null,
      destination: 'chat',
      provider: 'openai',
      model: 'gpt-4o-mini',
      responseModel: 'gpt-4o-mini-2024-07-18',
      status: 200,
      inputTokens: 19,
      outputTokens: 10,
      attempts: 1,
      streamed: false,
    });
    expect(overheadMs).toBeLessThanOrEqual(durationMs as number);
    const { durationMs: _d, overheadMs: _o, ...routed } = usages[6]!.usage!;
    expect(routed).toEqual({
      endpoint: 'resilient',
      route: 'resilient',
      destination: 'backup',
      provider: 'openai',
      model: 'gpt-4o',
      responseModel: 'gpt-4o-2024-08-06',
      status: 200,
      inputTokens: 19,
      outputTokens: 10,
      attempts: 2,
      streamed: false,
    });
    expect(usages[3]!.usage).toMatchObject({ streamed: true, status: 200, inputTokens: null });
    expect(JSON.stringify(logs)).not.toContain('secret prompt text');
  });
});
