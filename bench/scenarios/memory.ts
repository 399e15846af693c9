import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BenchContext } from '../context.js';
import type { Target } from '../load-generator.js';
import type { MeasuredProcess } from '../processes.js';
import { chatRoutes, gatewayConfig, viaBareProxy } from '../requests.js';
import { ratio, round } from '../stats.js';

export interface ProcessMemory {
  rssAfterSmallMb: number;
  rssAfterLargeMb: number;
  /** RSS growth from the small count to the large one, in percent. */
  growthPercent: number;
  /** VmHWM at the end: the most RSS the process ever had. */
  peakRssMb: number;
}

export interface MemoryResult {
  connections: number;
  smallRequests: number;
  largeRequests: number;
  /** A fresh gateway under /v1/chat/completions. */
  gateway: ProcessMemory;
  /** A fresh bare proxy under the same load. */
  bare: ProcessMemory;
  /** The gateway's peak RSS ÷ the bare proxy's. */
  peakVsBare: number | null;
  failed: number;
}

/**
 * Scenario 5: a fresh gateway, then a fresh bare proxy, under the same closed-loop load; each
 * one's RSS after the first requests, after many more (a leak grows with the count), and its
 * peak.
 */
export async function runMemory(context: BenchContext): Promise<MemoryResult> {
  const configPath = join(context.workDir, 'memory.yaml');
  await writeFile(configPath, gatewayConfig(context.fake.url));
  const { memorySmallRequests: small, memoryLargeRequests: large } = context.durations;
  const connections = context.durations.throughputConnections;
  let failed = 0;
  const measure = async (
    start: () => Promise<MeasuredProcess>,
    targetOf: (server: MeasuredProcess) => Target,
  ): Promise<ProcessMemory> => {
    const server = await start();
    try {
      const target = targetOf(server);
      const first = await context.load.run({ kind: 'closed-loop', target, connections, amount: small });
      const afterSmall = server.memory();
      const rest = await context.load.run({
        kind: 'closed-loop',
        target,
        connections,
        amount: large - small,
      });
      const afterLarge = server.memory();
      failed += first.failed + rest.failed;
      return {
        rssAfterSmallMb: round(afterSmall.rssMb, 1),
        rssAfterLargeMb: round(afterLarge.rssMb, 1),
        growthPercent: round(((afterLarge.rssMb - afterSmall.rssMb) / afterSmall.rssMb) * 100, 1),
        peakRssMb: round(afterLarge.peakRssMb, 1),
      };
    } finally {
      await server.stop();
    }
  };
  const gateway = await measure(
    () => context.startGateway(configPath),
    (server) => chatRoutes(context.fake.url, server.url).openAi,
  );
  const { direct } = chatRoutes(context.fake.url, context.gateway.url);
  const bare = await measure(
    () => context.startBareProxy(),
    (server) => viaBareProxy(direct, server.url),
  );
  return {
    connections,
    smallRequests: small,
    largeRequests: large,
    gateway,
    bare,
    peakVsBare: ratio(gateway.peakRssMb, bare.peakRssMb),
    failed,
  };
}
