import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUICK } from '../../bench/context.js';
import type { BenchResults } from '../../bench/report.js';
import { runBench } from '../../bench/run.js';
import { DEFAULT_RELOAD_DEBOUNCE_MS } from '../../src/config/watch.js';

// Runs the whole harness once with --quick durations against dist/ (built by globalSetup).
// Nothing here is timed: it proves that every scenario runs and that the results have their
// shape, not how fast the gateway is.

const summary = {
  count: expect.any(Number),
  p50: expect.any(Number),
  p90: expect.any(Number),
  p99: expect.any(Number),
  mean: expect.any(Number),
  max: expect.any(Number),
};

let directory: string;
let results: BenchResults;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'llmgw-bench-smoke-'));
  results = await runBench({
    quick: true,
    build: false,
    logLevel: 'warn',
    resultsPath: join(directory, 'latest.json'),
  });
}, 60_000);

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe('npm run bench -- --quick', () => {
  it('writes the results it returns to the results file', async () => {
    const written: unknown = JSON.parse(await readFile(join(directory, 'latest.json'), 'utf8'));
    expect(written).toEqual(results);
  });

  it('records the machine the run was measured on', () => {
    expect(results.machine).toEqual({
      cores: expect.any(Number),
      cpuModel: expect.any(String),
      node: process.version,
      platform: expect.any(String),
      totalMemoryMb: expect.any(Number),
      loadAverage: { atStart: expect.any(Number), atEnd: expect.any(Number) },
    });
    expect(results.quick).toBe(true);
    expect(results.logLevel).toBe('warn');
  });

  it('measures serial latency on both gateway routes against direct, without failures', () => {
    const { serial } = results.scenarios;
    expect(serial).toEqual({
      direct: summary,
      openAi: summary,
      invocations: summary,
      failed: 0,
      addedMs: {
        openAi: { p50: expect.any(Number), p99: expect.any(Number) },
        invocations: { p50: expect.any(Number), p99: expect.any(Number) },
      },
    });
    expect([serial.direct.count, serial.openAi.count, serial.invocations.count].every((n) => n > 0)).toBe(
      true,
    );
  });

  it('sends every request of the fixed offered load and none fails', () => {
    const { fixedRate } = results.scenarios;
    expect(fixedRate).toEqual({
      ratePerSecond: QUICK.fixedRatePerSecond,
      seconds: QUICK.fixedRateSeconds,
      direct: summary,
      gateway: summary,
      failed: 0,
      addedMs: { p50: expect.any(Number), p99: expect.any(Number) },
    });
    const expected = QUICK.fixedRatePerSecond * QUICK.fixedRateSeconds;
    expect([fixedRate.direct.count, fixedRate.gateway.count]).toEqual([expected, expected]);
  });

  it('measures throughput through the gateway and direct, without failures', () => {
    const { throughput } = results.scenarios;
    expect(throughput).toEqual({
      connections: QUICK.throughputConnections,
      seconds: QUICK.throughputSeconds,
      directPerSecond: expect.any(Number),
      gatewayPerSecond: expect.any(Number),
      failed: 0,
      gatewayCpuMicrosPerRequest: expect.any(Number),
      ratio: expect.any(Number),
    });
    expect(throughput.gatewayPerSecond).toBeGreaterThan(0);
  });

  it('times complete streams through the gateway and direct', () => {
    const { streaming } = results.scenarios;
    expect(streaming).toEqual({
      streams: QUICK.streams,
      chunks: 20,
      intervalMs: 5,
      direct: { firstByte: summary, lastByte: summary },
      gateway: { firstByte: summary, lastByte: summary },
      failed: 0,
      addedMs: {
        firstByte: { p50: expect.any(Number), p99: expect.any(Number) },
        lastByte: { p50: expect.any(Number), p99: expect.any(Number) },
      },
    });
  });

  it('reads the gateway RSS after the small and the large request counts', () => {
    const { memory } = results.scenarios;
    expect(memory).toEqual({
      smallRequests: QUICK.memorySmallRequests,
      largeRequests: QUICK.memoryLargeRequests,
      rssAfterSmallMb: expect.any(Number),
      rssAfterLargeMb: expect.any(Number),
      growthPercent: expect.any(Number),
      peakRssMb: expect.any(Number),
      failed: 0,
    });
    expect(memory.peakRssMb).toBeGreaterThanOrEqual(memory.rssAfterSmallMb);
  });

  it('reloads the config, under load too, without a failed request', () => {
    const { reload } = results.scenarios;
    expect(reload).toEqual({
      status: 'ok',
      endpoints: QUICK.reloadEndpoints,
      firstReloadMs: expect.any(Number),
      debounceMs: DEFAULT_RELOAD_DEBOUNCE_MS,
      reloads: QUICK.reloads,
      underLoadMs: { p50: expect.any(Number), max: expect.any(Number) },
      missed: 0,
      requests: expect.any(Number),
      failed: 0,
    });
    if (reload.status !== 'ok') return;
    // Each figure is a measured time: the watcher's debounce is part of every reload.
    expect(reload.firstReloadMs).toBeGreaterThanOrEqual(DEFAULT_RELOAD_DEBOUNCE_MS);
    expect(reload.underLoadMs.p50).toBeGreaterThanOrEqual(DEFAULT_RELOAD_DEBOUNCE_MS);
    expect(reload.underLoadMs.max).toBeGreaterThanOrEqual(reload.underLoadMs.p50);
    expect(reload.requests).toBeGreaterThan(0);
  });

  it('checks every target of the issue against the run', () => {
    expect(results.targets.map((check) => check.target)).toEqual([
      '< 0.25 ms',
      '< 1 ms',
      '< 2 ms',
      '< 1 ms',
      '>= 0.35',
      '< 100 MB',
      '< 10 %',
      '< 100 ms',
      '= 0',
    ]);
  });
});
