import type { BenchContext } from '../context.js';
import type { Target } from '../load-generator.js';
import { chatRoutes, viaBareProxy } from '../requests.js';
import { added, type LatencySummary } from '../stats.js';

type Added = { p50: number; p99: number };

export interface FixedRateResult {
  ratePerSecond: number;
  seconds: number;
  direct: LatencySummary;
  bare: LatencySummary;
  gateway: LatencySummary;
  failed: number;
  /** Each path minus direct. */
  addedMs: { bare: Added; gateway: Added };
  /** The gateway minus the bare proxy. */
  overBareMs: Added;
}

/** Scenario 2: open-loop load at a fixed rate, direct, through the bare proxy and /v1/chat/completions. */
export async function runFixedRate(context: BenchContext): Promise<FixedRateResult> {
  const routes = chatRoutes(context.fake.url, context.gateway.url);
  const { fixedRatePerSecond: ratePerSecond, fixedRateSeconds: seconds } = context.durations;
  let failed = 0;
  const measure = async (target: Target): Promise<LatencySummary> => {
    const result = await context.load.run({ kind: 'open-loop', target, ratePerSecond, seconds });
    failed += result.failed;
    return result.latency;
  };
  const direct = await measure(routes.direct);
  const bare = await measure(viaBareProxy(routes.direct, context.bare.url));
  const gateway = await measure(routes.openAi);
  return {
    ratePerSecond,
    seconds,
    direct,
    bare,
    gateway,
    failed,
    addedMs: { bare: added(bare, direct), gateway: added(gateway, direct) },
    overBareMs: added(gateway, bare),
  };
}
