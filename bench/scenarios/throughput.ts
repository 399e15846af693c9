import type { BenchContext } from '../context.js';
import { chatRoutes } from '../requests.js';
import { round } from '../stats.js';

export interface ThroughputResult {
  connections: number;
  seconds: number;
  directPerSecond: number;
  gatewayPerSecond: number;
  failed: number;
  /**
   * The gateway's CPU time per request: unlike requests/s it barely moves when other
   * processes compete for the cores, so it is the figure to compare between builds.
   */
  gatewayCpuMicrosPerRequest: number;
  /** Gateway requests/s ÷ direct requests/s. */
  ratio: number;
}

/** Scenario 3: as many requests as 50 connections can push, through the gateway and direct. */
export async function runThroughput(context: BenchContext): Promise<ThroughputResult> {
  const routes = chatRoutes(context.fake.url, context.gateway.url);
  const { throughputConnections: connections, throughputSeconds: seconds } = context.durations;
  const direct = await context.load.run({ kind: 'closed-loop', target: routes.direct, connections, seconds });
  const cpuBefore = context.gateway.cpuSeconds();
  const gateway = await context.load.run({
    kind: 'closed-loop',
    target: routes.openAi,
    connections,
    seconds,
  });
  const cpuSeconds = context.gateway.cpuSeconds() - cpuBefore;
  return {
    connections,
    seconds,
    directPerSecond: direct.requestsPerSecond,
    gatewayPerSecond: gateway.requestsPerSecond,
    failed: direct.failed + gateway.failed,
    gatewayCpuMicrosPerRequest: Math.round((cpuSeconds * 1e6) / Math.max(1, gateway.ok + gateway.failed)),
    ratio: round(gateway.requestsPerSecond / Math.max(1, direct.requestsPerSecond)),
  };
}
