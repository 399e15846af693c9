import type { BenchContext } from '../context.js';
import type { Target } from '../load-generator.js';
import type { MeasuredProcess } from '../processes.js';
import { chatRoutes, viaBareProxy } from '../requests.js';
import { ratio } from '../stats.js';

export interface RouteThroughput {
  /** Successful responses per second over all rounds. */
  requestsPerSecond: number;
  requests: number;
  failed: number;
  /**
   * CPU time per request of the process in front of the client: the fake upstream for direct,
   * else the bare proxy or the gateway. Unlike requests/s it barely moves when other processes
   * compete for the cores, so it is the figure to compare between builds.
   */
  cpuMicrosPerRequest: number;
}

/** llmgw ÷ the bare proxy on one route; null when the bare proxy measured 0. */
export interface VersusBare {
  requestsPerSecond: number | null;
  cpuPerRequest: number | null;
}

export interface ThroughputResult {
  connections: number;
  /** Per path, over all rounds. */
  seconds: number;
  rounds: number;
  direct: RouteThroughput;
  bare: RouteThroughput;
  openAi: RouteThroughput;
  invocations: RouteThroughput;
  failed: number;
  /** Requests/s ÷ direct's. */
  vsDirect: { bare: number | null; openAi: number | null; invocations: number | null };
  vsBare: { openAi: VersusBare; invocations: VersusBare };
}

type Path = 'direct' | 'bare' | 'openAi' | 'invocations';
const ORDER: readonly Path[] = ['direct', 'bare', 'openAi', 'invocations'];

interface Totals {
  ok: number;
  failed: number;
  elapsedSeconds: number;
  cpuSeconds: number;
}

/**
 * Scenario 3: as many requests as 50 connections can push, direct, through the bare proxy and
 * both gateway routes. Each path gets the same time, in rounds whose order reverses each round,
 * so a drift in the machine's load hits every path alike.
 */
export async function runThroughput(context: BenchContext): Promise<ThroughputResult> {
  const routes = chatRoutes(context.fake.url, context.gateway.url);
  const {
    throughputConnections: connections,
    throughputSeconds: seconds,
    throughputRounds: rounds,
  } = context.durations;
  const paths: Record<Path, { target: Target; server: MeasuredProcess }> = {
    direct: { target: routes.direct, server: context.fake },
    bare: { target: viaBareProxy(routes.direct, context.bare.url), server: context.bare },
    openAi: { target: routes.openAi, server: context.gateway },
    invocations: { target: routes.invocations, server: context.gateway },
  };
  const totals = Object.fromEntries(
    ORDER.map((path) => [path, { ok: 0, failed: 0, elapsedSeconds: 0, cpuSeconds: 0 }]),
  ) as Record<Path, Totals>;
  for (let index = 0; index < rounds; index += 1) {
    for (const path of index % 2 === 0 ? ORDER : [...ORDER].reverse()) {
      const { target, server } = paths[path];
      const cpuBefore = server.cpuSeconds();
      const result = await context.load.run({
        kind: 'closed-loop',
        target,
        connections,
        seconds: seconds / rounds,
      });
      const total = totals[path];
      total.cpuSeconds += server.cpuSeconds() - cpuBefore;
      total.ok += result.ok;
      total.failed += result.failed;
      total.elapsedSeconds += result.elapsedSeconds;
    }
  }
  const figures = (total: Totals): RouteThroughput => ({
    requestsPerSecond: total.elapsedSeconds > 0 ? Math.round(total.ok / total.elapsedSeconds) : 0,
    requests: total.ok + total.failed,
    failed: total.failed,
    cpuMicrosPerRequest: Math.round((total.cpuSeconds * 1e6) / Math.max(1, total.ok + total.failed)),
  });
  const [direct, bare, openAi, invocations] = ORDER.map((path) => figures(totals[path])) as [
    RouteThroughput,
    RouteThroughput,
    RouteThroughput,
    RouteThroughput,
  ];
  const versusBare = (route: RouteThroughput): VersusBare => ({
    requestsPerSecond: ratio(route.requestsPerSecond, bare.requestsPerSecond),
    cpuPerRequest: ratio(route.cpuMicrosPerRequest, bare.cpuMicrosPerRequest),
  });
  return {
    connections,
    seconds,
    rounds,
    direct,
    bare,
    openAi,
    invocations,
    failed: direct.failed + bare.failed + openAi.failed + invocations.failed,
    vsDirect: {
      bare: ratio(bare.requestsPerSecond, direct.requestsPerSecond),
      openAi: ratio(openAi.requestsPerSecond, direct.requestsPerSecond),
      invocations: ratio(invocations.requestsPerSecond, direct.requestsPerSecond),
    },
    vsBare: { openAi: versusBare(openAi), invocations: versusBare(invocations) },
  };
}
