import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { connect } from 'node:net';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeUpstream, ManualStream, sseFrame } from '../fakes/fake-upstream.js';
import { chatChunks, gatewayChatChunks } from '../fakes/openai.js';
import { CLI } from '../helpers/cli-process.js';

const directory = mkdtempSync(join(tmpdir(), 'llmgw-workers-'));

interface LogLine {
  level: number;
  pid: number;
  msg: string;
  url?: string;
}

/** A running `llmgw start` child whose JSON log lines can be awaited. */
class GatewayProcess {
  readonly child: ChildProcess;
  readonly lines: LogLine[] = [];
  #waiters: { test: (line: LogLine) => boolean; resolve: (line: LogLine) => void }[] = [];
  #buffer = '';

  constructor(args: string[]) {
    const env: NodeJS.ProcessEnv = { ...process.env, LLMGW_LOG_LEVEL: 'info' };
    delete env.LLMGW_REDIS_URL;
    this.child = spawn(process.execPath, [CLI, 'start', '--port', '0', ...args], { env });
    this.child.stdout?.on('data', (chunk: Buffer) => {
      this.#buffer += chunk.toString();
      const parts = this.#buffer.split('\n');
      this.#buffer = parts.pop() ?? '';
      for (const part of parts) this.#add(JSON.parse(part) as LogLine);
    });
  }

  #add(line: LogLine): void {
    this.lines.push(line);
    this.#waiters = this.#waiters.filter((waiter) => {
      if (!waiter.test(line)) return true;
      waiter.resolve(line);
      return false;
    });
  }

  /** The first log line (past or future) that passes `test`. */
  line(test: (line: LogLine) => boolean): Promise<LogLine> {
    const seen = this.lines.find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      this.#waiters.push({ test, resolve });
      this.child.once('exit', (code) => {
        reject(new Error(`llmgw exited with ${String(code)}: ${JSON.stringify(this.lines)}`));
      });
    });
  }

  /** Resolves once `count` distinct processes have logged that they listen. */
  async listening(count: number): Promise<LogLine[]> {
    const listeners = new Map<number, LogLine>();
    await this.line((line) => {
      if (line.url !== undefined && line.msg.startsWith('llmgw listening')) listeners.set(line.pid, line);
      return listeners.size >= count;
    });
    return [...listeners.values()];
  }

  async exitCode(): Promise<number | null> {
    if (this.child.exitCode !== null) return this.child.exitCode;
    const [code] = (await once(this.child, 'exit')) as [number | null];
    return code;
  }
}

const started: GatewayProcess[] = [];
let fake: FakeUpstream;

beforeAll(async () => {
  fake = await FakeUpstream.start();
});

afterEach(() => {
  for (const gateway of started.splice(0)) {
    if (gateway.child.exitCode === null && gateway.child.signalCode === null) gateway.child.kill('SIGKILL');
  }
});

afterAll(async () => {
  await fake.close();
  rmSync(directory, { recursive: true, force: true });
});

function configFile(name: string): string {
  const path = join(directory, `${name}.yaml`);
  writeFileSync(
    path,
    `
endpoints:
  - name: mock
    endpoint_type: llm/v1/chat
    model: {provider: mock, config: {}}
  - name: upstream
    endpoint_type: llm/v1/chat
    model:
      provider: openai
      name: gpt-4o-mini
      config: {openai_api_key: sk-test, openai_api_base: ${fake.url}/v1}
`,
  );
  return path;
}

function startProcess(name: string, ...args: string[]): GatewayProcess {
  const gateway = new GatewayProcess(['--config-path', configFile(name), ...args]);
  started.push(gateway);
  return gateway;
}

function invoke(url: string, endpoint: string, extra: Record<string, unknown> = {}) {
  return request(`${url}/endpoints/${endpoint}/invocations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }], ...extra }),
  });
}

/** Starts a stream through the gateway and waits until the fake upstream holds it open. */
async function openStream(url: string) {
  const stream = new ManualStream();
  fake.reply({ kind: 'sse-manual', stream });
  const response = await invoke(url, 'upstream', { stream: true });
  await stream.started();
  stream.send(sseFrame(chatChunks[0]));
  return { stream, response };
}

function finish(stream: ManualStream): void {
  for (const chunk of chatChunks.slice(1)) stream.send(sseFrame(chunk));
  stream.send('data: [DONE]\n\n');
  stream.end();
}

/** Whether a new TCP connection to the port is refused. */
async function connectionRefused(port: number): Promise<boolean> {
  const socket = connect(port, '127.0.0.1');
  try {
    await once(socket, 'connect');
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ECONNREFUSED';
  } finally {
    socket.destroy();
  }
}

const WHOLE_STREAM = gatewayChatChunks.map((chunk) => `data: ${JSON.stringify(chunk)}\n\n`).join('');

describe('llmgw start --workers', () => {
  it('runs two worker processes that serve requests on one port', async () => {
    const gateway = startProcess('two', '--workers', '2');
    const listeners = await gateway.listening(2);
    const urls = new Set(listeners.map((line) => line.url));
    expect(urls.size).toBe(1);
    expect(listeners.map((line) => line.pid)).not.toContain(gateway.child.pid);
    const [url] = [...urls] as [string];
    for (let call = 0; call < 4; call += 1) {
      const response = await invoke(url, 'mock');
      expect(response.statusCode).toBe(200);
      expect(await response.body.json()).toMatchObject({ object: 'chat.completion' });
    }
  });

  it('delivers every access-log line of two workers sharing one stdout, each line whole', async () => {
    const gateway = startProcess('whole-lines', '--workers', '2');
    const [first] = (await gateway.listening(2)) as [LogLine, LogLine];
    const url = first.url ?? '';
    const calls = 300;
    const responses = await Promise.all(
      Array.from({ length: calls }, async () => {
        const response = await invoke(url, 'mock');
        await response.body.arrayBuffer();
        return response.statusCode;
      }),
    );
    expect(responses.every((status) => status === 200)).toBe(true);
    // Every line was parsed as JSON as it came (a torn line would have thrown); all arrive.
    const isAccessLine = (line: LogLine) => line.msg === 'request completed';
    await gateway.line(() => gateway.lines.filter(isAccessLine).length >= calls);
    const accessLines = gateway.lines.filter(isAccessLine);
    expect({ lines: accessLines.length, workers: new Set(accessLines.map((line) => line.pid)).size }).toEqual(
      {
        lines: calls,
        workers: 2,
      },
    );
  });

  it('replaces a worker that dies, and logs it', async () => {
    const gateway = startProcess('replace', '--workers', '2');
    const [victim] = (await gateway.listening(2)) as [LogLine, LogLine];
    process.kill(victim.pid, 'SIGKILL');
    const died = await gateway.line((line) => line.msg.startsWith(`Worker ${victim.pid} died`));
    expect(died).toMatchObject({
      level: 40,
      msg: `Worker ${victim.pid} died (SIGKILL); starting a replacement`,
    });
    await gateway.listening(3);
    const response = await invoke(victim.url ?? '', 'mock');
    expect(response.statusCode).toBe(200);
    await response.body.dump();
  });

  it('lets a stream in flight finish on SIGTERM, then exits 0', async () => {
    const gateway = startProcess('drain', '--workers', '2');
    const [{ url }] = (await gateway.listening(2)) as [LogLine];
    const { stream, response } = await openStream(url ?? '');
    gateway.child.kill('SIGTERM');
    await gateway.line((line) => line.msg.startsWith('Shutdown requested by the primary'));
    finish(stream);
    expect(response.statusCode).toBe(200);
    expect(await response.body.text()).toBe(WHOLE_STREAM);
    expect(await gateway.exitCode()).toBe(0);
  });
});

describe('llmgw start shutdown (one process)', () => {
  it('stops accepting connections at SIGTERM while a stream finishes', async () => {
    const gateway = startProcess('single', '--workers', '1');
    const [{ url }] = (await gateway.listening(1)) as [LogLine];
    const { stream, response } = await openStream(url ?? '');
    gateway.child.kill('SIGTERM');
    await gateway.line((line) => line.msg.startsWith('SIGTERM: no longer accepting connections'));
    const port = Number(new URL(url ?? '').port);
    let isRefused = false;
    for (let attempt = 0; attempt < 100 && !isRefused; attempt += 1) {
      isRefused = await connectionRefused(port);
      if (!isRefused) await delay(20);
    }
    expect(isRefused).toBe(true);
    finish(stream);
    expect(await response.body.text()).toBe(WHOLE_STREAM);
    expect(await gateway.exitCode()).toBe(0);
  });

  it('cuts what is still open when the grace period ends, and exits 0', async () => {
    const gateway = startProcess('grace', '--workers', '1', '--shutdown-grace-seconds', '0.5');
    const [{ url }] = (await gateway.listening(1)) as [LogLine];
    const { response } = await openStream(url ?? '');
    gateway.child.kill('SIGTERM');
    await expect(response.body.text()).rejects.toThrow();
    expect(await gateway.exitCode()).toBe(0);
    expect(gateway.lines.map((line) => line.msg)).toContain(
      'Grace period of 0.5s over: closing the connections still open',
    );
  });

  it('exits at once on a second signal', async () => {
    const gateway = startProcess('twice', '--workers', '1');
    const [{ url }] = (await gateway.listening(1)) as [LogLine];
    const { response } = await openStream(url ?? '');
    gateway.child.kill('SIGTERM');
    await gateway.line((line) => line.msg.startsWith('SIGTERM: no longer accepting'));
    gateway.child.kill('SIGTERM');
    expect(await gateway.exitCode()).toBe(143);
    await expect(response.body.text()).rejects.toThrow();
  });
});
