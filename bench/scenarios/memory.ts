import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BenchContext } from '../context.js';
import { chatRoutes, gatewayConfig } from '../requests.js';
import { round } from '../stats.js';

export interface MemoryResult {
  smallRequests: number;
  largeRequests: number;
  rssAfterSmallMb: number;
  rssAfterLargeMb: number;
  /** RSS growth from the small count to the large one, in percent. */
  growthPercent: number;
  peakRssMb: number;
  failed: number;
}

/**
 * Scenario 5: a fresh gateway under 50 connections; its RSS after the first requests, after
 * many more (a leak grows with the count), and its peak.
 */
export async function runMemory(context: BenchContext): Promise<MemoryResult> {
  const configPath = join(context.workDir, 'memory.yaml');
  await writeFile(configPath, gatewayConfig(context.fake.url));
  const gateway = await context.startGateway(configPath);
  try {
    const target = chatRoutes(context.fake.url, gateway.url).openAi;
    const { memorySmallRequests: small, memoryLargeRequests: large } = context.durations;
    const connections = context.durations.throughputConnections;
    const first = await context.load.run({ kind: 'closed-loop', target, connections, amount: small });
    const afterSmall = gateway.memory();
    const rest = await context.load.run({ kind: 'closed-loop', target, connections, amount: large - small });
    const afterLarge = gateway.memory();
    return {
      smallRequests: small,
      largeRequests: large,
      rssAfterSmallMb: round(afterSmall.rssMb, 1),
      rssAfterLargeMb: round(afterLarge.rssMb, 1),
      growthPercent: round(((afterLarge.rssMb - afterSmall.rssMb) / afterSmall.rssMb) * 100, 1),
      peakRssMb: round(afterLarge.peakRssMb, 1),
      failed: first.failed + rest.failed,
    };
  } finally {
    await gateway.stop();
  }
}
