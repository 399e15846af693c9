// The benchmark's processes: the fake upstream, the gateway (the built CLI), the bare proxy
// and the load generator each run on their own, so none shares an event loop with another.
import { execFileSync, fork, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
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
const TAIL_BYTES = 16 * 1024;

/**
 * Reads a child's output, keeping only the chunks among the last TAIL_BYTES (to explain a
 * failure) and splitting lines only for the first `forwardLines`, which are echoed to stderr.
 */
function drain(stream: Readable, name: string, forwardLines: number): () => string {
  const chunks: Buffer[] = [];
  let bytes = 0;
  let forwarded = 0;
  stream.on('data', (chunk: Buffer) => {
    chunks.push(chunk);
    bytes += chunk.length;
    while (chunks.length > 1 && bytes - (chunks[0]?.length ?? 0) >= TAIL_BYTES) {
      bytes -= chunks.shift()?.length ?? 0;
    }
    if (forwarded >= forwardLines) return;
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line === '' || forwarded >= forwardLines) continue;
      forwarded += 1;
      process.stderr.write(`${name}: ${line}\n`);
    }
  });
  return () => Buffer.concat(chunks).toString('utf8').slice(-TAIL_BYTES);
}

/** The last TAIL_BYTES of a file, or '' when it is gone. */
function fileTail(path: string): string {
  try {
    const text = readFileSync(path);
    return text.subarray(Math.max(0, text.length - TAIL_BYTES)).toString('utf8');
  } catch {
    return '';
  }
}

/** Pino's levels below warn: at these, stdout is one access line per request. */
const CHATTY_LEVELS = new Set(['trace', 'debug', 'info']);

/**
 * Where the gateway's stdout goes. At a chatty level, a file: under load the gateway writes
 * 10k+ lines/s, and reading them here (even only to drop them) measured 10-15 µs of this
 * process's CPU per request, taken from the cores the measured processes share. A file costs
 * the gateway the same write a pipe does and costs no reader. Otherwise a pipe, whose first
 * lines (warnings, at those levels) are echoed.
 */
interface StdoutSink {
  stdio: 'pipe' | number;
  /** The file, removed when the gateway stops; null for a pipe. */
  path: string | null;
}

function openStdoutSink(logLevel: string, port: number): StdoutSink {
  if (!CHATTY_LEVELS.has(logLevel)) return { stdio: 'pipe', path: null };
  const path = join(tmpdir(), `llmgw-bench-${process.pid}-gateway-${port}.log`);
  return { stdio: openSync(path, 'w'), path };
}

/** The last output of the gateway, both streams; stderr's first lines are echoed as they come. */
function gatewayOutput(child: ChildProcess, name: string, sink: StdoutSink): () => string {
  const out = sink.path ?? (child.stdout ? drain(child.stdout, name, FORWARDED_LINES) : null);
  const err = child.stderr ? drain(child.stderr, name, FORWARDED_LINES) : null;
  return () =>
    [typeof out === 'string' ? fileTail(out) : (out?.() ?? ''), err?.() ?? '']
      .filter((text) => text !== '')
      .join('\n');
}

/** Builds dist/ so the gateway measured is the current source. */
export function buildGateway(): void {
  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
}

/** Waits for the one JSON line a child prints once it listens, and returns its URL. */
async function listeningUrl(child: ChildProcess, name: string): Promise<string> {
  if (!child.stdout) throw new Error(`${name} has no stdout.`);
  const lines = createInterface({ input: child.stdout });
  const [line] = (await Promise.race([
    once(lines, 'line'),
    once(child, 'exit').then(() => {
      throw new Error(`${name} exited before listening.`);
    }),
  ])) as [string];
  lines.close();
  // Nothing more is expected; whatever comes is read and dropped, so the pipe never fills.
  child.stdout.resume();
  return (JSON.parse(line) as { url: string }).url;
}

export interface Memory {
  rssMb: number;
  /** The process's high-water mark (VmHWM). */
  peakRssMb: number;
}

/** A server process whose CPU time and memory the benchmark reads from /proc. */
export interface MeasuredProcess extends Stoppable {
  url: string;
  pid: number;
  memory(): Memory;
  /** User + system CPU time the process has used so far, in seconds (Linux only, else 0). */
  cpuSeconds(): number;
}

function measured(child: ChildProcess, url: string): MeasuredProcess {
  const pid = child.pid ?? 0;
  return {
    url,
    pid,
    memory: () => memoryOf(pid),
    cpuSeconds: () => cpuSecondsOf(pid),
    stop: () => stopChild(child),
  };
}

/** The fake upstream; its CPU is what a direct request costs the server that answers it. */
export type FakeProcess = MeasuredProcess;

export async function startFake(): Promise<FakeProcess> {
  const child = spawn(process.execPath, [...TSX, 'bench/fake-upstream.ts'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return measured(child, await listeningUrl(child, 'The fake upstream'));
}

/** Where the transpiled bare proxy goes: under node_modules, so it resolves `undici` from there. */
const CACHE_DIR = join(ROOT, 'node_modules', '.cache', 'llmgw-bench');

/**
 * Transpiles bench/bare-proxy.ts once into plain JavaScript (named by its content, so runs in
 * parallel share it and an edit makes a new one) and returns its path: run by plain `node`, the
 * bare proxy carries no tsx loader in its memory or CPU figures.
 */
export async function prepareBareProxy(): Promise<string> {
  const source = await readFile(join(ROOT, 'bench', 'bare-proxy.ts'), 'utf8');
  const hash = createHash('sha256').update(source).digest('hex').slice(0, 16);
  const script = join(CACHE_DIR, `bare-proxy-${hash}.mjs`);
  const exists = await stat(script).then(
    () => true,
    () => false,
  );
  if (exists) return script;
  // typescript is CommonJS, and ESM's import cannot see its named exports.
  const ts = createRequire(import.meta.url)('typescript') as typeof import('typescript');
  const { outputText } = ts.transpileModule(source, {
    fileName: 'bare-proxy.ts',
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  });
  await mkdir(CACHE_DIR, { recursive: true });
  const temporary = `${script}.${process.pid}.tmp`;
  await writeFile(temporary, outputText);
  await rename(temporary, script);
  return script;
}

/** The bare proxy (from `prepareBareProxy`) in front of `upstreamUrl`. */
export async function startBareProxy(script: string, upstreamUrl: string): Promise<MeasuredProcess> {
  const child = spawn(process.execPath, [script, upstreamUrl], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return measured(child, await listeningUrl(child, 'The bare proxy'));
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

export interface GatewayStartOptions {
  configPath: string;
  logLevel: string;
  /** Directory for a V8 CPU profile of the whole run, written when the gateway stops. */
  cpuProfileDir?: string;
  /** Extra environment, e.g. LLMGW_METRICS=off for the metrics-cost comparison. */
  env?: NodeJS.ProcessEnv;
}

/** As the Docker image sets it (Dockerfile) and cluster workers get it (src/server/cluster.ts). */
const GATEWAY_NODE_OPTIONS = '--max-semi-space-size=4';

export async function startGateway(options: GatewayStartOptions): Promise<MeasuredProcess> {
  const port = await freePort();
  const nodeFlags = options.cpuProfileDir
    ? ['--cpu-prof', '--cpu-prof-dir', options.cpuProfileDir, '--import', EXIT_ON_SIGTERM]
    : [];
  const cli = ['dist/cli.js', 'start', '--config-path', options.configPath, '--port', String(port)];
  const sink = openStdoutSink(options.logLevel, port);
  const child = spawn(process.execPath, [...nodeFlags, ...cli, '--host', '127.0.0.1'], {
    cwd: ROOT,
    // One process, like the fake: `llmgw start` defaults to 2 workers (reference §1.1), which
    // would split the gateway across both cores and hide its cost per request. Workers and the
    // Docker image run with a 4 MB semi-space (src/server/cluster.ts); a single process gets
    // the flag the same way the image gives it, through NODE_OPTIONS.
    env: {
      ...process.env,
      NODE_OPTIONS: GATEWAY_NODE_OPTIONS,
      LLMGW_LOG_LEVEL: options.logLevel,
      LLMGW_WORKERS: '1',
      ...options.env,
    },
    stdio: ['ignore', sink.stdio, 'pipe'],
  });
  // The child has its own copy of the descriptor.
  if (typeof sink.stdio === 'number') closeSync(sink.stdio);
  const output = gatewayOutput(child, `gateway ${String(child.pid)}`, sink);
  const stop = async (): Promise<void> => {
    await stopChild(child);
    if (sink.path) await rm(sink.path, { force: true });
  };
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null) {
      const text = output();
      await stop();
      throw new Error(`The gateway exited at start:\n${text}`);
    }
    if (Date.now() > deadline) {
      const text = output();
      await stop();
      throw new Error(`The gateway did not answer /health within ${READY_TIMEOUT_MS} ms:\n${text}`);
    }
    const healthy = await fetch(`${url}/health`).then(
      async (response) => {
        await response.arrayBuffer();
        return response.ok;
      },
      () => false,
    );
    if (healthy) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { ...measured(child, url), stop };
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
