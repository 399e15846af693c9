import { AggregatorRegistry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { GatewayMetrics, NO_ENDPOINT, type ObservedEndpoint } from '../../src/telemetry/metrics.js';
import { parsePrometheusText, samplesOf, valueOf } from './prometheus-text.js';

const chat: ObservedEndpoint = {
  name: 'chat',
  type: 'llm/v1/chat',
  config: { providerName: 'anthropic', modelName: 'claude-sonnet-4' },
};

function metrics(): GatewayMetrics {
  return new GatewayMetrics({ processMetrics: false });
}

describe('GatewayMetrics', () => {
  it('resolves an endpoint’s label children once and reuses them', () => {
    const gateway = metrics();
    expect(gateway.endpoint(chat)).toBe(gateway.endpoint(chat));
  });

  it('counts requests that named no endpoint under one fixed label value', async () => {
    const gateway = metrics();
    gateway.requestFinished('endpoints', gateway.endpoint(null), 404, 0.001, 0.001);
    gateway.requestFinished('endpoints', gateway.endpoint(null), 404, 0.001, 0.001);
    const samples = parsePrometheusText(await gateway.registry.metrics());
    expect(samplesOf(samples, 'llmgw_requests_total')).toEqual([
      {
        name: 'llmgw_requests_total',
        labels: { route_family: 'endpoints', endpoint: NO_ENDPOINT, provider: '', model: '', status: '404' },
        value: 2,
      },
    ]);
  });

  it('labels GenAI metrics with the conventions’ provider names and the endpoint’s model', async () => {
    const gateway = metrics();
    gateway.endpoint(chat).inputTokens.observe(100);
    gateway.attemptFinished('chat', gateway.endpoint(chat), 'success', 0.5, '');
    const samples = parsePrometheusText(await gateway.registry.metrics());
    const genAi = {
      gen_ai_operation_name: 'chat',
      gen_ai_provider_name: 'anthropic',
      gen_ai_request_model: 'claude-sonnet-4',
    };
    expect(valueOf(samples, 'gen_ai_client_token_usage_sum', { ...genAi, gen_ai_token_type: 'input' })).toBe(
      100,
    );
    expect(
      valueOf(samples, 'gen_ai_client_operation_duration_seconds_count', { ...genAi, error_type: '' }),
    ).toBe(1);
    expect(
      valueOf(samples, 'llmgw_route_attempts_total', { route: 'chat', endpoint: 'chat', outcome: 'success' }),
    ).toBe(1);
  });

  it('counts a rate-limited destination as a rejection, not as an upstream call', async () => {
    const gateway = metrics();
    gateway.attemptFinished('route', gateway.endpoint(chat), 'rate_limited', 0, 'RATE_LIMITED');
    const samples = parsePrometheusText(await gateway.registry.metrics());
    expect(valueOf(samples, 'llmgw_rate_limited_total', { endpoint: 'chat' })).toBe(1);
    expect(samplesOf(samples, 'gen_ai_client_operation_duration_seconds_count')).toEqual([]);
  });

  it('sums counters across workers and keeps the lowest config generation', async () => {
    const first = metrics();
    const second = metrics();
    first.reloaded(true);
    first.requestFinished('v1', first.endpoint(chat), 200, 0.1, 0.001);
    second.requestFinished('v1', second.endpoint(chat), 200, 0.1, 0.001);
    second.reloaded(false);
    const aggregated = AggregatorRegistry.aggregate([
      await first.registry.getMetricsAsJSON(),
      await second.registry.getMetricsAsJSON(),
    ]);
    const samples = parsePrometheusText(await aggregated.metrics());
    expect(valueOf(samples, 'llmgw_requests_total', { endpoint: 'chat', status: '200' })).toBe(2);
    expect(valueOf(samples, 'llmgw_request_duration_seconds_count', { endpoint: 'chat' })).toBe(2);
    expect(valueOf(samples, 'llmgw_config_reloads_total', { result: 'success' })).toBe(1);
    expect(valueOf(samples, 'llmgw_config_reloads_total', { result: 'failure' })).toBe(1);
    expect(valueOf(samples, 'llmgw_config_generation')).toBe(1);
  });
});
