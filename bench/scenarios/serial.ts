import type { BenchContext } from '../context.js';
import { chatRoutes } from '../requests.js';
import { added, type LatencySummary } from '../stats.js';

export interface SerialResult {
  direct: LatencySummary;
  openAi: LatencySummary;
  invocations: LatencySummary;
  failed: number;
  addedMs: { openAi: { p50: number; p99: number }; invocations: { p50: number; p99: number } };
}

/** Scenario 1: one connection, one request at a time; what the gateway adds to each. */
export async function runSerial(context: BenchContext): Promise<SerialResult> {
  const routes = chatRoutes(context.fake.url, context.gateway.url);
  const seconds = context.durations.serialSeconds;
  let failed = 0;
  const measure = async (target: typeof routes.direct): Promise<LatencySummary> => {
    const result = await context.load.run({ kind: 'closed-loop', target, connections: 1, seconds });
    failed += result.failed;
    return result.latency;
  };
  const direct = await measure(routes.direct);
  const openAi = await measure(routes.openAi);
  const invocations = await measure(routes.invocations);
  return {
    direct,
    openAi,
    invocations,
    failed,
    addedMs: { openAi: added(openAi, direct), invocations: added(invocations, direct) },
  };
}
