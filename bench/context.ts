import type { FakeProcess, GatewayProcess, LoadGenerator } from './processes.js';

/** Every duration and count the scenarios use; all bounded, so a run always ends. */
export interface Durations {
  warmupSeconds: number;
  serialSeconds: number;
  fixedRatePerSecond: number;
  fixedRateSeconds: number;
  throughputConnections: number;
  throughputSeconds: number;
  streams: number;
  memorySmallRequests: number;
  memoryLargeRequests: number;
  reloadEndpoints: number;
  reloads: number;
  reloadTimeoutMs: number;
}

export const FULL: Durations = {
  warmupSeconds: 3,
  serialSeconds: 5,
  fixedRatePerSecond: 1000,
  fixedRateSeconds: 10,
  throughputConnections: 50,
  throughputSeconds: 10,
  streams: 50,
  memorySmallRequests: 10_000,
  memoryLargeRequests: 200_000,
  reloadEndpoints: 1000,
  reloads: 20,
  reloadTimeoutMs: 5_000,
};

/** `--quick`: the same scenarios in a few seconds; the figures only prove the harness runs. */
export const QUICK: Durations = {
  warmupSeconds: 0.5,
  serialSeconds: 0.5,
  fixedRatePerSecond: 200,
  fixedRateSeconds: 0.5,
  throughputConnections: 10,
  throughputSeconds: 0.5,
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
  /** The gateway shared by scenarios 1-4; 5 and 6 start their own. */
  gateway: GatewayProcess;
  load: LoadGenerator;
  workDir: string;
  logLevel: string;
  /** Starts another gateway on a config file, with the run's log level. */
  startGateway(configPath: string): Promise<GatewayProcess>;
}
