import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BenchContext } from '../context.js';
import { startGateway, type MeasuredProcess } from '../processes.js';
import { chatRoutes, gatewayConfig } from '../requests.js';
import { round } from '../stats.js';
import { GatewayMetrics, type ObservedEndpoint } from '../../src/telemetry/metrics.js';
import { RequestTelemetry, type TelemetrySinks } from '../../src/telemetry/request-telemetry.js';
import { readAnswer } from '../../src/telemetry/usage-record.js';

export interface MetricsCostResult {
  requestsPerRound: number;
  rounds: number;
  /** Median over the rounds of the gateway's CPU time per request, metrics off and on. */
  offCpuMicrosPerRequest: number;
  onCpuMicrosPerRequest: number;
  addedCpuMicrosPerRequest: number;
  addedPercent: number;
  failed: number;
  /**
   * In-process, no network: CPU per request of the telemetry record's whole life (attempt,
   * usage, finish), metrics on minus off. Immune to the machine's load, unlike the above.
   */
  recordingNanosPerRequest: { off: number; on: number; added: number };
}

const ROUNDS = 8;

const RECORDING_ITERATIONS = 200_000;
const ENDPOINT: ObservedEndpoint = {
  name: 'chat',
  type: 'llm/v1/chat',
  config: { providerName: 'openai', modelName: 'gpt-4o-mini' },
};
const ANSWER = {
  model: 'gpt-4o-mini-2024-07-18',
  choices: [{ index: 0, finish_reason: 'stop' }],
  usage: { prompt_tokens: 19, completion_tokens: 10, total_tokens: 29 },
};

function recordingNanos(sinks: TelemetrySinks): number {
  const run = (iterations: number): number => {
    const start = process.cpuUsage();
    for (let index = 0; index < iterations; index += 1) {
      const record = new RequestTelemetry(sinks);
      record.target = 'chat';
      sinks.metrics?.inFlight.inc();
      record.attemptStarted(ENDPOINT, 1);
      record.attemptFinished(ENDPOINT, 1, 'success');
      readAnswer(record, ANSWER);
      sinks.metrics?.inFlight.dec();
      record.finish('v1', 200);
    }
    const used = process.cpuUsage(start);
    return ((used.user + used.system) * 1000) / iterations;
  };
  run(RECORDING_ITERATIONS / 4);
  return median([run(RECORDING_ITERATIONS), run(RECORDING_ITERATIONS), run(RECORDING_ITERATIONS)]);
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

/**
 * `--metrics-cost`: what Prometheus metrics cost on the hot path. Two gateways on one config,
 * one with LLMGW_METRICS=off, take the same closed-loop load in alternating rounds (so drift
 * in the machine's load hits both), and the figure is CPU time per request, which competing
 * processes move far less than requests/s. Tracing is not configured in either.
 */
export async function runMetricsCost(context: BenchContext): Promise<MetricsCostResult> {
  const configPath = join(context.workDir, 'metrics-cost.yaml');
  await writeFile(configPath, gatewayConfig(context.fake.url));
  const environment = { OTEL_EXPORTER_OTLP_ENDPOINT: '', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: '' };
  const start = (metrics: string) =>
    startGateway({ configPath, logLevel: context.logLevel, env: { ...environment, LLMGW_METRICS: metrics } });
  const off = await start('off');
  const on = await start('on');
  try {
    const connections = context.durations.throughputConnections;
    const amount = context.durations.memorySmallRequests;
    const samples = { off: [] as number[], on: [] as number[] };
    let failed = 0;
    const measure = async (gateway: MeasuredProcess): Promise<number> => {
      const target = chatRoutes(context.fake.url, gateway.url).openAi;
      const cpuBefore = gateway.cpuSeconds();
      const result = await context.load.run({ kind: 'closed-loop', target, connections, amount });
      failed += result.failed;
      return ((gateway.cpuSeconds() - cpuBefore) * 1e6) / Math.max(1, result.ok + result.failed);
    };
    // The first round only warms the JIT of both.
    await measure(off);
    await measure(on);
    // Alternating which goes first: an A/A run (both off) showed a few µs in favour of the first.
    for (let index = 0; index < ROUNDS; index += 1) {
      if (index % 2 === 0) {
        samples.off.push(await measure(off));
        samples.on.push(await measure(on));
      } else {
        samples.on.push(await measure(on));
        samples.off.push(await measure(off));
      }
    }
    const recordingOff = recordingNanos({ metrics: null, tracing: null });
    const recordingOn = recordingNanos({ metrics: new GatewayMetrics(), tracing: null });
    const offMicros = median(samples.off);
    const onMicros = median(samples.on);
    return {
      requestsPerRound: amount,
      rounds: ROUNDS,
      offCpuMicrosPerRequest: Math.round(offMicros),
      onCpuMicrosPerRequest: Math.round(onMicros),
      addedCpuMicrosPerRequest: Math.round(onMicros - offMicros),
      addedPercent: round(((onMicros - offMicros) / Math.max(1, offMicros)) * 100, 1),
      failed,
      recordingNanosPerRequest: {
        off: Math.round(recordingOff),
        on: Math.round(recordingOn),
        added: Math.round(recordingOn - recordingOff),
      },
    };
  } finally {
    await Promise.all([off.stop(), on.stop()]);
  }
}
