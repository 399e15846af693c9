import type { BenchContext } from '../context.js';
import type { MeasuredProcess } from '../processes.js';
import { ratio, round } from '../stats.js';

export interface IdleResult {
  /** How long both waited, once the gateway answered /health, before the first read. */
  settleMs: number;
  reads: number;
  /** The least VmRSS of the reads: a gateway serving the one-endpoint config, nothing served. */
  gatewayRssMb: number;
  /** The same for the bare proxy. */
  bareRssMb: number;
  vsBare: number | null;
}

const READS = 5;
const READ_INTERVAL_MS = 100;

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The least of a few reads, so a garbage collection caught mid-way does not count. */
async function settledRssMb(servers: readonly MeasuredProcess[]): Promise<number[]> {
  const least = servers.map(() => Number.POSITIVE_INFINITY);
  for (let index = 0; index < READS; index += 1) {
    if (index > 0) await pause(READ_INTERVAL_MS);
    servers.forEach((server, position) => {
      least[position] = Math.min(least[position] ?? 0, server.memory().rssMb);
    });
  }
  return least.map((value) => round(value, 1));
}

/**
 * Scenario 0, run before any request: the RSS of the shared gateway (fresh, on the benchmark's
 * one-endpoint config, having answered only /health) and of the bare proxy, once settled.
 */
export async function runIdle(context: BenchContext): Promise<IdleResult> {
  const settleMs = context.durations.idleSettleMs;
  await pause(settleMs);
  const [gatewayRssMb = 0, bareRssMb = 0] = await settledRssMb([context.gateway, context.bare]);
  return { settleMs, reads: READS, gatewayRssMb, bareRssMb, vsBare: ratio(gatewayRssMb, bareRssMb) };
}
