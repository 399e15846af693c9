import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUICK } from '../../bench/context.js';
import { formatReport, type BenchResults } from '../../bench/report.js';
import { runBench } from '../../bench/run.js';
import { round } from '../../bench/stats.js';
import { DEFAULT_RELOAD_DEBOUNCE_MS } from '../../src/config/watch.js';

// Runs the whole harness once with --quick durations against dist/ (built by globalSetup), at
// the default log level, so the orchestrator drains an access line per request as it will.
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
    logLevel: 'info',
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
    expect(results.logLevel).toBe('info');
  });

  it('reads the idle RSS of the fresh gateway and of the bare proxy', () => {
    const { idle } = results.scenarios;
    expect(idle).toEqual({
      settleMs: QUICK.idleSettleMs,
      reads: 5,
      gatewayRssMb: expect.any(Number),
      bareRssMb: expect.any(Number),
      vsBare: round(idle.gatewayRssMb / idle.bareRssMb),
    });
    expect([idle.gatewayRssMb, idle.bareRssMb].every((mb) => mb > 0)).toBe(true);
  });

  it('measures serial latency direct, through the bare proxy and both gateway routes, without failures', () => {
    const { serial } = results.scenarios;
    expect(serial).toEqual({
      seconds: QUICK.serialSeconds,
      direct: summary,
      bare: summary,
      openAi: summary,
      invocations: summary,
      failed: 0,
      addedMs: {
        bare: {
          p50: round(serial.bare.p50 - serial.direct.p50),
          p99: round(serial.bare.p99 - serial.direct.p99),
        },
        openAi: {
          p50: round(serial.openAi.p50 - serial.direct.p50),
          p99: round(serial.openAi.p99 - serial.direct.p99),
        },
        invocations: {
          p50: round(serial.invocations.p50 - serial.direct.p50),
          p99: round(serial.invocations.p99 - serial.direct.p99),
        },
      },
      overBareMs: {
        openAi: {
          p50: round(serial.openAi.p50 - serial.bare.p50),
          p99: round(serial.openAi.p99 - serial.bare.p99),
        },
        invocations: {
          p50: round(serial.invocations.p50 - serial.bare.p50),
          p99: round(serial.invocations.p99 - serial.bare.p99),
        },
      },
    });
    const counts = [serial.direct, serial.bare, serial.openAi, serial.invocations].map((path) => path.count);
    expect(counts.every((count) => count > 0)).toBe(true);
  });

  it('sends every request of the fixed offered load on each path and none fails', () => {
    const { fixedRate } = results.scenarios;
    expect(fixedRate).toEqual({
      ratePerSecond: QUICK.fixedRatePerSecond,
      seconds: QUICK.fixedRateSeconds,
      direct: summary,
      bare: summary,
      gateway: summary,
      failed: 0,
      addedMs: {
        bare: { p50: expect.any(Number), p99: expect.any(Number) },
        gateway: { p50: expect.any(Number), p99: expect.any(Number) },
      },
      overBareMs: {
        p50: round(fixedRate.gateway.p50 - fixedRate.bare.p50),
        p99: round(fixedRate.gateway.p99 - fixedRate.bare.p99),
      },
    });
    const expected = QUICK.fixedRatePerSecond * QUICK.fixedRateSeconds;
    expect([fixedRate.direct.count, fixedRate.bare.count, fixedRate.gateway.count]).toEqual([
      expected,
      expected,
      expected,
    ]);
  });

  it('measures requests/s and CPU per request on every path, and llmgw as a ratio of the bare proxy', () => {
    const { throughput } = results.scenarios;
    const path = {
      requestsPerSecond: expect.any(Number),
      requests: expect.any(Number),
      failed: 0,
      cpuMicrosPerRequest: expect.any(Number),
    };
    const { direct, bare, openAi, invocations } = throughput;
    expect(throughput).toEqual({
      connections: QUICK.throughputConnections,
      seconds: QUICK.throughputSeconds,
      rounds: QUICK.throughputRounds,
      direct: path,
      bare: path,
      openAi: path,
      invocations: path,
      failed: 0,
      vsDirect: {
        bare: round(bare.requestsPerSecond / direct.requestsPerSecond),
        openAi: round(openAi.requestsPerSecond / direct.requestsPerSecond),
        invocations: round(invocations.requestsPerSecond / direct.requestsPerSecond),
      },
      vsBare: {
        openAi: {
          requestsPerSecond: round(openAi.requestsPerSecond / bare.requestsPerSecond),
          cpuPerRequest: round(openAi.cpuMicrosPerRequest / bare.cpuMicrosPerRequest),
        },
        invocations: {
          requestsPerSecond: round(invocations.requestsPerSecond / bare.requestsPerSecond),
          cpuPerRequest: round(invocations.cpuMicrosPerRequest / bare.cpuMicrosPerRequest),
        },
      },
    });
    const figures = [direct, bare, openAi, invocations].flatMap((figure) => [
      figure.requestsPerSecond,
      figure.requests,
      figure.cpuMicrosPerRequest,
    ]);
    expect(figures.every((figure) => figure > 0)).toBe(true);
  });

  it('times complete streams direct, through the bare proxy and the gateway', () => {
    const { streaming } = results.scenarios;
    const bytes = { firstByte: summary, lastByte: summary };
    const added = {
      firstByte: { p50: expect.any(Number), p99: expect.any(Number) },
      lastByte: { p50: expect.any(Number), p99: expect.any(Number) },
    };
    expect(streaming).toEqual({
      streams: QUICK.streams,
      chunks: 20,
      intervalMs: 5,
      direct: bytes,
      bare: bytes,
      gateway: bytes,
      failed: 0,
      addedMs: { bare: added, gateway: added },
      overBareMs: {
        firstByte: {
          p50: round(streaming.gateway.firstByte.p50 - streaming.bare.firstByte.p50),
          p99: round(streaming.gateway.firstByte.p99 - streaming.bare.firstByte.p99),
        },
        lastByte: {
          p50: round(streaming.gateway.lastByte.p50 - streaming.bare.lastByte.p50),
          p99: round(streaming.gateway.lastByte.p99 - streaming.bare.lastByte.p99),
        },
      },
    });
    expect([streaming.direct, streaming.bare, streaming.gateway].map((path) => path.firstByte.count)).toEqual(
      [QUICK.streams, QUICK.streams, QUICK.streams],
    );
  });

  it('reads the RSS of a fresh gateway and a fresh bare proxy after the small and the large request counts', () => {
    const { memory } = results.scenarios;
    const process = {
      rssAfterSmallMb: expect.any(Number),
      rssAfterLargeMb: expect.any(Number),
      growthPercent: expect.any(Number),
      peakRssMb: expect.any(Number),
    };
    expect(memory).toEqual({
      connections: QUICK.throughputConnections,
      smallRequests: QUICK.memorySmallRequests,
      largeRequests: QUICK.memoryLargeRequests,
      gateway: process,
      bare: process,
      peakVsBare: round(memory.gateway.peakRssMb / memory.bare.peakRssMb),
      failed: 0,
    });
    for (const figures of [memory.gateway, memory.bare]) {
      expect(figures.rssAfterSmallMb).toBeGreaterThan(0);
      expect(figures.peakRssMb).toBeGreaterThanOrEqual(figures.rssAfterSmallMb);
    }
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

  it('checks every target of issue 22, each with a verdict or the reason it has none', () => {
    expect(results.targets.map((check) => [check.name, check.target])).toEqual([
      ['CPU per request /v1/chat/completions vs bare', '<= 1.3x'],
      ['CPU per request /endpoints/chat/invocations vs bare', '<= 1.3x'],
      ['throughput /v1/chat/completions vs bare', '>= 0.8x'],
      ['throughput /endpoints/chat/invocations vs bare', '>= 0.8x'],
      ['serial p50 /v1/chat/completions minus bare', '<= 0.1 ms'],
      ['serial p50 /endpoints/chat/invocations minus bare', '<= 0.1 ms'],
      ['stream first byte p50 minus bare', '<= 0.3 ms'],
      ['peak RSS under load', '< 120 MB'],
      ['idle RSS', '< 65 MB'],
      ['RSS growth', '<= 10 %'],
      ['reload, first (no load)', '< 100 ms'],
      ['reload under load, p50', '< 100 ms'],
      ['failed requests across reloads', '= 0'],
    ]);
    for (const check of results.targets) {
      if (check.pass === null) expect(check.reason).toEqual(expect.stringMatching(/\S/));
      else expect([typeof check.value, check.reason]).toEqual(['number', null]);
    }
    const { throughput, serial, streaming, memory, idle } = results.scenarios;
    expect(results.targets.map((check) => check.value).slice(0, 10)).toEqual([
      throughput.vsBare.openAi.cpuPerRequest,
      throughput.vsBare.invocations.cpuPerRequest,
      throughput.vsBare.openAi.requestsPerSecond,
      throughput.vsBare.invocations.requestsPerSecond,
      serial.overBareMs.openAi.p50,
      serial.overBareMs.invocations.p50,
      streaming.overBareMs.firstByte.p50,
      memory.gateway.peakRssMb,
      idle.gatewayRssMb,
      memory.gateway.growthPercent,
    ]);
  });

  it('reports every target on the row of the figure it checks, with its verdict', () => {
    const report = formatReport(results);
    const header = report.split('\n').find((line) => line.startsWith('figure'));
    expect(header?.split(/\s{2,}/)).toEqual([
      'figure',
      'direct',
      'bare',
      'llmgw',
      'llmgw vs bare',
      'target',
      'met',
    ]);
    const verdicts = report.split('\n').filter((line) => /\s(yes|NO|n\/a)$/.test(line));
    expect(verdicts).toHaveLength(results.targets.length);
  });
});
