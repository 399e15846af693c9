import { arch, cpus, loadavg, platform, totalmem } from 'node:os';
import type { FixedRateResult } from './scenarios/fixed-rate.js';
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
  serial: SerialResult;
  fixedRate: FixedRateResult;
  throughput: ThroughputResult;
  streaming: StreamingResult;
  memory: MemoryResult;
  reload: ReloadResult;
}

/** A target of issue 9, checked against this run; `pass` is null when it could not be measured. */
export interface TargetCheck {
  name: string;
  target: string;
  value: number | null;
  pass: boolean | null;
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

function below(name: string, value: number | null, limit: number, unit: string): TargetCheck {
  return { name, target: `< ${limit}${unit}`, value, pass: value === null ? null : value < limit };
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

export function checkTargets(scenarios: Scenarios): TargetCheck[] {
  const { serial, fixedRate, throughput, streaming, memory, reload } = scenarios;
  const reloaded = reload.status === 'ok' ? reload : null;
  const serialP50 = Math.max(serial.addedMs.openAi.p50, serial.addedMs.invocations.p50);
  const serialP99 = Math.max(serial.addedMs.openAi.p99, serial.addedMs.invocations.p99);
  const failedAcrossReloads = reloaded ? reloaded.failed + reloaded.missed : null;
  return [
    below('serial added p50 (worst route)', serialP50, 0.25, ' ms'),
    below('serial added p99 (worst route)', serialP99, 1, ' ms'),
    below(`added p99 at ${fixedRate.ratePerSecond} req/s`, fixedRate.addedMs.p99, 2, ' ms'),
    below('stream first byte added (p50)', streaming.addedMs.firstByte.p50, 1, ' ms'),
    {
      name: 'throughput gateway / direct',
      target: '>= 0.35',
      value: throughput.ratio,
      pass: throughput.ratio >= 0.35,
    },
    below('peak RSS', memory.peakRssMb, 100, ' MB'),
    below(
      `RSS growth ${memory.smallRequests} -> ${memory.largeRequests} req`,
      memory.growthPercent,
      10,
      ' %',
    ),
    below(`reload of ${reload.endpoints} endpoints`, reloaded?.firstReloadMs ?? null, 100, ' ms'),
    {
      name: 'failed requests across reloads',
      target: '= 0',
      value: failedAcrossReloads,
      pass: failedAcrossReloads === null ? null : failedAcrossReloads === 0,
    },
  ];
}

type Row = [string, string, string, string];

function ms(value: number): string {
  return value.toFixed(3);
}

function signed(value: number): string {
  return `${value >= 0 ? '+' : ''}${value.toFixed(3)}`;
}

function scenarioRows(scenarios: Scenarios): Row[] {
  const { serial, fixedRate, throughput, streaming, memory, reload } = scenarios;
  const rows: Row[] = [
    [
      '1 serial /v1/chat/completions p50 ms',
      ms(serial.direct.p50),
      ms(serial.openAi.p50),
      signed(serial.addedMs.openAi.p50),
    ],
    [
      '1 serial /v1/chat/completions p99 ms',
      ms(serial.direct.p99),
      ms(serial.openAi.p99),
      signed(serial.addedMs.openAi.p99),
    ],
    [
      '1 serial /endpoints/…/invocations p50 ms',
      ms(serial.direct.p50),
      ms(serial.invocations.p50),
      signed(serial.addedMs.invocations.p50),
    ],
    [
      '1 serial /endpoints/…/invocations p99 ms',
      ms(serial.direct.p99),
      ms(serial.invocations.p99),
      signed(serial.addedMs.invocations.p99),
    ],
    [
      `2 ${fixedRate.ratePerSecond} req/s p50 ms`,
      ms(fixedRate.direct.p50),
      ms(fixedRate.gateway.p50),
      signed(fixedRate.addedMs.p50),
    ],
    [
      `2 ${fixedRate.ratePerSecond} req/s p99 ms`,
      ms(fixedRate.direct.p99),
      ms(fixedRate.gateway.p99),
      signed(fixedRate.addedMs.p99),
    ],
    [
      `3 throughput ${throughput.connections} conn req/s`,
      String(throughput.directPerSecond),
      String(throughput.gatewayPerSecond),
      `x${throughput.ratio.toFixed(3)}`,
    ],
    ['3 gateway CPU per request µs', '', String(throughput.gatewayCpuMicrosPerRequest), ''],
    [
      '4 stream first byte p50 ms',
      ms(streaming.direct.firstByte.p50),
      ms(streaming.gateway.firstByte.p50),
      signed(streaming.addedMs.firstByte.p50),
    ],
    [
      '4 stream last byte p50 ms',
      ms(streaming.direct.lastByte.p50),
      ms(streaming.gateway.lastByte.p50),
      signed(streaming.addedMs.lastByte.p50),
    ],
    ['5 peak RSS MB', '', memory.peakRssMb.toFixed(1), ''],
    [
      `5 RSS after ${memory.smallRequests} / ${memory.largeRequests} req MB`,
      '',
      `${memory.rssAfterSmallMb.toFixed(1)} / ${memory.rssAfterLargeMb.toFixed(1)}`,
      `${memory.growthPercent.toFixed(1)} %`,
    ],
  ];
  if (reload.status === 'ok') {
    rows.push(
      [`6 reload ${reload.endpoints} endpoints ms`, '', ms(reload.firstReloadMs), ''],
      ['6   of which the watcher debounce ms', '', ms(reload.debounceMs), ''],
      [
        `6 ${reload.reloads} reloads under load p50/max ms`,
        '',
        `${ms(reload.underLoadMs.p50)} / ${ms(reload.underLoadMs.max)}`,
        '',
      ],
      ['6 failed / requests during reloads', '', `${reload.failed + reload.missed} / ${reload.requests}`, ''],
    );
  } else {
    rows.push(['6 hot reload', '', 'not available', '']);
  }
  return rows;
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

/** The compact stdout report: measurements, then each target with its verdict. */
export function formatReport(results: BenchResults): string {
  const { machine: facts } = results;
  const verdict = (pass: boolean | null): string => (pass === null ? 'n/a' : pass ? 'yes' : 'NO');
  return [
    `llmgw bench${results.quick ? ' (--quick: figures are not meaningful)' : ''}: ${facts.cores} cores ${facts.cpuModel}, Node ${facts.node}, ${facts.platform}, gateway log level ${results.logLevel}, load average ${facts.loadAverage.atStart} -> ${facts.loadAverage.atEnd}`,
    '',
    table(['scenario', 'direct', 'gateway', 'added'], scenarioRows(results.scenarios)),
    '',
    ...failures(results.scenarios).map((line) => `WARNING ${line}; see the gateway's stderr`),
    table(
      ['target', 'measured', 'goal', 'met'],
      results.targets.map((check) => [
        check.name,
        check.value === null ? '-' : String(check.value),
        check.target,
        verdict(check.pass),
      ]),
    ),
  ].join('\n');
}
