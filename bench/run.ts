// `npm run bench`: the gateway's cost against direct calls to the same fake upstream and against
// a bare forwarding proxy (bench/bare-proxy.ts, the floor), all measured in one run. Flags:
// --quick (tiny durations), --no-build (use dist/ as it is), --log-level <level> (the
// gateway's, default info: the default a user runs with, one access line per request),
// --profile (/v1/chat/completions at full load only, under `node --cpu-prof`, then the hottest
// functions), --metrics-cost (CPU per request with Prometheus metrics on vs off, alone),
// --bedrock-cost (start time and RSS with and without a Bedrock endpoint, alone).
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { FULL, QUICK, type BenchContext } from './context.js';
import {
  buildGateway,
  prepareBareProxy,
  ROOT,
  startBareProxy,
  startFake,
  startGateway,
  startLoadGenerator,
  type Stoppable,
} from './processes.js';
import { hotspots, monotonicMicros } from './profile.js';
import { checkTargets, formatReport, loadAverage, machine, type BenchResults } from './report.js';
import { chatRoutes, gatewayConfig, viaBareProxy } from './requests.js';
import { runFixedRate } from './scenarios/fixed-rate.js';
import { runIdle } from './scenarios/idle.js';
import { runMemory } from './scenarios/memory.js';
import { runBedrockCost } from './scenarios/bedrock-cost.js';
import { runMetricsCost } from './scenarios/metrics-cost.js';
import { runReload } from './scenarios/reload.js';
import { runSerial } from './scenarios/serial.js';
import { runStreaming } from './scenarios/streaming.js';
import { runThroughput } from './scenarios/throughput.js';

export const DEFAULT_RESULTS_PATH = join(ROOT, 'bench', 'results', 'latest.json');
const PROFILE_DIR = join(ROOT, 'bench', 'results', 'profiles');

export interface BenchOptions {
  quick: boolean;
  build: boolean;
  /** LLMGW_LOG_LEVEL for the gateway: info by default, as a user runs it. */
  logLevel: string;
  resultsPath: string;
  /** Progress lines, so a long run shows where it is. */
  progress?: (line: string) => void;
}

/** Starts the processes, hands a context to `body`, and stops everything whatever happens. */
async function withContext<T>(
  options: BenchOptions & { cpuProfileDir?: string },
  body: (context: BenchContext) => Promise<T>,
): Promise<T> {
  if (options.build) buildGateway();
  const running: Stoppable[] = [];
  const workDir = await mkdtemp(join(tmpdir(), 'llmgw-bench-'));
  try {
    const bareScript = await prepareBareProxy();
    const fake = await startFake();
    running.push(fake);
    const load = await startLoadGenerator();
    running.push(load);
    const start = (configPath: string, cpuProfileDir?: string) =>
      startGateway({ configPath, logLevel: options.logLevel, ...(cpuProfileDir ? { cpuProfileDir } : {}) });
    const configPath = join(workDir, 'shared.yaml');
    await writeFile(configPath, gatewayConfig(fake.url));
    const gateway = await start(configPath, options.cpuProfileDir);
    running.push(gateway);
    const bare = await startBareProxy(bareScript, fake.url);
    running.push(bare);
    const durations = options.quick ? QUICK : FULL;
    return await body({
      durations,
      fake,
      gateway,
      bare,
      load,
      workDir,
      logLevel: options.logLevel,
      startGateway: (path) => start(path),
      startBareProxy: () => startBareProxy(bareScript, fake.url),
    });
  } finally {
    for (const process of running.reverse()) await process.stop();
    await rm(workDir, { recursive: true, force: true });
  }
}

/** One request per route, so a broken build fails the run at once instead of measuring errors. */
async function preflight(context: BenchContext): Promise<void> {
  const routes = chatRoutes(context.fake.url, context.gateway.url);
  const bare = viaBareProxy(routes.direct, context.bare.url);
  for (const target of [routes.direct, bare, routes.openAi, routes.invocations]) {
    const response = await fetch(`${target.origin}${target.path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: target.body,
    });
    const text = await response.text();
    if (response.status !== 200) {
      throw new Error(`POST ${target.path} answered ${response.status}: ${text.slice(0, 500)}`);
    }
  }
}

/** JIT-compiles every path, the bare proxy's as much as the gateway's, before anything is measured. */
async function warmUp(context: BenchContext): Promise<void> {
  const routes = chatRoutes(context.fake.url, context.gateway.url);
  const streams = chatRoutes(context.fake.url, context.gateway.url, true);
  const seconds = context.durations.warmupSecondsPerTarget;
  const connections = context.durations.throughputConnections;
  const bare = viaBareProxy(routes.direct, context.bare.url);
  for (const target of [routes.direct, bare, routes.openAi, routes.invocations]) {
    await context.load.run({ kind: 'closed-loop', target, connections, seconds });
  }
  // The stream path's per-request code (the adapter's stream call, the SSE reader and writer)
  // runs once per stream, not once per request of the closed loops above: a few streams would
  // leave it in V8's interpreter and measure cold code. A few hundred, many at a time, compile it
  // as the unary path is compiled.
  const { streamWarmupTasks: tasks, streamWarmupPerTask: count } = context.durations;
  for (const target of [viaBareProxy(streams.direct, context.bare.url), streams.openAi]) {
    await Promise.all(
      Array.from({ length: tasks }, () => context.load.run({ kind: 'streams', target, count, minEvents: 0 })),
    );
  }
}

export async function runBench(options: BenchOptions): Promise<BenchResults> {
  const progress = options.progress ?? (() => undefined);
  const startedAt = new Date().toISOString();
  const loadAtStart = loadAverage();
  const scenarios = await withContext(options, async (context) => {
    // Before any request, so the gateway has served nothing but /health.
    progress('0 idle memory');
    const idle = await runIdle(context);
    await preflight(context);
    progress('warming up');
    await warmUp(context);
    progress('1 serial latency');
    const serial = await runSerial(context);
    progress('2 fixed offered load');
    const fixedRate = await runFixedRate(context);
    progress('3 maximum throughput');
    const throughput = await runThroughput(context);
    progress('4 streaming');
    const streaming = await runStreaming(context);
    progress('5 memory');
    const memory = await runMemory(context);
    progress('6 hot reload');
    const reload = await runReload(context);
    return { idle, serial, fixedRate, throughput, streaming, memory, reload };
  });
  const results: BenchResults = {
    startedAt,
    quick: options.quick,
    logLevel: options.logLevel,
    machine: machine(loadAtStart),
    scenarios,
    targets: checkTargets(scenarios),
  };
  await mkdir(dirname(options.resultsPath), { recursive: true });
  await writeFile(options.resultsPath, `${JSON.stringify(results, null, 2)}\n`);
  return results;
}

/**
 * `--profile`: a gateway under `--cpu-prof`, warmed up, then scenario 3's load on
 * /v1/chat/completions alone; prints its throughput and the hottest functions of the samples
 * taken during that load only (not the start, the warm-up or the idle time).
 */
async function profile(options: BenchOptions): Promise<void> {
  await mkdir(PROFILE_DIR, { recursive: true });
  const measured = await withContext({ ...options, cpuProfileDir: PROFILE_DIR }, async (context) => {
    await preflight(context);
    await warmUp(context);
    const target = chatRoutes(context.fake.url, context.gateway.url).openAi;
    const { throughputConnections: connections, throughputSeconds: seconds } = context.durations;
    const cpuBefore = context.gateway.cpuSeconds();
    const startMicros = monotonicMicros();
    const result = await context.load.run({ kind: 'closed-loop', target, connections, seconds });
    const endMicros = monotonicMicros();
    const cpuSeconds = context.gateway.cpuSeconds() - cpuBefore;
    return {
      window: { startMicros, endMicros },
      figures: {
        route: target.path,
        connections,
        seconds,
        requestsPerSecond: result.requestsPerSecond,
        cpuMicrosPerRequest: Math.round((cpuSeconds * 1e6) / Math.max(1, result.ok + result.failed)),
        failed: result.failed,
      },
    };
  });
  process.stdout.write(`${JSON.stringify(measured.figures)}\n`);
  for (const spot of await hotspots(PROFILE_DIR, measured.window)) {
    process.stdout.write(`${spot.selfPercent.toFixed(1).padStart(5)}%  ${spot.function}  ${spot.location}\n`);
  }
}

/** `--metrics-cost`: prints and saves the metrics on/off comparison. */
async function metricsCost(options: BenchOptions): Promise<void> {
  const result = await withContext(options, async (context) => {
    await preflight(context);
    return runMetricsCost(context);
  });
  const path = join(dirname(options.resultsPath), 'metrics-cost.json');
  await mkdir(dirname(path), { recursive: true });
  await writeFile(
    path,
    `${JSON.stringify({ startedAt: new Date().toISOString(), quick: options.quick, result }, null, 2)}\n`,
  );
  process.stdout.write(
    `metrics cost: gateway CPU per request ${result.offCpuMicrosPerRequest} µs with metrics off, ${result.onCpuMicrosPerRequest} µs on (difference ${result.addedCpuMicrosPerRequest} µs, ${result.addedPercent}%), median of ${result.rounds} alternating rounds of ${result.requestsPerRound}; ${result.failed} failed\n` +
      `metrics recording alone (in process): ${result.recordingNanosPerRequest.off} ns per request off, ${result.recordingNanosPerRequest.on} ns on (+${result.recordingNanosPerRequest.added} ns)\n`,
  );
}

/** `--bedrock-cost`: start time and RSS with and without a Bedrock endpoint (the AWS SDK). */
async function bedrockCost(options: BenchOptions): Promise<void> {
  const result = await withContext(options, (context) => runBedrockCost(context));
  const path = join(dirname(options.resultsPath), 'bedrock-cost.json');
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${JSON.stringify({ startedAt: new Date().toISOString(), result }, null, 2)}\n`);
  process.stdout.write(
    `bedrock cost: start ${result.startMs.without} ms without a Bedrock endpoint, ${result.startMs.with} ms with (+${result.startMs.added} ms); ` +
      `RSS ${result.rssMb.without} MB without, ${result.rssMb.with} MB with (+${result.rssMb.added} MB); median of ${result.rounds} rounds\n`,
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      'no-build': { type: 'boolean', default: false },
      'log-level': { type: 'string', default: 'info' },
      profile: { type: 'boolean', default: false },
      'metrics-cost': { type: 'boolean', default: false },
      'bedrock-cost': { type: 'boolean', default: false },
    },
  });
  const options: BenchOptions = {
    quick: values.quick,
    build: !values['no-build'],
    logLevel: values['log-level'],
    resultsPath: DEFAULT_RESULTS_PATH,
    progress: (line) => process.stderr.write(`bench: ${line}\n`),
  };
  if (values.profile) await profile(options);
  else if (values['metrics-cost']) await metricsCost(options);
  else if (values['bedrock-cost']) await bedrockCost(options);
  else process.stdout.write(`${formatReport(await runBench(options))}\n`);
}
