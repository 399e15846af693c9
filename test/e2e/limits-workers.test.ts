import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CLI } from '../helpers/cli-process.js';
import { TestRedis } from '../helpers/redis.js';

const directory = mkdtempSync(join(tmpdir(), 'llmgw-limits-'));
const CALLS = 5;
const REQUESTS = 40;
const EXCEEDED = { error: `Rate limit exceeded: ${CALLS} per 1 minute` };

interface LogLine {
  pid: number;
  msg: string;
  url?: string;
}

/** A running `llmgw start` child whose JSON log lines can be awaited. */
class GatewayProcess {
  readonly child: ChildProcess;
  readonly lines: LogLine[] = [];
  #waiters: (() => void)[] = [];
  #buffer = '';

  constructor(args: string[], env: NodeJS.ProcessEnv) {
    this.child = spawn(process.execPath, [CLI, 'start', '--port', '0', ...args], {
      env: { ...process.env, LLMGW_REDIS_URL: '', LLMGW_LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    this.child.stdout?.on('data', (chunk: Buffer) => {
      this.#buffer += chunk.toString();
      const parts = this.#buffer.split('\n');
      this.#buffer = parts.pop() ?? '';
      for (const part of parts) this.lines.push(JSON.parse(part) as LogLine);
      this.#wake();
    });
    this.child.once('exit', () => {
      this.#wake();
    });
  }

  #wake(): void {
    for (const wake of this.#waiters.splice(0)) wake();
  }

  /** Resolves once `count` log lines pass `test`; rejects if the process exits first. */
  async linesWhere(test: (line: LogLine) => boolean, count: number): Promise<LogLine[]> {
    for (;;) {
      const found = this.lines.filter(test);
      if (found.length >= count) return found;
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        throw new Error(`llmgw exited: ${JSON.stringify(this.lines)}`);
      }
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
      });
    }
  }

  /** The URL and the pids of the `count` processes that serve it. */
  async listening(count: number): Promise<{ url: string; pids: number[] }> {
    const lines = await this.linesWhere((line) => line.msg.startsWith('llmgw listening'), count);
    return { url: lines[0]?.url ?? '', pids: lines.map((line) => line.pid) };
  }

  /** How many requests each process has logged as completed, once `total` have been. */
  async servedByPid(total: number): Promise<Map<number, number>> {
    const served = new Map<number, number>();
    for (const line of await this.linesWhere((each) => each.msg === 'request completed', total)) {
      served.set(line.pid, (served.get(line.pid) ?? 0) + 1);
    }
    return served;
  }
}

const children: ChildProcess[] = [];
let redis: TestRedis;
// One connection per request, so the cluster spreads them over the workers.
let agent: Agent;

beforeAll(async () => {
  redis = await TestRedis.start();
  agent = new Agent({ connections: REQUESTS, pipelining: 1 });
});

afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  }
});

afterAll(async () => {
  await agent.close();
  await redis.stop();
  rmSync(directory, { recursive: true, force: true });
});

function startGateway(args: string[], env: NodeJS.ProcessEnv = {}): GatewayProcess {
  const configPath = join(directory, 'limited.yaml');
  writeFileSync(
    configPath,
    `
endpoints:
  - name: chat
    endpoint_type: llm/v1/chat
    model: {provider: mock, config: {}}
    limit: {calls: ${CALLS}, renewal_period: minute}
`,
  );
  const gateway = new GatewayProcess(['--config-path', configPath, ...args], env);
  children.push(gateway.child);
  return gateway;
}

interface Outcome {
  status: number;
  retryAfter: string | string[] | undefined;
  body: unknown;
}

async function invoke(url: string): Promise<Outcome> {
  const response = await request(`${url}/endpoints/chat/invocations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }] }),
    dispatcher: agent,
  });
  const body: unknown = await response.body.json();
  return { status: response.statusCode, retryAfter: response.headers['retry-after'], body };
}

/** Exactly CALLS successes; every other call a 429 with the reference body and Retry-After. */
function expectExactLimit(outcomes: Outcome[]): void {
  const allowed = outcomes.filter((outcome) => outcome.status === 200);
  const limited = outcomes.filter((outcome) => outcome.status === 429);
  expect(allowed).toHaveLength(CALLS);
  expect(limited).toHaveLength(REQUESTS - CALLS);
  for (const outcome of allowed) expect(outcome.body).toMatchObject({ object: 'chat.completion' });
  for (const outcome of limited) {
    expect(outcome.body).toEqual(EXCEEDED);
    const retryAfter = Number(outcome.retryAfter);
    expect(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60).toBe(true);
  }
}

describe('endpoint limits across processes', () => {
  it('accepts exactly `calls` per window across two workers without Redis', async () => {
    const gateway = startGateway(['--workers', '2']);
    const { url, pids } = await gateway.listening(2);
    const outcomes = await Promise.all(Array.from({ length: REQUESTS }, () => invoke(url)));
    expectExactLimit(outcomes);
    const served = await gateway.servedByPid(REQUESTS);
    // Counting per worker would let each worker that served CALLS or more accept CALLS.
    expect([...served.keys()].sort()).toEqual([...pids].sort());
    for (const count of served.values()) expect(count).toBeGreaterThanOrEqual(CALLS);
    expect(gateway.lines.filter((line) => line.msg.includes('counted per worker'))).toEqual([]);
  });

  it('accepts exactly `calls` per window across two processes sharing Redis', async () => {
    const first = startGateway(['--workers', '1'], { LLMGW_REDIS_URL: redis.url });
    const second = startGateway(['--workers', '1'], { LLMGW_REDIS_URL: redis.url });
    const urls = await Promise.all([first.listening(1), second.listening(1)]);
    const outcomes = await Promise.all(
      Array.from({ length: REQUESTS }, (_, index) => invoke(urls[index % 2]?.url ?? '')),
    );
    expectExactLimit(outcomes);
  });
});
