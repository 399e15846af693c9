import { once } from 'node:events';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ReloadFailure } from '../../src/config/watch.js';
import { startGateway, type RunningGateway } from '../../src/server/start.js';
import { FakeUpstream, ManualStream, sseFrame } from '../fakes/fake-upstream.js';
import { chatChunks, gatewayChatChunks } from '../fakes/openai.js';

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
    const warnings = logs
      .filter((record) => record.level === 40)
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
