import { once } from 'node:events';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import type { ReloadFailure } from '../../src/config/watch.js';
import { ProviderRegistry } from '../../src/providers/registry.js';
import { startGateway, type RunningGateway } from '../../src/server/start.js';
import { FakeUpstream, ManualStream, sseFrame, type RecordedRequest } from '../fakes/fake-upstream.js';
import { chatChunks, chatCompletion, chatStreamFrames, gatewayChatChunks } from '../fakes/openai.js';

const directory = mkdtempSync(join(tmpdir(), 'llmgw-reload-'));
const HI = [{ role: 'user', content: 'hi' }];

interface LogRecord {
  level: number;
  msg: string;
  endpoint?: string;
  field?: string;
  line?: number;
}

const running: RunningGateway[] = [];
let fake: FakeUpstream;

beforeAll(async () => {
  fake = await FakeUpstream.start();
});

afterEach(async () => {
  for (const gateway of running.splice(0)) await gateway.close();
});

afterAll(async () => {
  await fake.close();
  rmSync(directory, { recursive: true, force: true });
});

/** Version `version` of the config: `stable` answers with model `m<version>`, plus `extra<version>`. */
function versionYaml(version: number): string {
  return `
endpoints:
  - name: stable
    endpoint_type: llm/v1/chat
    model: {provider: mock, name: m${version}, config: {}}
  - name: extra${version}
    endpoint_type: llm/v1/embeddings
    model: {provider: mock, config: {dimensions: ${(version % 4) + 1}}}
`;
}

async function start(
  name: string,
  yaml: string,
): Promise<{ gateway: RunningGateway; path: string; logs: LogRecord[] }> {
  const path = join(directory, `${name}.yaml`);
  writeFileSync(path, yaml);
  const logs: LogRecord[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n'))
        if (line !== '') logs.push(JSON.parse(line) as LogRecord);
      done();
    },
  });
  const gateway = await startGateway({
    configPath: path,
    host: '127.0.0.1',
    port: 0,
    registry: new ProviderRegistry(),
    timeoutSeconds: 5,
    reloadDebounceMs: 50,
    logger: { level: 'info', stream },
  });
  running.push(gateway);
  return { gateway, path, logs };
}

/** Replaces the file the way editors and deploy tools do: alternately in place and by rename. */
function rewrite(path: string, yaml: string, byRename: boolean): void {
  if (!byRename) {
    writeFileSync(path, yaml);
    return;
  }
  const temporary = `${path}.tmp`;
  writeFileSync(temporary, yaml);
  renameSync(temporary, path);
}

async function post(url: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await request(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.statusCode, json: (await response.body.json()) as Record<string, unknown> };
}

async function status(url: string): Promise<number> {
  const response = await request(url);
  await response.body.dump();
  return response.statusCode;
}

/** Version of the config a gateway serves, read through the API and the OpenAPI document. */
async function servesVersion(url: string, version: number): Promise<boolean> {
  const [added, removed, chat, openapi] = await Promise.all([
    status(`${url}/api/2.0/endpoints/extra${version}`),
    status(`${url}/api/2.0/endpoints/extra${version - 1}`),
    post(`${url}/endpoints/stable/invocations`, { messages: HI }),
    request(`${url}/openapi.json`).then((response) => response.body.json() as Promise<{ paths: object }>),
  ]);
  return (
    added === 200 &&
    removed === 404 &&
    chat.json.model === `m${version}` &&
    `/endpoints/extra${version}/invocations` in openapi.paths
  );
}

describe('hot reload under load', () => {
  it('applies 20 rewrites while clients keep calling, and no request fails', async () => {
    const { gateway, path } = await start('load', versionYaml(0));
    const failures: string[] = [];
    let isDone = false;
    let calls = 0;

    // Each client checks that the versions it sees never go backwards (no half-old state).
    const client = async (index: number): Promise<void> => {
      let lastVersion = 0;
      for (let call = 0; call < 20_000 && !isDone; call += 1) {
        const useV1 = (call + index) % 2 === 0;
        try {
          const { status: code, json } = useV1
            ? await post(`${gateway.url}/v1/chat/completions`, { model: 'stable', messages: HI })
            : await post(`${gateway.url}/endpoints/stable/invocations`, { messages: HI });
          const version = Number(String(json.model).slice(1));
          if (code !== 200) failures.push(`${code} ${JSON.stringify(json)}`);
          else if (version < lastVersion) failures.push(`saw m${version} after m${lastVersion}`);
          lastVersion = Math.max(lastVersion, version);
        } catch (error) {
          failures.push(String(error));
        }
        calls += 1;
      }
    };
    const clients = [0, 1, 2, 3].map((index) => client(index));

    for (let version = 1; version <= 20; version += 1) {
      rewrite(path, versionYaml(version), version % 2 === 0);
      const deadline = Date.now() + 3000;
      let isVisible = false;
      while (!isVisible && Date.now() < deadline) {
        isVisible = await servesVersion(gateway.url, version);
        if (!isVisible) await delay(10);
      }
      expect(isVisible, `version ${version} visible within the watcher's latency`).toBe(true);
    }
    isDone = true;
    await Promise.all(clients);

    expect(failures).toEqual([]);
    expect(calls).toBeGreaterThan(100);
  });
});

const WHOLE_STREAM = gatewayChatChunks.map((chunk) => `data: ${JSON.stringify(chunk)}\n\n`).join('');

/**
 * Version `version` of a config whose two endpoints move between origins A and B: `fast`
 * (rate-limited, so requests wait on the limiter between taking a snapshot and dispatching)
 * alternates every version, `slow` every third, so each origin is dropped and taken back.
 */
function originsYaml(version: number, a: string, b: string): string {
  const endpoint = (name: string, origin: string, limit: string) => `
  - name: ${name}
    endpoint_type: llm/v1/chat
    model:
      provider: openai
      name: gpt-4o-mini
      config: {openai_api_key: sk-test, openai_api_base: ${origin}/v1}${limit}`;
  const fast = version % 2 === 0 ? a : b;
  const slow = version % 3 === 0 ? a : b;
  return `endpoints:${endpoint('fast', fast, '\n    limit: {calls: 1000000, renewal_period: minute}')}${endpoint('slow', slow, '')}\n`;
}

/** Answers unary calls at once and holds streams until the test releases them. */
class HoldingUpstreams {
  readonly held: { stream: ManualStream; version: number; origin: string }[] = [];
  version = 0;
  isReleasingAll = false;

  handlerFor(origin: string) {
    return (recorded: RecordedRequest) => {
      if ((recorded.body as { stream?: boolean }).stream !== true)
        return { kind: 'json', body: chatCompletion } as const;
      if (this.isReleasingAll) return { kind: 'sse', events: chatStreamFrames() } as const;
      const stream = new ManualStream();
      this.held.push({ stream, version: this.version, origin });
      return { kind: 'sse-manual', stream } as const;
    };
  }

  /** The origins with a stream still open. */
  get busyOrigins(): string[] {
    return [...new Set(this.held.map((held) => held.origin))];
  }

  /** Ends the streams that arrived before `version`. */
  releaseBefore(version: number): void {
    for (const entry of this.held.filter((held) => held.version < version)) {
      for (const frame of chatStreamFrames()) entry.stream.send(frame);
      entry.stream.end();
    }
    this.held.splice(0, this.held.length, ...this.held.filter((held) => held.version >= version));
  }
}

describe('hot reload that moves endpoints between origins', () => {
  it('fails no request while overlapping reloads drop and re-add origins, and closes the pools left unused', async () => {
    const upstreams = new HoldingUpstreams();
    const [a, b] = await Promise.all([FakeUpstream.start(), FakeUpstream.start()]);
    for (const fake of [a, b]) fake.replyAlways(upstreams.handlerFor(fake.url));
    const { gateway, path } = await start('origins', originsYaml(0, a.url, b.url));
    const registry = new ProviderRegistry();
    const failures: string[] = [];
    const closedTooEarly: string[] = [];
    const completed = { fast: 0, slow: 0 };
    let isDone = false;
    let onCompleted: (() => void) | null = null;

    const fastClient = async (index: number): Promise<void> => {
      for (let call = 0; !isDone; call += 1) {
        try {
          const { status: code, json } =
            (call + index) % 2 === 0
              ? await post(`${gateway.url}/v1/chat/completions`, { model: 'fast', messages: HI })
              : await post(`${gateway.url}/endpoints/fast/invocations`, { messages: HI });
          if (code !== 200 || json.id !== chatCompletion.id) failures.push(`${code} ${JSON.stringify(json)}`);
        } catch (error) {
          failures.push(String(error));
        }
        completed.fast += 1;
        onCompleted?.();
      }
    };
    const slowClient = async (): Promise<void> => {
      while (!isDone) {
        try {
          const response = await request(`${gateway.url}/endpoints/slow/invocations`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ messages: HI, stream: true }),
          });
          const text = await response.body.text();
          if (response.statusCode !== 200 || text !== WHOLE_STREAM)
            failures.push(`${response.statusCode} ${text}`);
        } catch (error) {
          failures.push(String(error));
        }
        completed.slow += 1;
      }
    };
    /** Resolves once `count` more fast requests have completed. */
    const fastCompletions = (count: number) => {
      const target = completed.fast + count;
      return new Promise<void>((resolve) => {
        onCompleted = () => {
          if (completed.fast < target) return;
          onCompleted = null;
          resolve();
        };
      });
    };

    const clients = [0, 1, 2].map((index) => fastClient(index)).concat([0, 1, 2].map(() => slowClient()));
    const lastVersion = 36;
    for (let version = 1; version <= lastVersion; version += 1) {
      gateway.apply(parseConfig(originsYaml(version, a.url, b.url), registry, path));
      upstreams.version = version;
      // A stream stays open across two more swaps, while its origin may be dropped and re-added.
      upstreams.releaseBefore(version - 2);
      await fastCompletions(3);
      for (const origin of upstreams.busyOrigins) {
        if (!gateway.pools.origins.includes(origin)) closedTooEarly.push(`v${version}: ${origin}`);
      }
    }
    isDone = true;
    upstreams.isReleasingAll = true;
    upstreams.releaseBefore(Number.POSITIVE_INFINITY);
    await Promise.all(clients);

    expect(failures).toEqual([]);
    expect(closedTooEarly).toEqual([]);
    expect(completed.fast).toBeGreaterThanOrEqual(3 * lastVersion);
    expect(completed.slow).toBeGreaterThan(lastVersion / 2);
    // The last version uses only A: B's pool closes once the requests holding it have closed.
    for (let turn = 0; turn < 200 && gateway.pools.origins.length > 1; turn += 1) {
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(gateway.pools.origins).toEqual([a.url]);
    await Promise.all([a.close(), b.close()]);
  });
});

describe('hot reload', () => {
  it('lets a stream started before a reload that removed its endpoint finish normally', async () => {
    const streamerYaml = `
endpoints:
  - name: streamer
    endpoint_type: llm/v1/chat
    model:
      provider: openai
      name: gpt-4o-mini
      config: {openai_api_key: sk-test, openai_api_base: ${fake.url}/v1}
`;
    const { gateway, path } = await start('stream', streamerYaml);
    const stream = new ManualStream();
    fake.reply({ kind: 'sse-manual', stream });
    const response = await request(`${gateway.url}/endpoints/streamer/invocations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ messages: HI, stream: true }),
    });
    await stream.started();
    stream.send(sseFrame(chatChunks[0]));

    const reloaded = once(gateway.watcher!, 'reloaded');
    writeFileSync(path, versionYaml(1));
    await reloaded;
    expect(await status(`${gateway.url}/api/2.0/endpoints/streamer`)).toBe(404);

    for (const chunk of chatChunks.slice(1)) stream.send(sseFrame(chunk));
    stream.send('data: [DONE]\n\n');
    stream.end();
    expect(response.statusCode).toBe(200);
    expect(await response.body.text()).toBe(
      gatewayChatChunks.map((chunk) => `data: ${JSON.stringify(chunk)}\n\n`).join(''),
    );
  });

  it('keeps serving the old config when the new file is invalid, and logs each error with endpoint, field and line', async () => {
    const { gateway, path, logs } = await start('invalid', versionYaml(1));
    const failed = once(gateway.watcher!, 'reload-failed') as Promise<[ReloadFailure]>;
    writeFileSync(
      path,
      `endpoints:
  - name: first
    endpoint_type: llm/v1/chat
    model: {provider: nope, config: {}}
  - name: second
    endpoint_type: llm/v1/chat
    model: {provider: mock, config: {}}
    limit: {calls: 1, renewal_period: fortnight}
`,
    );
    await failed;
    // The startup line that says the gateway is open (no clients configured) is not about reload.
    const warnings = logs
      .filter((record) => record.level === 40 && !record.msg.startsWith('No clients are configured'))
      .map(({ msg, endpoint, field, line }) => ({ msg, endpoint, field, line }));
    expect(warnings).toEqual([
      {
        msg: `Invalid configuration: ${path}:4:23 endpoint 'first' at endpoints[0].model.provider: The provider 'nope' is not supported.`,
        endpoint: 'first',
        field: 'endpoints[0].model.provider',
        line: 4,
      },
      {
        msg: `Invalid configuration: ${path}:8:39 endpoint 'second' at endpoints[1].limit.renewal_period: Failed to parse the rate limit configuration.Please make sure limit.calls is a positive number andlimit.renewal_period is a right granularity`,
        endpoint: 'second',
        field: 'endpoints[1].limit.renewal_period',
        line: 8,
      },
      {
        msg: 'The running configuration keeps serving',
        endpoint: undefined,
        field: undefined,
        line: undefined,
      },
    ]);
    const chat = await post(`${gateway.url}/endpoints/stable/invocations`, { messages: HI });
    expect(chat.status).toBe(200);
    expect(chat.json.model).toBe('m1');
  });

  it('logs a successful reload with the endpoints now served', async () => {
    const { gateway, path, logs } = await start('logged', versionYaml(1));
    const reloaded = once(gateway.watcher!, 'reloaded');
    writeFileSync(path, versionYaml(2));
    await reloaded;
    expect(logs.map((record) => record.msg)).toContain(
      'Configuration updated: serving 2 endpoint(s): stable, extra2',
    );
  });
});
