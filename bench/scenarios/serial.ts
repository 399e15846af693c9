import type { BenchContext } from '../context.js';
import type { Target } from '../load-generator.js';
import { chatRoutes, viaBareProxy } from '../requests.js';
import { added, type LatencySummary } from '../stats.js';

type Added = { p50: number; p99: number };

export interface SerialResult {
  seconds: number;
  direct: LatencySummary;
  bare: LatencySummary;
  openAi: LatencySummary;
  invocations: LatencySummary;
  failed: number;
  /** Each path minus direct, percentile by percentile. */
  addedMs: { bare: Added; openAi: Added; invocations: Added };
  /** Each gateway route minus the bare proxy: what llmgw costs beyond forwarding. */
  overBareMs: { openAi: Added; invocations: Added };
}

/**
 * Scenario 1: one connection, one request at a time, for the same time on each path; what the
 * bare proxy and each gateway route add to a direct call.
 */
export async function runSerial(context: BenchContext): Promise<SerialResult> {
  const routes = chatRoutes(context.fake.url, context.gateway.url);
  const seconds = context.durations.serialSeconds;
  let failed = 0;
  const measure = async (target: Target): Promise<LatencySummary> => {
    const result = await context.load.run({ kind: 'closed-loop', target, connections: 1, seconds });
    failed += result.failed;
    return result.latency;
  };
  const direct = await measure(routes.direct);
  const bare = await measure(viaBareProxy(routes.direct, context.bare.url));
  const openAi = await measure(routes.openAi);
  const invocations = await measure(routes.invocations);
  return {
    seconds,
    direct,
    bare,
    openAi,
    invocations,
    failed,
    addedMs: {
      bare: added(bare, direct),
      openAi: added(openAi, direct),
      invocations: added(invocations, direct),
    },
    overBareMs: { openAi: added(openAi, bare), invocations: added(invocations, bare) },
  };
}
