import type { BenchContext } from '../context.js';
import { chatRoutes } from '../requests.js';
import { added, type LatencySummary } from '../stats.js';

export interface FixedRateResult {
  ratePerSecond: number;
  seconds: number;
  direct: LatencySummary;
  gateway: LatencySummary;
  failed: number;
  addedMs: { p50: number; p99: number };
}

/** Scenario 2: open-loop load at a fixed rate through /v1/chat/completions vs direct. */
export async function runFixedRate(context: BenchContext): Promise<FixedRateResult> {
  const routes = chatRoutes(context.fake.url, context.gateway.url);
  const { fixedRatePerSecond: ratePerSecond, fixedRateSeconds: seconds } = context.durations;
  const direct = await context.load.run({ kind: 'open-loop', target: routes.direct, ratePerSecond, seconds });
  const gateway = await context.load.run({
    kind: 'open-loop',
    target: routes.openAi,
    ratePerSecond,
    seconds,
  });
  return {
    ratePerSecond,
    seconds,
    direct: direct.latency,
    gateway: gateway.latency,
    failed: direct.failed + gateway.failed,
    addedMs: added(gateway.latency, direct.latency),
  };
}
