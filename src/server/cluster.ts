import cluster, { type Worker } from 'node:cluster';
import { serveClusterCounters } from '../access/cluster-counter-store.js';
import { serveClusterMetrics } from '../telemetry/cluster-metrics.js';
import { SHUTDOWN_MESSAGE } from './shutdown.js';

/** Reference §1.1: `--workers` defaults to 2. */
export const DEFAULT_WORKERS = 2;
/** A worker that dies sooner than this after starting is replaced only after this delay. */
const RESTART_BACKOFF_MS = 1000;
/** Beyond the workers' own grace period, before the primary kills what is left. */
const KILL_MARGIN_MS = 5000;

export interface ClusterOptions {
  workers: number;
  graceSeconds: number;
  /** Null: metrics off. `port` null: workers answer /metrics on the gateway port, summed here. */
  metrics?: { host: string; port: number | null } | null;
}

/**
 * Node 20 lets the young generation grow to 16 MB semi-spaces; capped at 4 MB, a worker's peak
 * RSS under 50 connections fell by about 25 MB and its idle RSS by about 13 MB, at the same CPU
 * per request (issue 22, medians of 3 runs). 1-2 MB cost CPU and grew the old generation instead.
 */
const WORKER_SEMI_SPACE_FLAG = '--max-semi-space-size=4';
const SEMI_SPACE_OPTION = /--max[-_]semi[-_]space[-_]size/;

/** The workers' Node flags: the primary's, plus the semi-space cap unless the user set one. */
export function workerExecArgv(execArgv: readonly string[], nodeOptions: string | undefined): string[] {
  const isUserSet = [...execArgv, nodeOptions ?? ''].some((option) => SEMI_SPACE_OPTION.test(option));
  return isUserSet ? [...execArgv] : [...execArgv, WORKER_SEMI_SPACE_FLAG];
}

const LEVELS = { info: 30, warn: 40, error: 50 } as const;

/** The primary has no Fastify instance; it logs the same JSON lines as pino. */
function log(level: keyof typeof LEVELS, msg: string, fields: Record<string, unknown> = {}): void {
  const line = { level: LEVELS[level], time: Date.now(), pid: process.pid, ...fields, msg };
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

function liveWorkers(): Worker[] {
  return Object.values(cluster.workers ?? {}).filter((worker) => worker !== undefined);
}

/**
 * The primary of `--workers N`: forks N workers that each run the gateway on the shared port
 * (they re-run this CLI with the same arguments), keeps their rate-limit counters, replaces any
 * that dies, and on SIGINT/SIGTERM asks each to drain, then exits 0 once all are gone. A second
 * signal kills them and exits.
 */
export function runPrimary(options: ClusterOptions): void {
  // Workers without Redis count rate limits here, so a limit holds across all of them; a
  // worker with Redis never asks, and an endpoint without a limit sends nothing.
  serveClusterCounters(cluster);
  if (options.metrics) {
    serveClusterMetrics(cluster, options.metrics).catch((error: unknown) => {
      log('error', `Cannot serve metrics: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    });
  }
  cluster.setupPrimary({ execArgv: workerExecArgv(process.execArgv, process.env.NODE_OPTIONS) });
  const startedAt = new Map<number, number>();
  // A worker still starting has no shutdown listener yet, so a message to it would be lost.
  const listening = new Set<number>();
  cluster.on('listening', (worker) => {
    listening.add(worker.id);
  });
  let isShuttingDown = false;
  const fork = (): void => {
    if (isShuttingDown) return;
    const worker = cluster.fork();
    startedAt.set(worker.id, Date.now());
  };

  cluster.on('exit', (worker, code, signal) => {
    const livedMs = Date.now() - (startedAt.get(worker.id) ?? 0);
    startedAt.delete(worker.id);
    listening.delete(worker.id);
    if (isShuttingDown) {
      if (liveWorkers().length === 0) {
        log('info', 'All workers exited; exiting');
        process.exit(0);
      }
      return;
    }
    // Node passes a null signal when the worker exited by itself, whatever the types say.
    const cause = (signal as string | null) ?? `exit code ${code}`;
    log('warn', `Worker ${worker.process.pid ?? '?'} died (${cause}); starting a replacement`, {
      worker: worker.process.pid,
      code,
      signal,
    });
    setTimeout(fork, livedMs < RESTART_BACKOFF_MS ? RESTART_BACKOFF_MS : 0);
  });

  const shutdown = (signal: NodeJS.Signals): void => {
    if (isShuttingDown) {
      log('warn', `${signal} again: killing the workers and exiting now`);
      for (const worker of liveWorkers()) worker.process.kill('SIGKILL');
      process.exit(signal === 'SIGINT' ? 130 : 143);
    }
    isShuttingDown = true;
    log('info', `${signal}: asking ${liveWorkers().length} worker(s) to finish their requests and exit`);
    const workers = liveWorkers();
    if (workers.length === 0) process.exit(0);
    for (const worker of workers) {
      // One that serves nothing yet has nothing to drain: it is stopped at once.
      if (!listening.has(worker.id)) worker.process.kill('SIGTERM');
      else if (worker.isConnected()) worker.send(SHUTDOWN_MESSAGE);
    }
    setTimeout(
      () => {
        log('warn', 'Workers still running after the grace period; killing them');
        for (const worker of liveWorkers()) worker.process.kill('SIGKILL');
        process.exit(0);
      },
      options.graceSeconds * 1000 + KILL_MARGIN_MS,
    ).unref();
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);

  for (let index = 0; index < options.workers; index += 1) fork();
}
