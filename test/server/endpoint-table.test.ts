import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { parseConfig } from '../../src/config/load.js';
import { ProviderRegistry } from '../../src/providers/registry.js';
import { chatRequestSchema } from '../../src/schemas/chat.js';
import { buildSnapshot, EndpointTable } from '../../src/server/endpoint-table.js';
import { createGateway, type Gateway } from '../../src/server/start.js';
import { PoolSet } from '../../src/upstream/pool.js';
import { Upstream } from '../../src/upstream/request.js';
import { FakeUpstream, ManualStream, sseFrame } from '../fakes/fake-upstream.js';
import { chatChunks, chatCompletion } from '../fakes/openai.js';

const load = (yaml: string) => parseConfig(yaml, new ProviderRegistry(), 'test.yaml');

const MOCK_YAML = `
endpoints:
  - name: chat
    endpoint_type: llm/v1/chat
    model: {provider: mock, name: m1, config: {}}
    limit: {calls: 3, renewal_period: 5 minutes}
  - name: embeddings
    endpoint_type: llm/v1/embeddings
    model: {provider: mock, config: {}}
`;

function openAiYaml(name: string, base: string): string {
  return `
endpoints:
  - name: ${name}
    endpoint_type: llm/v1/chat
    model:
      provider: openai
      name: gpt-4o-mini
      config: {openai_api_key: sk-test, openai_api_base: ${base}/v1}
`;
}

function newUpstream(): { pools: PoolSet; upstream: Upstream } {
  const pools = new PoolSet({ connectTimeoutMs: 1000 });
  return { pools, upstream: new Upstream(pools, { timeoutSeconds: 5 }) };
}

describe('buildSnapshot', () => {
  it('resolves each endpoint limit once, at load', () => {
    const snapshot = buildSnapshot(load(MOCK_YAML), newUpstream().upstream);
    expect(snapshot.endpoints.get('chat')?.limit).toEqual({
      key: 'chat:300',
      calls: 3,
      windowMs: 300_000,
      message: 'Rate limit exceeded: 3 per 5 minute',
    });
    expect(snapshot.endpoints.get('embeddings')?.limit).toBeNull();
  });

  it('lists the endpoints in file order', () => {
    const snapshot = buildSnapshot(load(MOCK_YAML), newUpstream().upstream);
    expect(snapshot.list.map((endpoint) => endpoint.name)).toEqual(['chat', 'embeddings']);
  });
});

describe('EndpointTable', () => {
  it('swaps the snapshot whole and returns the previous one', () => {
    const { upstream } = newUpstream();
    const first = buildSnapshot(load(MOCK_YAML), upstream);
    const second = buildSnapshot(load(openAiYaml('other', 'http://127.0.0.1:9')), upstream);
    const table = new EndpointTable(first);
    const held = table.current;
    expect(table.swap(second)).toBe(first);
    expect(table.current).toBe(second);
    // A request that read the table before the swap still sees the whole old snapshot.
    expect([...held.endpoints.keys()]).toEqual(['chat', 'embeddings']);
    expect(held.openapi).toBe(first.openapi);
  });
});

/** A response no client will read: the test emits its `close` to end the request. */
function openResponse(): ServerResponse {
  return new ServerResponse(new IncomingMessage(new Socket()));
}

describe('EndpointTable.acquire', () => {
  function tableOfTwo() {
    const { upstream } = newUpstream();
    const first = buildSnapshot(load(MOCK_YAML), upstream);
    const second = buildSnapshot(load(MOCK_YAML.replace('name: m1', 'name: m2')), upstream);
    const retired: string[] = [];
    const table = new EndpointTable(first, () => retired.push('first'));
    return { table, first, second, retired };
  }

  it('returns the serving snapshot', () => {
    const { table, first, second } = tableOfTwo();
    expect(table.acquire(openResponse())).toBe(first);
    table.swap(second);
    expect(table.acquire(openResponse())).toBe(second);
  });

  it('retires a replaced snapshot at once when no request holds it', () => {
    const { table, second, retired } = tableOfTwo();
    table.swap(second);
    expect(retired).toEqual(['first']);
  });

  it('retires a replaced snapshot once the last request that acquired it closes', () => {
    const { table, second, retired } = tableOfTwo();
    const responses = [openResponse(), openResponse()];
    for (const response of responses) table.acquire(response);
    table.swap(second);
    responses[0]?.emit('close');
    expect(retired).toEqual([]);
    responses[1]?.emit('close');
    expect(retired).toEqual(['first']);
  });

  it('does not wait for requests that acquired the next snapshot', () => {
    const { table, second, retired } = tableOfTwo();
    const early = openResponse();
    table.acquire(early);
    table.swap(second, () => retired.push('second'));
    table.acquire(openResponse());
    early.emit('close');
    expect(retired).toEqual(['first']);
  });

  it('never retires the serving snapshot, however many requests close', () => {
    const { table, retired } = tableOfTwo();
    const response = openResponse();
    table.acquire(response);
    response.emit('close');
    expect(retired).toEqual([]);
  });
});

describe('PoolSet.track', () => {
  it('returns the origins a snapshot build asked for', () => {
    const { pools, upstream } = newUpstream();
    const { origins } = pools.track(() =>
      buildSnapshot(load(openAiYaml('chat', 'http://127.0.0.1:9')), upstream),
    );
    expect([...origins]).toEqual(['http://127.0.0.1:9']);
    expect(pools.track(() => buildSnapshot(load(MOCK_YAML), upstream)).origins.size).toBe(0);
  });
});

describe('Gateway.apply', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  async function gatewayFor(yaml: string): Promise<{ gateway: Gateway; url: string }> {
    const gateway = await createGateway(load(yaml), { timeoutSeconds: 5 });
    const url = await gateway.app.listen({ host: '127.0.0.1', port: 0 });
    cleanups.push(() => gateway.app.close());
    return { gateway, url };
  }

  it('serves the new endpoints to the next request', async () => {
    const { gateway } = await gatewayFor(MOCK_YAML);
    gateway.apply(load(MOCK_YAML.replace('name: m1', 'name: m2')));
    const response = await gateway.app.inject({
      method: 'POST',
      url: '/endpoints/chat/invocations',
      payload: { messages: [{ role: 'user', content: 'hi' }] },
    });
    expect(response.json()).toMatchObject({ model: 'm2' });
  });

  it('closes the pool of an origin no endpoint uses once its stream in flight has finished', async () => {
    const fake = await FakeUpstream.start();
    cleanups.push(() => fake.close());
    const stream = new ManualStream();
    fake.reply({ kind: 'sse-manual', stream });
    const { gateway, url } = await gatewayFor(openAiYaml('chat', fake.url));
    const response = await request(`${url}/endpoints/chat/invocations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }], stream: true }),
    });
    await stream.started();
    expect(response.statusCode).toBe(200);

    gateway.apply(load(MOCK_YAML));
    expect(gateway.pools.origins).toEqual([fake.url]);
    for (const chunk of chatChunks) stream.send(sseFrame(chunk));
    stream.send('data: [DONE]\n\n');
    stream.end();
    const body = await response.body.text();
    expect(body.split('\n\n').filter((frame) => frame !== '')).toHaveLength(chatChunks.length);
    for (let attempt = 0; attempt < 200 && gateway.pools.origins.length > 0; attempt += 1) {
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(gateway.pools.origins).toEqual([]);
  });

  it('keeps a pool open for a request admitted on a snapshot that re-added its origin, across overlapping reloads', async () => {
    const fake = await FakeUpstream.start();
    cleanups.push(() => fake.close());
    fake.replyAlways({ kind: 'json', body: chatCompletion });
    const withX = load(openAiYaml('chat', fake.url));
    const withoutX = load(MOCK_YAML);
    const { gateway } = await gatewayFor(openAiYaml('chat', fake.url));
    // S0 has X; S1 drops it; S2 adds it back; S3 drops it again.
    const onS0 = openResponse();
    gateway.table.acquire(onS0);
    gateway.apply(withoutX);
    gateway.apply(withX);
    const onS2 = openResponse();
    const s2 = gateway.table.acquire(onS2);
    gateway.apply(withoutX);
    onS0.emit('close');
    expect(gateway.pools.origins).toEqual([fake.url]);

    // The request admitted on S2 (say, after waiting on Redis) dispatches only now.
    const context = { signal: new AbortController().signal, log: gateway.app.log };
    const body = chatRequestSchema.parse({ messages: [{ role: 'user', content: 'hi' }] });
    const answer = await s2.endpoints.get('chat')?.adapter.chat(body, context);
    expect(answer?.id).toBe(chatCompletion.id);
    expect(fake.requests.map((recorded) => recorded.path)).toEqual(['/v1/chat/completions']);
    onS2.emit('close');
    expect(gateway.pools.origins).toEqual([]);
  });

  it('keeps the pool of an origin a reload still uses', async () => {
    const { gateway } = await gatewayFor(openAiYaml('chat', 'http://127.0.0.1:9'));
    const before = gateway.pools.get('http://127.0.0.1:9');
    gateway.apply(load(openAiYaml('renamed', 'http://127.0.0.1:9')));
    await new Promise((resolve) => setImmediate(resolve));
    expect(gateway.pools.origins).toEqual(['http://127.0.0.1:9']);
    expect(gateway.pools.get('http://127.0.0.1:9')).toBe(before);
  });
});
