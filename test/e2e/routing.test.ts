import { createServer } from 'node:net';
import { once } from 'node:events';
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { ProviderRegistry } from '../../src/providers/registry.js';
import {
  anthropicError,
  anthropicMessage,
  messageStart,
  OVERLOADED_EVENT,
  textStream,
} from '../fakes/anthropic.js';
import { FakeUpstream, sseFrame } from '../fakes/fake-upstream.js';
import {
  chatChunks,
  chatCompletion,
  chatStreamFrames,
  gatewayChatChunks,
  rateLimitError,
} from '../fakes/openai.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { invokeEndpoint, postJson } from '../helpers/http.js';
import { allEvents } from '../helpers/sse.js';

const HI = { messages: [{ role: 'user', content: 'hi' }] };
const CLOCK_SECONDS = 1677858242;

/** The gateway's answer for anthropicMessage() with the clock pinned. */
const ANTHROPIC_ANSWER = {
  id: 'msg_013Zva2CMHLNnXjNJJKqJ2EF',
  object: 'chat.completion',
  created: CLOCK_SECONDS,
  model: 'claude-2.1',
  choices: [
    {
      index: 0,
      message: { role: 'assistant', content: 'Response message', tool_calls: null, refusal: null },
      finish_reason: 'stop',
    },
  ],
  usage: { prompt_tokens: 10, completion_tokens: 25, total_tokens: 35 },
};

let openai: FakeUpstream;
let anthropic: FakeUpstream;
let gateway: TestGateway;
let closedPort: number;

function openAiEndpoint(name: string, base: string, extra = ''): string {
  return `  - name: ${name}
    endpoint_type: llm/v1/chat
    model: {provider: openai, name: gpt-4o-mini, config: {openai_api_key: sk-test, openai_api_base: "${base}/v1"}}
${extra}`;
}

function gatewayYaml(routes: string): string {
  return `endpoints:
${openAiEndpoint('chat-openai', openai.url)}
${openAiEndpoint('chat-slow', openai.url, '    timeout_seconds: 0.2\n')}
${openAiEndpoint('chat-dead', `http://127.0.0.1:${closedPort}`)}
${openAiEndpoint('chat-retry', openai.url, '    retry: {attempts: 2, backoff_ms: 0}\n')}
${openAiEndpoint('chat-limited', openai.url, '    limit: {calls: 1, renewal_period: minute}\n')}
  - name: chat-anthropic
    endpoint_type: llm/v1/chat
    model: {provider: anthropic, name: claude-2.1, config: {anthropic_api_key: sk-ant, anthropic_api_base: "${anthropic.url}/v1"}}
routes:
${routes}`;
}

function fallbackRoute(name: string, destinations: string[]): string {
  return `  - name: ${name}
    task_type: llm/v1/chat
    routing_strategy: FALLBACK
    destinations: [${destinations.map((destination) => `{name: ${destination}}`).join(', ')}]
`;
}

const ROUTES = [
  fallbackRoute('chat', ['chat-openai', 'chat-anthropic']),
  fallbackRoute('dead-first', ['chat-dead', 'chat-anthropic']),
  fallbackRoute('slow-first', ['chat-slow', 'chat-anthropic']),
  fallbackRoute('claude-first', ['chat-anthropic', 'chat-openai']),
  fallbackRoute('limited-first', ['chat-limited', 'chat-anthropic']),
  `  - name: split
    task_type: llm/v1/chat
    destinations: [{name: chat-anthropic, traffic_percentage: 100}, {name: chat-openai, traffic_percentage: 0}]
`,
].join('');

beforeAll(async () => {
  [openai, anthropic] = await Promise.all([FakeUpstream.start(), FakeUpstream.start()]);
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  closedPort = (server.address() as { port: number }).port;
  server.close();
  await once(server, 'close');
  gateway = await startTestGateway(gatewayYaml(ROUTES));
});

afterAll(async () => {
  await gateway.close();
  await Promise.all([openai.close(), anthropic.close()]);
});

beforeEach(() => {
  vi.spyOn(Date, 'now').mockReturnValue(CLOCK_SECONDS * 1000);
});

afterEach(() => {
  vi.restoreAllMocks();
  openai.requests.length = 0;
  anthropic.requests.length = 0;
});

const rateLimited = { kind: 'json', status: 429, body: rateLimitError } as const;
const unavailable = { kind: 'json', status: 503, body: { error: { message: 'down' } } } as const;

describe('FALLBACK routes', () => {
  it.each([
    ['answers 503', unavailable],
    ['answers 429', rateLimited],
  ])('serves from the second destination when the first %s', async (_name, reply) => {
    openai.reply(reply);
    anthropic.reply({ kind: 'json', body: anthropicMessage() });
    const response = await invokeEndpoint(gateway.url, 'chat', HI);
    expect(response.status).toBe(200);
    expect(response.headers.get('x-llmgw-endpoint')).toBe('chat-anthropic');
    expect(await response.json()).toEqual(ANTHROPIC_ANSWER);
    expect([openai.requests.length, anthropic.requests.length]).toEqual([1, 1]);
  });

  it('serves from the second destination when the first refuses the connection', async () => {
    anthropic.reply({ kind: 'json', body: anthropicMessage() });
    const response = await invokeEndpoint(gateway.url, 'dead-first', HI);
    expect(response.headers.get('x-llmgw-endpoint')).toBe('chat-anthropic');
    expect(await response.json()).toEqual(ANTHROPIC_ANSWER);
  });

  it('serves from the second destination when the first times out', async () => {
    openai.reply({ kind: 'hang' });
    anthropic.reply({ kind: 'json', body: anthropicMessage() });
    const response = await invokeEndpoint(gateway.url, 'slow-first', HI);
    expect(response.headers.get('x-llmgw-endpoint')).toBe('chat-anthropic');
    expect(await response.json()).toEqual(ANTHROPIC_ANSWER);
    await openai.aborted();
  });

  it("applies a destination's own limit, moving on to the next when it is used up", async () => {
    openai.reply({ kind: 'json', body: chatCompletion });
    anthropic.reply({ kind: 'json', body: anthropicMessage() });
    const first = await invokeEndpoint(gateway.url, 'limited-first', HI);
    expect(first.headers.get('x-llmgw-endpoint')).toBe('chat-limited');
    await first.body?.cancel();
    const second = await invokeEndpoint(gateway.url, 'limited-first', HI);
    expect(second.status).toBe(200);
    expect(second.headers.get('x-llmgw-endpoint')).toBe('chat-anthropic');
    expect(second.headers.get('x-ratelimit-remaining')).toBeNull();
    expect(await second.json()).toEqual(ANTHROPIC_ANSWER);
    expect([openai.requests.length, anthropic.requests.length]).toEqual([1, 1]);
  });

  it('sends an upstream 400 to the client without trying the next destination', async () => {
    openai.reply({ kind: 'json', status: 400, body: { error: { message: 'bad max_tokens' } } });
    const response = await invokeEndpoint(gateway.url, 'chat', HI);
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ detail: 'bad max_tokens' });
    expect(anthropic.requests).toEqual([]);
  });

  it("gives the last destination's status and message when every destination fails", async () => {
    openai.reply(unavailable);
    anthropic.reply({
      kind: 'json',
      status: 500,
      body: anthropicError('api_error', 'Internal server error'),
    });
    const response = await invokeEndpoint(gateway.url, 'chat', HI);
    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({ detail: 'Internal server error' });
  });

  it('streams from the second destination when the first fails before its first chunk', async () => {
    openai.reply(unavailable);
    anthropic.reply({ kind: 'sse', events: textStream('msg_1') });
    const response = await invokeEndpoint(gateway.url, 'chat', { ...HI, stream: true });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-llmgw-endpoint')).toBe('chat-anthropic');
    const events = (await allEvents(response)) as { choices: { delta: { content: string | null } }[] }[];
    expect(events.map((event) => event.choices[0]?.delta.content)).toEqual(['', 'Hello', '!', null]);
  });

  it("falls back when the first stream's first event is Anthropic's overloaded_error", async () => {
    anthropic.reply({ kind: 'sse', events: [messageStart('msg_1'), OVERLOADED_EVENT] });
    openai.reply({ kind: 'sse', events: chatStreamFrames() });
    const response = await invokeEndpoint(gateway.url, 'claude-first', { ...HI, stream: true });
    expect(response.headers.get('x-llmgw-endpoint')).toBe('chat-openai');
    expect(await allEvents(response)).toEqual(gatewayChatChunks);
  });

  it('ends a stream that fails after its first chunk with the error event, without falling back', async () => {
    openai.reply({ kind: 'sse-then-drop', events: [sseFrame(chatChunks[0])] });
    const response = await invokeEndpoint(gateway.url, 'chat', { ...HI, stream: true });
    expect(response.headers.get('x-llmgw-endpoint')).toBe('chat-openai');
    expect(await allEvents(response)).toEqual([
      gatewayChatChunks[0],
      {
        error: {
          message: 'The upstream provider closed the connection mid-stream.',
          type: 'UpstreamConnectionLostError',
        },
      },
    ]);
    expect(anthropic.requests).toEqual([]);
  });

  it('works as `model` on /v1 with the openai SDK', async () => {
    openai.reply(unavailable);
    anthropic.reply({ kind: 'json', body: anthropicMessage() });
    const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const { data, response } = await client.chat.completions
      .create({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] })
      .withResponse();
    expect(response.headers.get('x-llmgw-endpoint')).toBe('chat-anthropic');
    expect(data).toEqual(ANTHROPIC_ANSWER);
    expect(anthropic.requests[0]?.body).toEqual({
      model: 'claude-2.1',
      messages: [{ role: 'user', content: 'hi' }],
      max_tokens: 8192,
      temperature: 0,
    });
  });
});

describe('TRAFFIC_SPLIT routes', () => {
  it('always serves a 100/0 split from the first destination, naming it', async () => {
    for (let index = 0; index < 3; index += 1) anthropic.reply({ kind: 'json', body: anthropicMessage() });
    for (let index = 0; index < 3; index += 1) {
      const response = await postJson(`${gateway.url}/gateway/split/invocations`, HI);
      expect(response.headers.get('x-llmgw-endpoint')).toBe('chat-anthropic');
      expect(await response.json()).toEqual(ANTHROPIC_ANSWER);
    }
    expect(openai.requests).toEqual([]);
  });

  it('does not name the endpoint on a plain endpoint answer', async () => {
    openai.reply({ kind: 'json', body: chatCompletion });
    const response = await invokeEndpoint(gateway.url, 'chat-openai', HI);
    expect(response.status).toBe(200);
    expect(response.headers.get('x-llmgw-endpoint')).toBeNull();
  });
});

describe('retries', () => {
  it('retries the same upstream after a 503, honouring its Retry-After', async () => {
    openai.reply({ ...unavailable, headers: { 'retry-after': '0' } });
    openai.reply({ kind: 'json', body: chatCompletion });
    const response = await invokeEndpoint(gateway.url, 'chat-retry', HI);
    expect(response.status).toBe(200);
    expect(openai.requests.length).toBe(2);
  });

  it('does not retry a 400', async () => {
    openai.reply({ kind: 'json', status: 400, body: { error: { message: 'bad' } } });
    const response = await invokeEndpoint(gateway.url, 'chat-retry', HI);
    expect(response.status).toBe(400);
    expect(openai.requests.length).toBe(1);
  });
});

describe('route lookups (reference §2.10.1)', () => {
  it('answers GET /api/3.0/gateway/route/{name} with the route as configured', async () => {
    const response = await gateway.app.inject({ method: 'GET', url: '/api/3.0/gateway/route/split' });
    expect(response.json()).toEqual({
      name: 'split',
      task_type: 'llm/v1/chat',
      destinations: [
        { name: 'chat-anthropic', traffic_percentage: 100 },
        { name: 'chat-openai', traffic_percentage: 0 },
      ],
      routing_strategy: 'TRAFFIC_SPLIT',
    });
  });

  it('answers 404 for a route that is not configured', async () => {
    const response = await gateway.app.inject({ method: 'GET', url: '/api/3.0/gateway/route/nope' });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({
      detail: "The route 'nope' is not present or active on the server. Please verify the route name.",
    });
  });

  it('answers GET /api/3.0/gateway/endpoint/{name} with the endpoint object, and 404 for a route name', async () => {
    const endpoint = await gateway.app.inject({
      method: 'GET',
      url: '/api/3.0/gateway/endpoint/chat-openai',
    });
    expect(endpoint.json()).toEqual({
      name: 'chat-openai',
      endpoint_type: 'llm/v1/chat',
      model: { name: 'gpt-4o-mini', provider: 'openai' },
      endpoint_url: '/gateway/chat-openai/invocations',
      limit: null,
    });
    const route = await gateway.app.inject({ method: 'GET', url: '/api/3.0/gateway/endpoint/chat' });
    expect(route.statusCode).toBe(404);
    expect(route.json()).toEqual({
      detail: "The endpoint 'chat' is not present or active on the server. Please verify the endpoint name.",
    });
  });

  it('leaves routes out of /api/2.0/endpoints and puts them in the OpenAPI document', async () => {
    const list = await gateway.app.inject({ method: 'GET', url: '/api/2.0/endpoints/' });
    expect(list.json<{ endpoints: { name: string }[] }>().endpoints.map((view) => view.name)).toEqual([
      'chat-openai',
      'chat-slow',
      'chat-dead',
      'chat-retry',
      'chat-limited',
      'chat-anthropic',
    ]);
    const openapi = await gateway.app.inject({ method: 'GET', url: '/openapi.json' });
    expect(Object.keys(openapi.json<{ paths: object }>().paths)).toContain('/endpoints/split/invocations');
  });
});

describe('reload', () => {
  it('adds, changes and removes routes like endpoints', async () => {
    const registry = new ProviderRegistry();
    const only = (yaml: string) => parseConfig(gatewayYaml(yaml), registry, 'test.yaml');
    const lookup = async (name: string) =>
      (await gateway.app.inject({ method: 'GET', url: `/api/3.0/gateway/route/${name}` })).statusCode;
    try {
      gateway.apply(only(fallbackRoute('added', ['chat-openai'])));
      expect([await lookup('added'), await lookup('chat')]).toEqual([200, 404]);
      gateway.apply(only(fallbackRoute('added', ['chat-anthropic'])));
      anthropic.reply({ kind: 'json', body: anthropicMessage() });
      const response = await invokeEndpoint(gateway.url, 'added', HI);
      expect(response.headers.get('x-llmgw-endpoint')).toBe('chat-anthropic');
      await response.body?.cancel();
    } finally {
      gateway.apply(only(ROUTES));
    }
    expect([await lookup('added'), await lookup('chat')]).toEqual([404, 200]);
  });
});
