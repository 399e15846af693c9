import type { FakeProcess, LoadGenerator, MeasuredProcess } from './processes.js';

/** Every duration and count the scenarios use; all bounded, so a run always ends. */
export interface Durations {
  /** How long an idle gateway settles after it answers /health before its RSS is read. */
  idleSettleMs: number;
  /** Closed-loop warm-up of each target (direct, bare, both gateway routes). */
  warmupSecondsPerTarget: number;
  /** Stream warm-up of the bare proxy and the gateway: this many serial stream runs at once… */
  streamWarmupTasks: number;
  /** …of this many streams each. */
  streamWarmupPerTask: number;
  serialSeconds: number;
  fixedRatePerSecond: number;
  fixedRateSeconds: number;
  throughputConnections: number;
  /** Per target, split into `throughputRounds` rounds whose order alternates. */
  throughputSeconds: number;
  throughputRounds: number;
  streams: number;
  memorySmallRequests: number;
  memoryLargeRequests: number;
  reloadEndpoints: number;
  reloads: number;
  reloadTimeoutMs: number;
}

export const FULL: Durations = {
  idleSettleMs: 2_000,
  warmupSecondsPerTarget: 1,
  streamWarmupTasks: 25,
  streamWarmupPerTask: 12,
  serialSeconds: 5,
  fixedRatePerSecond: 1000,
  fixedRateSeconds: 5,
  throughputConnections: 50,
  throughputSeconds: 10,
  throughputRounds: 2,
  streams: 50,
  memorySmallRequests: 10_000,
  memoryLargeRequests: 200_000,
  reloadEndpoints: 1000,
  reloads: 20,
  reloadTimeoutMs: 5_000,
};

/** `--quick`: the same scenarios in a few seconds; the figures only prove the harness runs. */
export const QUICK: Durations = {
  idleSettleMs: 300,
  warmupSecondsPerTarget: 0.2,
  streamWarmupTasks: 2,
  streamWarmupPerTask: 1,
  serialSeconds: 0.5,
  fixedRatePerSecond: 200,
  fixedRateSeconds: 0.5,
  throughputConnections: 10,
  throughputSeconds: 0.5,
  throughputRounds: 2,
  streams: 3,
  memorySmallRequests: 500,
  memoryLargeRequests: 2_000,
  reloadEndpoints: 100,
  reloads: 2,
  reloadTimeoutMs: 3_000,
};

/** What a scenario gets: the running processes and where to write configs. */
export interface BenchContext {
  durations: Durations;
  fake: FakeProcess;
  /** The gateway shared by scenarios 0-4; 5 and 6 start their own. */
  gateway: MeasuredProcess;
  /** The bare proxy beside it, in front of the same fake upstream. */
  bare: MeasuredProcess;
  load: LoadGenerator;
  workDir: string;
  logLevel: string;
  /** Starts another gateway on a config file, with the run's log level. */
  startGateway(configPath: string): Promise<MeasuredProcess>;
  /** Starts another bare proxy in front of the fake upstream. */
  startBareProxy(): Promise<MeasuredProcess>;
}
