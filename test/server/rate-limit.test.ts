import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { request } from 'undici';
import { parseConfig } from '../../src/config/load.js';
import { limitSchema } from '../../src/config/schema.js';
import { ClusterCounterStore } from '../../src/access/cluster-counter-store.js';
import { ProviderRegistry } from '../../src/providers/registry.js';
import { planLimit } from '../../src/server/rate-limit.js';
import { createGateway, type Gateway, type GatewayOptions } from '../../src/server/start.js';
import { FakePrimary } from '../fakes/cluster-primary.js';
import { FakeUpstream } from '../fakes/fake-upstream.js';
import { chatCompletion } from '../fakes/openai.js';
import { injectPost } from '../helpers/http.js';

const HI = [{ role: 'user', content: 'hi' }];

function configYaml(upstreamUrl: string, chatLimit: string, extra = ''): string {
  return `
endpoints:
  - name: chat
    endpoint_type: llm/v1/chat
    model:
      provider: openai
      name: gpt-4o-mini
      config:
        openai_api_key: sk-test
        openai_api_base: ${upstreamUrl}/v1
${chatLimit}
  - name: unlimited
    endpoint_type: llm/v1/chat
    model:
      provider: mock
      config: {}
${extra}`;
}

const LIMIT_2_PER_MINUTE = `    limit:
      calls: 2
      renewal_period: minute`;

function load(yaml: string) {
  return parseConfig(yaml, new ProviderRegistry(), 'test.yaml');
}

let fake: FakeUpstream;
let gateway: Gateway;

beforeAll(async () => {
  fake = await FakeUpstream.start();
  fake.replyAlways({ kind: 'json', body: chatCompletion });
});

afterAll(async () => {
  await fake.close();
});

const started: Gateway[] = [];

async function startWith(limit: string, options: GatewayOptions = {}): Promise<void> {
  gateway = await createGateway(load(configYaml(fake.url, limit)), { timeoutSeconds: 5, ...options });
  started.push(gateway);
}

afterEach(async () => {
  vi.useRealTimers();
  for (const each of started.splice(0)) await each.app.close();
});

function post(url: string, body: unknown) {
  return injectPost(gateway.app, url, body);
}

const invoke = (prefix: '/endpoints' | '/gateway' = '/endpoints') =>
  post(`${prefix}/chat/invocations`, { messages: HI });
const invokeV1 = () => post('/v1/chat/completions', { model: 'chat', messages: HI });

describe('planLimit', () => {
  it.each([
    [{ calls: 10, renewal_period: 'minute' }, 'chat:60', 60_000, 'Rate limit exceeded: 10 per 1 minute'],
    [{ calls: 2, renewal_period: '5 minutes' }, 'chat:300', 300_000, 'Rate limit exceeded: 2 per 5 minute'],
    [{ calls: 1, renewal_period: 'Hour' }, 'chat:3600', 3_600_000, 'Rate limit exceeded: 1 per 1 hour'],
    [{ calls: 0, renewal_period: '10second' }, 'chat:10', 10_000, 'Rate limit exceeded: 0 per 10 second'],
  ])('resolves %j to its key, window and 429 message', (raw, key, windowMs, message) => {
    const plan = planLimit('chat', limitSchema.parse(raw));
    expect(plan).toEqual({ key, calls: raw.calls, windowMs, message });
  });

  it('resolves no limit to null', () => {
    expect(planLimit('chat', null)).toBeNull();
  });
});

describe('rate limits on invocations', () => {
  beforeEach(async () => {
    await startWith(LIMIT_2_PER_MINUTE);
    fake.requests.length = 0;
  });

  it('answers the third call in the minute with the reference 429 and never calls the provider', async () => {
    expect((await invoke()).statusCode).toBe(200);
    expect((await invoke()).statusCode).toBe(200);
    const third = await invoke();
    expect(third.statusCode).toBe(429);
    expect(third.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(third.json()).toEqual({ error: 'Rate limit exceeded: 2 per 1 minute' });
    expect(fake.requests).toHaveLength(2);
  });

  it('counts once per endpoint across /endpoints, /gateway and /v1', async () => {
    expect((await invoke('/endpoints')).statusCode).toBe(200);
    expect((await invoke('/gateway')).statusCode).toBe(200);
    const v1 = await invokeV1();
    expect(v1.statusCode).toBe(429);
    expect(v1.json()).toEqual({
      error: {
        message: 'Rate limit exceeded: 2 per 1 minute',
        type: 'rate_limit_error',
        param: null,
        code: 'rate_limited',
      },
    });
    const legacy = await invoke('/gateway');
    expect(legacy.statusCode).toBe(429);
    expect(legacy.json()).toEqual({ error: 'Rate limit exceeded: 2 per 1 minute' });
  });

  it('sends Retry-After and the rate-limit headers with the 429', async () => {
    await invokeV1();
    await invokeV1();
    const response = await invoke();
    expect(response.statusCode).toBe(429);
    expect(response.headers['retry-after']).toBe('60');
    expect(response.headers['x-ratelimit-limit']).toBe('2');
    expect(response.headers['x-ratelimit-remaining']).toBe('0');
    expect(response.headers['x-ratelimit-reset']).toBe('60');
  });

  it('sends the rate-limit headers on an allowed call', async () => {
    const response = await invoke();
    expect(response.statusCode).toBe(200);
    expect(response.headers['x-ratelimit-limit']).toBe('2');
    expect(response.headers['x-ratelimit-remaining']).toBe('1');
    expect(response.headers['x-ratelimit-reset']).toBe('60');
    expect(response.headers['retry-after']).toBeUndefined();
  });

  it('sends the rate-limit headers on a streamed answer', async () => {
    gateway.apply(load(configYaml(fake.url, '', '    limit: {calls: 5, renewal_period: minute}')));
    const url = await gateway.app.listen({ host: '127.0.0.1', port: 0 });
    const response = await request(`${url}/endpoints/unlimited/invocations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ messages: HI, stream: true }),
    });
    await response.body.text();
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(response.headers['x-ratelimit-limit']).toBe('5');
    expect(response.headers['x-ratelimit-remaining']).toBe('4');
  });

  it('does not count a request whose body fails validation', async () => {
    expect((await post('/endpoints/chat/invocations', { messages: 'nope' })).statusCode).toBe(422);
    expect((await post('/v1/chat/completions', { model: 'chat' })).statusCode).toBe(422);
    expect((await invoke()).statusCode).toBe(200);
    expect((await invoke()).statusCode).toBe(200);
  });

  it('does not count a /v1 request for another endpoint', async () => {
    for (let call = 0; call < 3; call += 1) {
      const response = await post('/v1/chat/completions', { model: 'unlimited', messages: HI });
      expect(response.statusCode).toBe(200);
      expect(response.headers['x-ratelimit-limit']).toBeUndefined();
    }
    expect((await invoke()).statusCode).toBe(200);
  });

  it('keeps the count through a reload that leaves the endpoint limit unchanged', async () => {
    await invoke();
    await invoke();
    gateway.apply(
      load(
        configYaml(
          fake.url,
          LIMIT_2_PER_MINUTE,
          '  - {name: added, endpoint_type: llm/v1/chat, model: {provider: mock, config: {}}}',
        ),
      ),
    );
    expect(gateway.table.current.endpoints.has('added')).toBe(true);
    expect((await invoke()).json()).toEqual({ error: 'Rate limit exceeded: 2 per 1 minute' });
  });

  it('applies a raised calls count at once, keeping the calls already made', async () => {
    await invoke();
    await invoke();
    gateway.apply(load(configYaml(fake.url, '    limit: {calls: 3, renewal_period: minute}')));
    expect((await invoke()).statusCode).toBe(200);
    expect((await invoke()).json()).toEqual({ error: 'Rate limit exceeded: 3 per 1 minute' });
  });

  it('starts a fresh count when the renewal period changes', async () => {
    await invoke();
    await invoke();
    gateway.apply(load(configYaml(fake.url, '    limit: {calls: 1, renewal_period: 2 minutes}')));
    expect((await invoke()).statusCode).toBe(200);
    expect((await invoke()).json()).toEqual({ error: 'Rate limit exceeded: 1 per 2 minute' });
  });

  it('stops limiting an endpoint whose limit a reload removed', async () => {
    await invoke();
    await invoke();
    gateway.apply(load(configYaml(fake.url, '')));
    expect((await invoke()).statusCode).toBe(200);
  });
});

describe('rate limit windows', () => {
  it('rejects every request when calls is 0', async () => {
    await startWith('    limit: {calls: 0, renewal_period: minute}');
    const response = await invoke();
    expect(response.statusCode).toBe(429);
    expect(response.json()).toEqual({ error: 'Rate limit exceeded: 0 per 1 minute' });
  });

  it('accepts calls again once the window that began with the first call has passed', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    await startWith(LIMIT_2_PER_MINUTE);
    await invoke();
    vi.advanceTimersByTime(30_000);
    await invoke();
    expect((await invoke()).statusCode).toBe(429);
    vi.advanceTimersByTime(29_000);
    const stillLimited = await invoke();
    expect(stillLimited.statusCode).toBe(429);
    expect(stillLimited.headers['retry-after']).toBe('1');
    vi.advanceTimersByTime(1_000);
    expect((await invoke()).statusCode).toBe(200);
  });
});

describe('rate limits over a given counter store', () => {
  it('asks the cluster primary once per call to a limited endpoint and never for an unlimited one', async () => {
    const channel = new FakePrimary().connect();
    await startWith(LIMIT_2_PER_MINUTE, {
      counterStore: (log) => new ClusterCounterStore({ channel, log }),
    });
    for (let call = 0; call < 3; call += 1) {
      const response = await post('/endpoints/unlimited/invocations', { messages: HI });
      expect(response.statusCode).toBe(200);
    }
    expect(channel.sent).toEqual([]);
    expect((await invoke()).statusCode).toBe(200);
    expect((await invoke()).statusCode).toBe(200);
    expect((await invoke()).json()).toEqual({ error: 'Rate limit exceeded: 2 per 1 minute' });
    expect(channel.sent).toEqual(
      [1, 2, 3].map((id) => ({ llmgw: 'count', id, key: 'rate-limit:chat:60', windowMs: 60_000, amount: 1 })),
    );
  });

  it('lets a call through without rate-limit headers when the store fails', async () => {
    await startWith(LIMIT_2_PER_MINUTE, {
      counterStore: () => ({ increment: () => Promise.reject(new Error('store down')) }),
    });
    for (let call = 0; call < 3; call += 1) {
      const response = await invoke();
      expect(response.statusCode).toBe(200);
      expect(response.headers['x-ratelimit-limit']).toBeUndefined();
    }
  });
});
