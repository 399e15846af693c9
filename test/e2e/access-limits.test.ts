import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CLI } from '../helpers/cli-process.js';
import { TestRedis } from '../helpers/redis.js';

// Client caps hold exactly when several processes serve one client: the counters live in the
// cluster primary (--workers) or in Redis (replicas), never in a worker.

const directory = mkdtempSync(join(tmpdir(), 'llmgw-access-'));
const KEYS = {
  probe: 'sk-probe-111',
  calls: 'sk-calls-222',
  tokens: 'sk-tokens-333',
  budget: 'sk-budget-444',
};
const CALLS = 5;
const REQUESTS = 30;
const TOKENS = 100;
/** 0.1 USD in micro-USD; chat is priced at 1000 / 2000 USD per million tokens (1000 / 2000 µUSD a token). */
const BUDGET_MICRO_USD = 100_000;

const CONFIG = `
endpoints:
  - name: chat
    endpoint_type: llm/v1/chat
    model: {provider: mock, config: {}}
    pricing: {input_per_million: 1000, output_per_million: 2000}
clients:
  - {name: probe, key: ${KEYS.probe}}
  - {name: calls, key: ${KEYS.calls}, limit: {calls: ${CALLS}, renewal_period: minute}}
  - {name: tokens, key: ${KEYS.tokens}, token_limit: {tokens: ${TOKENS}, renewal_period: hour}}
  - {name: budget, key: ${KEYS.budget}, budget: {usd: 0.1, renewal_period: day}}
`;

interface LogLine {
  pid: number;
  msg: string;
  url?: string;
  client?: string;
}

class GatewayProcess {
  readonly child: ChildProcess;
  readonly lines: LogLine[] = [];
  readonly text: string[] = [];
  #waiters: (() => void)[] = [];
  #buffer = '';

  constructor(args: string[], env: NodeJS.ProcessEnv) {
    const configPath = join(directory, 'access.yaml');
    writeFileSync(configPath, CONFIG);
    this.child = spawn(
      process.execPath,
      [CLI, 'start', '--port', '0', '--config-path', configPath, ...args],
      {
        env: { ...process.env, LLMGW_REDIS_URL: '', LLMGW_LOG_LEVEL: 'info', ...env },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    this.child.stdout?.on('data', (chunk: Buffer) => {
      this.#buffer += chunk.toString();
      const parts = this.#buffer.split('\n');
      this.#buffer = parts.pop() ?? '';
      for (const part of parts) {
        this.text.push(part);
        this.lines.push(JSON.parse(part) as LogLine);
      }
      for (const wake of this.#waiters.splice(0)) wake();
    });
    this.child.once('exit', () => {
      for (const wake of this.#waiters.splice(0)) wake();
    });
  }

  async linesWhere(test: (line: LogLine) => boolean, count: number): Promise<LogLine[]> {
    for (;;) {
      const found = this.lines.filter(test);
      if (found.length >= count) return found;
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        throw new Error(`llmgw exited: ${this.text.join('\n')}`);
      }
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  async listening(count: number): Promise<string> {
    const lines = await this.linesWhere((line) => line.msg.startsWith('llmgw listening'), count);
    return lines[0]?.url ?? '';
  }
}

const children: ChildProcess[] = [];
let redis: TestRedis;
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

function start(args: string[], env: NodeJS.ProcessEnv = {}): GatewayProcess {
  const gateway = new GatewayProcess(args, env);
  children.push(gateway.child);
  return gateway;
}

interface Outcome {
  status: number;
  body: {
    usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
    error?: string;
  };
}

/** One chat call on a fresh connection, so the cluster spreads calls over its workers. */
async function chat(url: string, key: string): Promise<Outcome> {
  const response = await request(`${url}/endpoints/chat/invocations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, connection: 'close' },
    body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }] }),
    dispatcher: agent,
  });
  return { status: response.statusCode, body: (await response.body.json()) as Outcome['body'] };
}

/** Calls one after another (each sees the usage of the last) and returns the statuses. */
async function sequentially(urls: string[], key: string, count: number): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  for (let index = 0; index < count; index += 1)
    outcomes.push(await chat(urls[index % urls.length] ?? '', key));
  return outcomes;
}

async function expectExactCaps(urls: string[]): Promise<void> {
  const probe = await chat(urls[0] ?? '', KEYS.probe);
  const usage = probe.body.usage ?? { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };
  expect(usage.total_tokens).toBeGreaterThan(0);

  const concurrent = await Promise.all(
    Array.from({ length: REQUESTS }, (_, index) => chat(urls[index % urls.length] ?? '', KEYS.calls)),
  );
  expect(concurrent.filter((outcome) => outcome.status === 200)).toHaveLength(CALLS);
  expect(concurrent.filter((outcome) => outcome.status === 429)).toHaveLength(REQUESTS - CALLS);

  // Admitted while the window is below its cap; each call adds the same usage.
  const tokenCalls = Math.ceil(TOKENS / usage.total_tokens);
  const tokens = await sequentially(urls, KEYS.tokens, tokenCalls + 3);
  expect(tokens.map((outcome) => outcome.status)).toEqual([
    ...Array<number>(tokenCalls).fill(200),
    ...Array<number>(3).fill(429),
  ]);

  const cost = usage.prompt_tokens * 1000 + usage.completion_tokens * 2000;
  const budgetCalls = Math.ceil(BUDGET_MICRO_USD / cost);
  const budget = await sequentially(urls, KEYS.budget, budgetCalls + 3);
  expect(budget.map((outcome) => outcome.status)).toEqual([
    ...Array<number>(budgetCalls).fill(200),
    ...Array<number>(3).fill(429),
  ]);
  expect(budget.at(-1)?.body.error).toMatch(
    /^Budget exhausted for client 'budget': 0\.1 USD per 1 day; renews in \d+ s$/,
  );
}

describe('client caps across processes', () => {
  it('hold exactly across two workers without Redis', async () => {
    const gateway = start(['--workers', '2']);
    const url = await gateway.listening(2);
    await expectExactCaps([url]);
    const served = await gateway.linesWhere(
      (line) => line.msg === 'request completed' && line.client === 'tokens',
      12,
    );
    // Both workers served the token client, so one worker's memory could not have held the count.
    expect(new Set(served.map((line) => line.pid)).size).toBe(2);
    for (const line of gateway.text) for (const key of Object.values(KEYS)) expect(line).not.toContain(key);
  });

  it('hold exactly across two gateways sharing Redis', async () => {
    const first = start(['--workers', '1'], { LLMGW_REDIS_URL: redis.url });
    const second = start(['--workers', '1'], { LLMGW_REDIS_URL: redis.url });
    const urls = await Promise.all([first.listening(1), second.listening(1)]);
    await expectExactCaps(urls);
  });
});
