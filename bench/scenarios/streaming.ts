import type { BenchContext } from '../context.js';
import { STREAM_CHUNKS, STREAM_INTERVAL_MS } from '../fake-upstream.js';
import type { Target } from '../load-generator.js';
import { chatRoutes, viaBareProxy } from '../requests.js';
import { added, type LatencySummary } from '../stats.js';

type Added = { p50: number; p99: number };
type Bytes = { firstByte: LatencySummary; lastByte: LatencySummary };
type AddedBytes = { firstByte: Added; lastByte: Added };

export interface StreamingResult {
  streams: number;
  chunks: number;
  intervalMs: number;
  direct: Bytes;
  bare: Bytes;
  gateway: Bytes;
  failed: number;
  /** Each path minus direct. */
  addedMs: { bare: AddedBytes; gateway: AddedBytes };
  /** The gateway (/v1/chat/completions) minus the bare proxy. */
  overBareMs: AddedBytes;
}

/** Scenario 4: one stream at a time; first and last body byte, direct, bare and through the gateway. */
export async function runStreaming(context: BenchContext): Promise<StreamingResult> {
  const routes = chatRoutes(context.fake.url, context.gateway.url, true);
  const count = context.durations.streams;
  const minEvents = STREAM_CHUNKS;
  let failed = 0;
  const measure = async (target: Target): Promise<Bytes> => {
    const result = await context.load.run({ kind: 'streams', target, count, minEvents });
    failed += result.failed;
    return { firstByte: result.firstByte, lastByte: result.lastByte };
  };
  const direct = await measure(routes.direct);
  const bare = await measure(viaBareProxy(routes.direct, context.bare.url));
  const gateway = await measure(routes.openAi);
  const versus = (path: Bytes, base: Bytes): AddedBytes => ({
    firstByte: added(path.firstByte, base.firstByte),
    lastByte: added(path.lastByte, base.lastByte),
  });
  return {
    streams: count,
    chunks: STREAM_CHUNKS,
    intervalMs: STREAM_INTERVAL_MS,
    direct,
    bare,
    gateway,
    failed,
    addedMs: { bare: versus(bare, direct), gateway: versus(gateway, direct) },
    overBareMs: versus(gateway, bare),
  };
}
