import { arch, cpus, loadavg, platform, totalmem } from 'node:os';
import { ENDPOINT_NAME } from './requests.js';
import type { FixedRateResult } from './scenarios/fixed-rate.js';
import type { IdleResult } from './scenarios/idle.js';
import type { MemoryResult } from './scenarios/memory.js';
import type { ReloadResult } from './scenarios/reload.js';
import type { SerialResult } from './scenarios/serial.js';
import type { StreamingResult } from './scenarios/streaming.js';
import type { ThroughputResult } from './scenarios/throughput.js';

export interface Machine {
  cores: number;
  cpuModel: string;
  node: string;
  platform: string;
  totalMemoryMb: number;
  /**
   * One-minute load average when the run started and ended: above the core count, other
   * processes competed for the CPU and the latency tails and requests/s are pessimistic.
   */
  loadAverage: { atStart: number; atEnd: number };
}

export interface Scenarios {
  idle: IdleResult;
  serial: SerialResult;
  fixedRate: FixedRateResult;
  throughput: ThroughputResult;
  streaming: StreamingResult;
  memory: MemoryResult;
  reload: ReloadResult;
}

/**
 * A target of issue 22, checked against this run. `pass` is null when it could not be
 * measured, and `reason` then says why.
 */
export interface TargetCheck {
  name: string;
  target: string;
  value: number | null;
  pass: boolean | null;
  reason: string | null;
}

export interface BenchResults {
  startedAt: string;
  quick: boolean;
  logLevel: string;
  machine: Machine;
  scenarios: Scenarios;
  targets: TargetCheck[];
}

export function loadAverage(): number {
  return Math.round((loadavg()[0] ?? 0) * 100) / 100;
}

export function machine(loadAtStart: number): Machine {
  const cpuList = cpus();
  return {
    cores: cpuList.length,
    cpuModel: cpuList[0]?.model.trim() ?? 'unknown',
    node: process.version,
    platform: `${platform()} ${arch()}`,
    totalMemoryMb: Math.round(totalmem() / 1024 / 1024),
    loadAverage: { atStart: loadAtStart, atEnd: loadAverage() },
  };
}

/** Requests that failed in each scenario; any failure makes the run's figures suspect. */
export function failures(scenarios: Scenarios): string[] {
  const counts: [string, number][] = [
    ['serial', scenarios.serial.failed],
    ['fixed rate', scenarios.fixedRate.failed],
    ['throughput', scenarios.throughput.failed],
    ['streaming', scenarios.streaming.failed],
    ['memory', scenarios.memory.failed],
  ];
  return counts.filter(([, count]) => count > 0).map(([name, count]) => `${name}: ${count} failed requests`);
}

const ROUTE_LABELS = {
  openAi: '/v1/chat/completions',
  invocations: `/endpoints/${ENDPOINT_NAME}/invocations`,
} as const;
type Route = keyof typeof ROUTE_LABELS;
const ROUTES = Object.keys(ROUTE_LABELS) as Route[];

/** Issue 22's limits. */
const LIMITS = {
  cpuPerRequestVsBare: 1.3,
  throughputVsBare: 0.8,
  serialP50OverBareMs: 0.1,
  streamFirstByteOverBareMs: 0.3,
  peakRssMb: 120,
  idleRssMb: 65,
  rssGrowthPercent: 10,
  reloadMs: 100,
} as const;

function check(
  name: string,
  target: string,
  value: number | null,
  holds: (value: number) => boolean,
  reasonWhenNull = 'not measured',
): TargetCheck {
  return value === null
    ? { name, target, value, pass: null, reason: reasonWhenNull }
    : { name, target, value, pass: holds(value), reason: null };
}

/** VmHWM/VmRSS come from Linux's /proc; elsewhere they read 0. */
const NO_PROC = 'no /proc memory figures on this platform';
const positive = (value: number): number | null => (value > 0 ? value : null);

const TARGET_NAMES = {
  cpu: (route: Route) => `CPU per request ${ROUTE_LABELS[route]} vs bare`,
  throughput: (route: Route) => `throughput ${ROUTE_LABELS[route]} vs bare`,
  serial: (route: Route) => `serial p50 ${ROUTE_LABELS[route]} minus bare`,
  firstByte: 'stream first byte p50 minus bare',
  peakRss: 'peak RSS under load',
  idleRss: 'idle RSS',
  growth: 'RSS growth',
  firstReload: 'reload, first (no load)',
  reloadUnderLoad: 'reload under load, p50',
  reloadFailures: 'failed requests across reloads',
} as const;

export function checkTargets(scenarios: Scenarios): TargetCheck[] {
  const { idle, serial, throughput, streaming, memory, reload } = scenarios;
  const reloaded = reload.status === 'ok' ? reload : null;
  const notReloaded = reload.status === 'ok' ? '' : reload.reason;
  const failedAcrossReloads = reloaded ? reloaded.failed + reloaded.missed : null;
  const noBareCpu = 'the bare proxy used no measurable CPU (/proc ticks are 10 ms)';
  const noBareThroughput = 'the bare proxy answered no request';
  return [
    ...ROUTES.map((route) =>
      check(
        TARGET_NAMES.cpu(route),
        `<= ${LIMITS.cpuPerRequestVsBare}x`,
        throughput.vsBare[route].cpuPerRequest,
        (value) => value <= LIMITS.cpuPerRequestVsBare,
        noBareCpu,
      ),
    ),
    ...ROUTES.map((route) =>
      check(
        TARGET_NAMES.throughput(route),
        `>= ${LIMITS.throughputVsBare}x`,
        throughput.vsBare[route].requestsPerSecond,
        (value) => value >= LIMITS.throughputVsBare,
        noBareThroughput,
      ),
    ),
    ...ROUTES.map((route) =>
      check(
        TARGET_NAMES.serial(route),
        `<= ${LIMITS.serialP50OverBareMs} ms`,
        serial.overBareMs[route].p50,
        (value) => value <= LIMITS.serialP50OverBareMs,
      ),
    ),
    check(
      TARGET_NAMES.firstByte,
      `<= ${LIMITS.streamFirstByteOverBareMs} ms`,
      streaming.overBareMs.firstByte.p50,
      (value) => value <= LIMITS.streamFirstByteOverBareMs,
    ),
    check(
      TARGET_NAMES.peakRss,
      `< ${LIMITS.peakRssMb} MB`,
      positive(memory.gateway.peakRssMb),
      (value) => value < LIMITS.peakRssMb,
      NO_PROC,
    ),
    check(
      TARGET_NAMES.idleRss,
      `< ${LIMITS.idleRssMb} MB`,
      positive(idle.gatewayRssMb),
      (value) => value < LIMITS.idleRssMb,
      NO_PROC,
    ),
    check(
      TARGET_NAMES.growth,
      `<= ${LIMITS.rssGrowthPercent} %`,
      memory.gateway.rssAfterSmallMb > 0 ? memory.gateway.growthPercent : null,
      (value) => value <= LIMITS.rssGrowthPercent,
      NO_PROC,
    ),
    check(
      TARGET_NAMES.firstReload,
      `< ${LIMITS.reloadMs} ms`,
      reloaded?.firstReloadMs ?? null,
      (value) => value < LIMITS.reloadMs,
      notReloaded,
    ),
    check(
      TARGET_NAMES.reloadUnderLoad,
      `< ${LIMITS.reloadMs} ms`,
      reloaded?.underLoadMs.p50 ?? null,
      (value) => value < LIMITS.reloadMs,
      notReloaded,
    ),
    check(TARGET_NAMES.reloadFailures, '= 0', failedAcrossReloads, (value) => value === 0, notReloaded),
  ];
}

/** One line of the report: a figure for each path, llmgw against the bare proxy, its target. */
interface Row {
  figure: string;
  direct: string;
  bare: string;
  llmgw: string;
  vsBare: string;
  /** The name of the TargetCheck this figure is checked by. */
  check?: string;
}

const ms = (value: number): string => value.toFixed(3);
const mb = (value: number): string => value.toFixed(1);
const signed = (value: number): string => `${value >= 0 ? '+' : ''}${value.toFixed(3)}`;
const times = (value: number | null): string => (value === null ? '-' : `x${value.toFixed(2)}`);

function serialRows({ serial }: Scenarios): Row[] {
  return ROUTES.flatMap((route) =>
    (['p50', 'p99'] as const).map((percentile): Row => ({
      figure: `1 serial ${ROUTE_LABELS[route]} ${percentile} ms`,
      direct: ms(serial.direct[percentile]),
      bare: ms(serial.bare[percentile]),
      llmgw: ms(serial[route][percentile]),
      vsBare: signed(serial.overBareMs[route][percentile]),
      ...(percentile === 'p50' ? { check: TARGET_NAMES.serial(route) } : {}),
    })),
  );
}

function fixedRateRows({ fixedRate }: Scenarios): Row[] {
  return (['p50', 'p99'] as const).map((percentile) => ({
    figure: `2 ${fixedRate.ratePerSecond} req/s ${ROUTE_LABELS.openAi} ${percentile} ms`,
    direct: ms(fixedRate.direct[percentile]),
    bare: ms(fixedRate.bare[percentile]),
    llmgw: ms(fixedRate.gateway[percentile]),
    vsBare: signed(fixedRate.overBareMs[percentile]),
  }));
}

function streamingRows({ streaming }: Scenarios): Row[] {
  return (['firstByte', 'lastByte'] as const).map((edge) => ({
    figure: `4 stream ${edge === 'firstByte' ? 'first' : 'last'} byte p50 ms`,
    direct: ms(streaming.direct[edge].p50),
    bare: ms(streaming.bare[edge].p50),
    llmgw: ms(streaming.gateway[edge].p50),
    vsBare: signed(streaming.overBareMs[edge].p50),
    ...(edge === 'firstByte' ? { check: TARGET_NAMES.firstByte } : {}),
  }));
}

function throughputRows({ throughput }: Scenarios): Row[] {
  return ROUTES.flatMap((route): Row[] => [
    {
      figure: `3 ${throughput.connections} conn ${ROUTE_LABELS[route]} req/s`,
      direct: String(throughput.direct.requestsPerSecond),
      bare: String(throughput.bare.requestsPerSecond),
      llmgw: String(throughput[route].requestsPerSecond),
      vsBare: times(throughput.vsBare[route].requestsPerSecond),
      check: TARGET_NAMES.throughput(route),
    },
    {
      figure: `3 CPU µs/request ${ROUTE_LABELS[route]} (direct: the fake's)`,
      direct: String(throughput.direct.cpuMicrosPerRequest),
      bare: String(throughput.bare.cpuMicrosPerRequest),
      llmgw: String(throughput[route].cpuMicrosPerRequest),
      vsBare: times(throughput.vsBare[route].cpuPerRequest),
      check: TARGET_NAMES.cpu(route),
    },
  ]);
}

function idleRows({ idle }: Scenarios): Row[] {
  return [
    {
      figure: '0 idle RSS MB',
      direct: '',
      bare: mb(idle.bareRssMb),
      llmgw: mb(idle.gatewayRssMb),
      vsBare: times(idle.vsBare),
      check: TARGET_NAMES.idleRss,
    },
  ];
}

function memoryRows({ memory }: Scenarios): Row[] {
  const { gateway, bare } = memory;
  return [
    {
      figure: `5 peak RSS at ${memory.connections} conn MB`,
      direct: '',
      bare: mb(bare.peakRssMb),
      llmgw: mb(gateway.peakRssMb),
      vsBare: times(memory.peakVsBare),
      check: TARGET_NAMES.peakRss,
    },
    {
      figure: `5 RSS after ${memory.smallRequests} / ${memory.largeRequests} req MB`,
      direct: '',
      bare: `${mb(bare.rssAfterSmallMb)} / ${mb(bare.rssAfterLargeMb)}`,
      llmgw: `${mb(gateway.rssAfterSmallMb)} / ${mb(gateway.rssAfterLargeMb)}`,
      vsBare: '',
    },
    {
      figure: `5 RSS growth ${memory.smallRequests} -> ${memory.largeRequests} req %`,
      direct: '',
      bare: mb(bare.growthPercent),
      llmgw: mb(gateway.growthPercent),
      vsBare: '',
      check: TARGET_NAMES.growth,
    },
  ];
}

function reloadRows({ reload }: Scenarios): Row[] {
  const only = (figure: string, llmgw: string, check?: string): Row => ({
    figure,
    direct: '',
    bare: '',
    llmgw,
    vsBare: '',
    ...(check ? { check } : {}),
  });
  if (reload.status !== 'ok') return [only(`6 reload ${reload.endpoints} endpoints`, 'not available')];
  return [
    only(`6 reload ${reload.endpoints} endpoints ms`, ms(reload.firstReloadMs), TARGET_NAMES.firstReload),
    only('6   of which the watcher debounce ms', ms(reload.debounceMs)),
    only(
      `6 ${reload.reloads} reloads under load p50 ms`,
      ms(reload.underLoadMs.p50),
      TARGET_NAMES.reloadUnderLoad,
    ),
    only(`6 ${reload.reloads} reloads under load max ms`, ms(reload.underLoadMs.max)),
    only(
      '6 failed / requests during reloads',
      `${reload.failed + reload.missed} / ${reload.requests}`,
      TARGET_NAMES.reloadFailures,
    ),
  ];
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, column) =>
        column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0),
      )
      .join('  ');
  return [line(header), ...rows.map(line)].join('\n');
}

const verdict = (check: TargetCheck | undefined): string =>
  check === undefined ? '' : check.pass === null ? 'n/a' : check.pass ? 'yes' : 'NO';

/**
 * The compact stdout report: every figure for direct, the bare proxy and llmgw, llmgw against
 * the bare proxy (a ratio, or a difference for times), and the target it answers to.
 */
export function formatReport(results: BenchResults): string {
  const { machine: facts, scenarios } = results;
  const checks = new Map(results.targets.map((check) => [check.name, check]));
  const sections = [
    idleRows,
    serialRows,
    fixedRateRows,
    throughputRows,
    streamingRows,
    memoryRows,
    reloadRows,
  ];
  const rows = sections
    .flatMap((section) => section(scenarios))
    .map((row) => {
      const check = row.check === undefined ? undefined : checks.get(row.check);
      return [row.figure, row.direct, row.bare, row.llmgw, row.vsBare, check?.target ?? '', verdict(check)];
    });
  const unmeasured = results.targets
    .filter((check) => check.pass === null)
    .map((check) => `n/a ${check.name}: ${check.reason ?? ''}`);
  return [
    `llmgw bench${results.quick ? ' (--quick: figures are not meaningful)' : ''}: ${facts.cores} cores ${facts.cpuModel}, Node ${facts.node}, ${facts.platform}, gateway log level ${results.logLevel}, load average ${facts.loadAverage.atStart} -> ${facts.loadAverage.atEnd}`,
    '',
    table(['figure', 'direct', 'bare', 'llmgw', 'llmgw vs bare', 'target', 'met'], rows),
    '',
    ...failures(scenarios).map(
      (line) => `WARNING ${line}; at --log-level warn the gateway echoes its first warnings`,
    ),
    ...unmeasured,
    `targets met: ${results.targets.filter((check) => check.pass === true).length} of ${results.targets.length}`,
  ].join('\n');
}
