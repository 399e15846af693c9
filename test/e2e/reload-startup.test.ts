import { spawn, type ChildProcess } from 'node:child_process';
import { get } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { CLI } from '../helpers/cli-process.js';

// A config change made while `--workers 2` is starting must reach every worker, whichever
// moment of its start-up it falls in: before its load, between its load and its watcher being
// ready, or after. Each worker says what it serves in its log (listening line, then each reload),
// and fresh connections (spread over the workers by the primary) must all see the new set.

const directory = mkdtempSync(join(tmpdir(), 'llmgw-reload-startup-'));
/** Generous: a loaded two-core machine starts three Node processes per gateway. */
const CONVERGE_TIMEOUT_MS = 20_000;
/** Fresh connections asked after convergence; the primary deals them out round-robin. */
const PROBES = 6;

interface LogLine {
  level: number;
  time: number;
  pid: number;
  msg: string;
  url?: string;
  endpoints?: string[];
  worker?: number;
}

/** An `llmgw start --workers 2` child whose JSON log lines can be awaited. */
class GatewayProcess {
  readonly child: ChildProcess;
  readonly startedAt = Date.now();
  readonly lines: LogLine[] = [];
  #waiters: { test: () => boolean; resolve: () => void }[] = [];
  #buffer = '';

  constructor(configPath: string) {
    const env: NodeJS.ProcessEnv = { ...process.env, LLMGW_LOG_LEVEL: 'info' };
    delete env.LLMGW_REDIS_URL;
    delete env.LLMGW_WORKERS;
    this.child = spawn(
      process.execPath,
      [CLI, 'start', '--port', '0', '--workers', '2', '--config-path', configPath],
      { env },
    );
    this.child.stdout?.on('data', (chunk: Buffer) => {
      this.#buffer += chunk.toString();
      const parts = this.#buffer.split('\n');
      this.#buffer = parts.pop() ?? '';
      for (const part of parts) this.lines.push(JSON.parse(part) as LogLine);
      this.#waiters = this.#waiters.filter((waiter) => {
        if (!waiter.test()) return true;
        waiter.resolve();
        return false;
      });
    });
  }

  /** Resolves once `test` holds, checked after each log line; rejects after the timeout. */
  until(test: () => boolean, describe: () => string): Promise<void> {
    if (test()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`timed out: ${describe()}`));
      }, CONVERGE_TIMEOUT_MS);
      this.#waiters.push({
        test,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  listeningLines(): LogLine[] {
    return this.lines.filter((line) => line.url !== undefined && line.msg.startsWith('llmgw listening'));
  }

  /** Workers that logged they listen and that the primary has not reported dead. */
  liveWorkers(): number[] {
    const dead = new Set(this.lines.flatMap((line) => (line.worker === undefined ? [] : [line.worker])));
    return [...new Set(this.listeningLines().map((line) => line.pid))].filter((pid) => !dead.has(pid));
  }

  /** What each live worker last logged it serves (its listening line, then each reload). */
  serving(): Map<number, string[]> {
    const serving = new Map<number, string[]>();
    const live = new Set(this.liveWorkers());
    for (const line of this.lines) {
      if (line.endpoints !== undefined && live.has(line.pid)) serving.set(line.pid, line.endpoints);
    }
    return serving;
  }

  /** Resolves once `count` live workers all serve exactly `names`. */
  converged(count: number, names: string[]): Promise<void> {
    return this.until(
      () => {
        const serving = [...this.serving().values()];
        return serving.length === count && serving.every((served) => served.join() === names.join());
      },
      () => `workers serving ${JSON.stringify([...this.serving()])}, expected ${names.join()}`,
    );
  }

  url(): string {
    return this.listeningLines()[0]?.url ?? '';
  }

  /** Ends the primary and every worker it logged, by pid. */
  kill(): void {
    const pids = new Set(this.lines.map((line) => line.pid));
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    this.child.kill('SIGKILL');
  }
}

const started: GatewayProcess[] = [];

afterEach(() => {
  for (const gateway of started.splice(0)) gateway.kill();
});

afterAll(() => {
  rmSync(directory, { recursive: true, force: true });
});

function yamlWith(names: string[]): string {
  const endpoints = names.map(
    (name) => `  - name: ${name}
    endpoint_type: llm/v1/chat
    model: {provider: mock, config: {}}
`,
  );
  return `endpoints:\n${endpoints.join('')}`;
}

function startGateway(name: string, names: string[]): { gateway: GatewayProcess; path: string } {
  const path = join(directory, `${name}.yaml`);
  writeFileSync(path, yamlWith(names));
  const gateway = new GatewayProcess(path);
  started.push(gateway);
  return { gateway, path };
}

/** The endpoint names one request on a new TCP connection sees. */
function namesOnFreshConnection(url: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    get(`${url}/api/2.0/endpoints/`, { agent: false }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => {
        const parsed = JSON.parse(body) as { endpoints: { name: string }[] };
        resolve(parsed.endpoints.map((endpoint) => endpoint.name));
      });
    }).on('error', reject);
  });
}

async function expectEveryConnectionToSee(url: string, names: string[]): Promise<void> {
  const seen: string[][] = [];
  for (let probe = 0; probe < PROBES; probe += 1) seen.push(await namesOnFreshConnection(url));
  expect(seen).toEqual(Array.from({ length: PROBES }, () => names));
}

function waitMs(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const OLD = ['chat'];
const NEW = ['chat', 'added'];

describe('llmgw start --workers 2 with the config changed during start-up', () => {
  it('brings every worker to the file on disk, wherever in start-up the change falls', async () => {
    // Calibration run: the change lands as the first worker logs that it listens, while the
    // second is typically between its load and its watcher.
    const first = startGateway('at-first-listener', OLD);
    await first.gateway.until(
      () => first.gateway.listeningLines().length >= 1,
      () => 'a worker listening',
    );
    writeFileSync(first.path, yamlWith(NEW));
    await first.gateway.converged(2, NEW);
    const startUpMs =
      Math.max(...first.gateway.listeningLines().map((line) => line.time)) - first.gateway.startedAt;
    await expectEveryConnectionToSee(first.gateway.url(), NEW);
    first.gateway.kill();

    // Then at fractions of that start-up time after the spawn: before, during and after each
    // worker's own load-then-watch window. The write is the test's injected event, not a wait.
    for (const fraction of [0.15, 0.35, 0.55, 0.7, 0.85, 1]) {
      const { gateway, path } = startGateway(`at-${fraction}`, OLD);
      await waitMs(fraction * startUpMs);
      writeFileSync(path, yamlWith(NEW));
      await gateway.converged(2, NEW);
      await expectEveryConnectionToSee(gateway.url(), NEW);
      gateway.kill();
    }
  }, 180_000);

  it('brings a worker started after a crash to the file as it is now', async () => {
    const { gateway, path } = startGateway('respawn', OLD);
    await gateway.converged(2, OLD);
    const [victim] = gateway.liveWorkers();
    process.kill(victim ?? 0, 'SIGKILL');
    await gateway.until(
      () => gateway.lines.some((line) => line.worker === victim),
      () => `the primary reporting worker ${String(victim)} dead`,
    );
    // The replacement is starting now; the survivor is serving.
    writeFileSync(path, yamlWith(NEW));
    await gateway.converged(2, NEW);
    expect(gateway.liveWorkers()).not.toContain(victim);
    await expectEveryConnectionToSee(gateway.url(), NEW);
  }, 60_000);
});
