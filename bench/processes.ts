// The benchmark's processes: the fake upstream, the gateway (the built CLI) and the load
// generator each run on their own, so none shares an event loop with another.
import { execFileSync, fork, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { LoadResult, LoadTask } from './load-generator.js';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TSX = ['--import', 'tsx'];
const READY_TIMEOUT_MS = 20_000;
/** Lets `--cpu-prof` write its profile when the orchestrator stops the gateway. */
const EXIT_ON_SIGTERM = 'data:text/javascript,process.on("SIGTERM",()=>process.exit(0))';

export interface Stoppable {
  stop(): Promise<void>;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

const FORWARDED_LINES = 20;

/**
 * Keeps the last lines a child printed, to explain a failure to start, and echoes the first
 * few to stderr: at the benchmark's log level every line is a warning or an error.
 */
function tail(child: ChildProcess, name: string): () => string {
  const lines: string[] = [];
  let forwarded = 0;
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    createInterface({ input: stream }).on('line', (line) => {
      lines.push(line);
      if (lines.length > FORWARDED_LINES) lines.shift();
      forwarded += 1;
      if (forwarded <= FORWARDED_LINES) process.stderr.write(`${name}: ${line}\n`);
    });
  }
  return () => lines.join('\n');
}

/** Builds dist/ so the gateway measured is the current source. */
export function buildGateway(): void {
  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
}

export interface FakeProcess extends Stoppable {
  url: string;
}

export async function startFake(): Promise<FakeProcess> {
  const child = spawn(process.execPath, [...TSX, 'bench/fake-upstream.ts'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout });
  const [line] = (await Promise.race([
    once(lines, 'line'),
    once(child, 'exit').then(() => {
      throw new Error('The fake upstream exited before listening.');
    }),
  ])) as [string];
  const { url } = JSON.parse(line) as { url: string };
  return { url, stop: () => stopChild(child) };
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

export interface Memory {
  rssMb: number;
  /** The process's high-water mark (VmHWM). */
  peakRssMb: number;
}

export interface GatewayProcess extends Stoppable {
  url: string;
  pid: number;
  memory(): Memory;
  /** User + system CPU time the process has used so far, in seconds (Linux only, else 0). */
  cpuSeconds(): number;
}

export interface GatewayStartOptions {
  configPath: string;
  logLevel: string;
  /** Directory for a V8 CPU profile of the whole run, written when the gateway stops. */
  cpuProfileDir?: string;
  /** Extra environment, e.g. LLMGW_METRICS=off for the metrics-cost comparison. */
  env?: NodeJS.ProcessEnv;
}

export async function startGateway(options: GatewayStartOptions): Promise<GatewayProcess> {
  const port = await freePort();
  const nodeFlags = options.cpuProfileDir
    ? ['--cpu-prof', '--cpu-prof-dir', options.cpuProfileDir, '--import', EXIT_ON_SIGTERM]
    : [];
  const cli = ['dist/cli.js', 'start', '--config-path', options.configPath, '--port', String(port)];
  const child = spawn(process.execPath, [...nodeFlags, ...cli, '--host', '127.0.0.1'], {
    cwd: ROOT,
    // One process, like the fake: `llmgw start` defaults to 2 workers (reference §1.1), which
    // would split the gateway across both cores and hide its cost per request.
    env: { ...process.env, LLMGW_LOG_LEVEL: options.logLevel, LLMGW_WORKERS: '1', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = tail(child, `gateway ${String(child.pid)}`);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`The gateway exited at start:\n${output()}`);
    if (Date.now() > deadline) {
      await stopChild(child);
      throw new Error(`The gateway did not answer /health within ${READY_TIMEOUT_MS} ms:\n${output()}`);
    }
    const healthy = await fetch(`${url}/health`).then(
      (response) => response.ok,
      () => false,
    );
    if (healthy) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const pid = child.pid ?? 0;
  return {
    url,
    pid,
    memory: () => memoryOf(pid),
    cpuSeconds: () => cpuSecondsOf(pid),
    stop: () => stopChild(child),
  };
}

/** Linux's USER_HZ: /proc reports CPU time in these ticks. */
const TICKS_PER_SECOND = 100;

function cpuSecondsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

const KB_PER_MB = 1024;

/** Reads Linux's /proc; elsewhere, `ps` gives the current RSS and the peak is unknown (0). */
function memoryOf(pid: number): Memory {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name: string): number =>
      Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) / KB_PER_MB;
    return { rssMb: field('VmRSS'), peakRssMb: field('VmHWM') };
  } catch {
    const rssKb = Number(execFileSync('ps', ['-o', 'rss=', '-p', String(pid)], { encoding: 'utf8' }).trim());
    return { rssMb: rssKb / KB_PER_MB, peakRssMb: 0 };
  }
}

export interface LoadGenerator extends Stoppable {
  run<K extends LoadResult['kind']>(
    task: Extract<LoadTask, { kind: K }>,
  ): Promise<Extract<LoadResult, { kind: K }>>;
  /** Ends a closed-loop run that has no amount or duration; its `run` then resolves. */
  interrupt(): void;
}

export async function startLoadGenerator(): Promise<LoadGenerator> {
  const child = fork('bench/load-generator.ts', [], { cwd: ROOT, execArgv: TSX, stdio: 'inherit' });
  await once(child, 'spawn');
  let nextId = 0;
  const waiting = new Map<
    number,
    { resolve: (result: LoadResult) => void; reject: (error: Error) => void }
  >();
  child.on('message', (message: { id: number; result?: LoadResult; error?: string }) => {
    const entry = waiting.get(message.id);
    waiting.delete(message.id);
    if (message.result) entry?.resolve(message.result);
    else entry?.reject(new Error(message.error ?? 'The load generator failed.'));
  });
  child.on('exit', () => {
    for (const entry of waiting.values()) entry.reject(new Error('The load generator exited.'));
    waiting.clear();
  });
  return {
    run: (task) => {
      nextId += 1;
      const id = nextId;
      return new Promise((resolve, reject) => {
        waiting.set(id, { resolve: resolve as (result: LoadResult) => void, reject });
        child.send({ id, task });
      });
    },
    interrupt: () => child.send({ id: 0, task: { kind: 'stop' } }),
    stop: async () => {
      if (child.connected) child.disconnect();
      await stopChild(child);
    },
  };
}
