import type { BenchContext } from '../context.js';
import { STREAM_CHUNKS, STREAM_INTERVAL_MS } from '../fake-upstream.js';
import { chatRoutes } from '../requests.js';
import { added, type LatencySummary } from '../stats.js';

export interface StreamingResult {
  streams: number;
  chunks: number;
  intervalMs: number;
  direct: { firstByte: LatencySummary; lastByte: LatencySummary };
  gateway: { firstByte: LatencySummary; lastByte: LatencySummary };
  failed: number;
  addedMs: { firstByte: { p50: number; p99: number }; lastByte: { p50: number; p99: number } };
}

/** Scenario 4: one stream at a time; first and last body byte, through the gateway vs direct. */
export async function runStreaming(context: BenchContext): Promise<StreamingResult> {
  const routes = chatRoutes(context.fake.url, context.gateway.url, true);
  const count = context.durations.streams;
  const minEvents = STREAM_CHUNKS;
  const direct = await context.load.run({ kind: 'streams', target: routes.direct, count, minEvents });
  const gateway = await context.load.run({ kind: 'streams', target: routes.openAi, count, minEvents });
  return {
    streams: count,
    chunks: STREAM_CHUNKS,
    intervalMs: STREAM_INTERVAL_MS,
    direct: { firstByte: direct.firstByte, lastByte: direct.lastByte },
    gateway: { firstByte: gateway.firstByte, lastByte: gateway.lastByte },
    failed: direct.failed + gateway.failed,
    addedMs: {
      firstByte: added(gateway.firstByte, direct.firstByte),
      lastByte: added(gateway.lastByte, direct.lastByte),
    },
  };
}
