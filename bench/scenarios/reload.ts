import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_RELOAD_DEBOUNCE_MS } from '../../src/config/watch.js';
import type { BenchContext } from '../context.js';
import { chatRoutes, gatewayConfig } from '../requests.js';
import { round } from '../stats.js';

export type ReloadResult =
  | { status: 'not available'; endpoints: number; reason: string }
  | {
      status: 'ok';
      endpoints: number;
      /** From writing the file to the first 200 for a new endpoint, without load. */
      firstReloadMs: number;
      /**
       * The watcher's quiet time after the last file event, included in every figure here:
       * `llmgw start` waits this long before it reads the file.
       */
      debounceMs: number;
      reloads: number;
      /** The same, for each reload under load. */
      underLoadMs: { p50: number; max: number };
      /** Reloads whose new endpoint never answered within the timeout. */
      missed: number;
      requests: number;
      failed: number;
    };

const POLL_INTERVAL_MS = 2;

function namesFor(generation: number, count: number): string[] {
  return Array.from({ length: count - 1 }, (_, index) => `g${generation}-e${index}`);
}

/**
 * Scenario 6: rewrite the config the way an editor saves (write a temporary file, rename it
 * over the old one), then poll `GET /api/2.0/endpoints/<new name>` until it answers 200.
 */
export async function runReload(context: BenchContext): Promise<ReloadResult> {
  const configPath = join(context.workDir, 'reload.yaml');
  await writeFile(configPath, gatewayConfig(context.fake.url));
  const gateway = await context.startGateway(configPath);
  const { reloadEndpoints: endpoints, reloads, reloadTimeoutMs } = context.durations;

  const reloadTo = async (generation: number): Promise<number | null> => {
    const names = namesFor(generation, endpoints);
    const text = gatewayConfig(context.fake.url, names);
    const started = performance.now();
    await writeFile(`${configPath}.tmp`, text);
    await rename(`${configPath}.tmp`, configPath);
    const probe = `${gateway.url}/api/2.0/endpoints/${names[names.length - 1] ?? ''}`;
    while (performance.now() - started < reloadTimeoutMs) {
      const status = await fetch(probe).then(
        async (response) => {
          await response.arrayBuffer();
          return response.status;
        },
        () => 0,
      );
      if (status === 200) return round(performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
    }
    return null;
  };

  try {
    const firstReloadMs = await reloadTo(1);
    if (firstReloadMs === null) {
      return {
        status: 'not available',
        endpoints,
        reason: `a rewritten config was not served within ${reloadTimeoutMs} ms`,
      };
    }
    const target = chatRoutes(context.fake.url, gateway.url).invocations;
    const load = context.load.run({ kind: 'closed-loop', target, connections: 10 });
    const times: number[] = [];
    let missed = 0;
    for (let generation = 2; generation < 2 + reloads; generation += 1) {
      const ms = await reloadTo(generation);
      if (ms === null) missed += 1;
      else times.push(ms);
    }
    context.load.interrupt();
    const result = await load;
    times.sort((a, b) => a - b);
    return {
      status: 'ok',
      endpoints,
      firstReloadMs,
      debounceMs: DEFAULT_RELOAD_DEBOUNCE_MS,
      reloads,
      underLoadMs: { p50: times[Math.ceil(times.length / 2) - 1] ?? 0, max: times[times.length - 1] ?? 0 },
      missed,
      requests: result.ok + result.failed,
      failed: result.failed,
    };
  } finally {
    await gateway.stop();
  }
}
