import { join } from 'node:path';
import OpenAI, { APIError } from 'openai';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadConfig, parseConfig } from '../../src/config/load.js';
import { ConfigErrors } from '../../src/errors.js';
import { COHERE_API_BASE, CohereAdapter, cohereConfigSchema } from '../../src/providers/cohere/index.js';
import { fromCohereChatEvent, newCohereStreamState } from '../../src/providers/cohere/stream.js';
import { ProviderRegistry } from '../../src/providers/registry.js';
import { PoolSet } from '../../src/upstream/pool.js';
import { Upstream } from '../../src/upstream/request.js';
import { FakeUpstream, ManualStream, type RecordedRequest } from '../fakes/fake-upstream.js';
import {
  COHERE_INTERNAL_ERROR,
  COHERE_INVALID_TOKEN,
  COHERE_RATE_LIMITED,
  COHERE_TEXT_STREAM,
  COHERE_TOOL_CALL_RESPONSE,
  COHERE_TOOL_STREAM,
  CONTENT_START,
  cohereChatResponse,
  cohereEmbedResponse,
  contentDelta,
  messageEnd,
  messageStart,
} from '../fakes/cohere.js';
import { adapterChatChunks } from '../helpers/adapter-stream.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { invokeEndpoint } from '../helpers/http.js';
import { allEvents, sseEvents } from '../helpers/sse.js';
import { expectJsonPost } from '../helpers/upstream-call.js';

// Reference cohere.md §13: clock 1677858242, model `command`, key `key`.
const KEY = 'key';
const MODEL = 'command';
const EMBED_MODEL = 'embed-english-light-v2.0';
const CLOCK_SECONDS = 1677858242;
const CREDENTIAL_HEADERS = ['x-api-key', 'api-key', 'openai-organization', 'proxy-authorization'];

function gatewayYaml(apiBase: string): string {
  const config = `config: { cohere_api_key: ${KEY}, cohere_api_base: "${apiBase}" }`;
  return `
endpoints:
  - name: chat
    endpoint_type: llm/v1/chat
    model: { provider: cohere, name: ${MODEL}, ${config} }
  - name: completions
    endpoint_type: llm/v1/completions
    model: { provider: cohere, name: ${MODEL}, ${config} }
  - name: embeddings
    endpoint_type: llm/v1/embeddings
    model: { provider: cohere, name: ${EMBED_MODEL}, ${config} }
`;
}

/** Method, path, query and every credential header of one upstream call. */
function expectCohereCall(request: RecordedRequest, path: string): void {
  expectJsonPost(request, path, CREDENTIAL_HEADERS);
  expect(request.headers.authorization).toBe(`Bearer ${KEY}`);
}

function chatChunk(id: string | null, content: string | null, finishReason: string | null) {
  return {
    id,
    object: 'chat.completion.chunk',
    created: CLOCK_SECONDS,
    model: MODEL,
    choices: [{ index: 0, finish_reason: finishReason, delta: { role: null, content, tool_calls: null } }],
  };
}

function completionsChunk(id: string | null, text: string | null, finishReason: string | null) {
  return {
    id,
    object: 'text_completion_chunk',
    created: CLOCK_SECONDS,
    model: MODEL,
    choices: [{ index: 0, finish_reason: finishReason, text }],
  };
}

const VECTOR_1_MESSAGES = [
  { role: 'user', content: 'Message 1' },
  { role: 'assistant', content: 'Message 2' },
  { role: 'user', content: 'Message 3' },
];

/** Reference §5's gateway response. */
const VECTOR_1_RESPONSE = {
  id: 'abc123',
  object: 'chat.completion',
  created: CLOCK_SECONDS,
  model: MODEL,
  choices: [
    {
      index: 0,
      message: { role: 'assistant', content: '\n\nThis is a test!', tool_calls: null, refusal: null },
      finish_reason: null,
    },
  ],
  usage: { prompt_tokens: 13, completion_tokens: 7, total_tokens: 20 },
};

describe('cohere config', () => {
  it('defaults cohere_api_base to the public Cohere API', () => {
    const config = cohereConfigSchema.parse({ cohere_api_key: KEY });
    expect(config.cohere_api_base).toBe('https://api.cohere.com');
  });

  it.each([
    ['a missing cohere_api_key', {}, 'cohere_api_key'],
    [
      'a cohere_api_base that is not a URL',
      { cohere_api_key: KEY, cohere_api_base: 'api.cohere.com' },
      'cohere_api_base',
    ],
    [
      'a cohere_api_base that is not http(s)',
      { cohere_api_key: KEY, cohere_api_base: 'ftp://x.example' },
      'cohere_api_base',
    ],
  ])('rejects %s', (_case, raw, field) => {
    const result = cohereConfigSchema.safeParse(raw);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual([field]);
  });

  it('rejects an endpoint without a model name at load time', () => {
    const yaml = `
endpoints:
  - name: chat
    endpoint_type: llm/v1/chat
    model: { provider: cohere, config: { cohere_api_key: ${KEY} } }
`;
    expect(() => parseConfig(yaml, new ProviderRegistry())).toThrow(ConfigErrors);
    expect(() => parseConfig(yaml, new ProviderRegistry())).toThrow(/Cohere endpoints must name a model/);
  });

  it('targets /v2/chat and /v2/embed on the public API by default', () => {
    const upstream = new Upstream(new PoolSet({ connectTimeoutMs: 1000 }), { timeoutSeconds: 5 });
    const target = vi.spyOn(upstream, 'target');
    const config = cohereConfigSchema.parse({ cohere_api_key: KEY });
    new CohereAdapter({
      endpointName: 'chat',
      endpointType: 'llm/v1/chat',
      modelName: MODEL,
      config,
      upstream,
    });
    expect(target.mock.calls).toEqual([[`${COHERE_API_BASE}/v2/chat`], [`${COHERE_API_BASE}/v2/embed`]]);
  });

  it('loads examples/cohere.yaml with the key taken from the environment', async () => {
    vi.stubEnv('COHERE_API_KEY', 'example-key');
    try {
      const config = await loadConfig(
        join(import.meta.dirname, '../../examples/cohere.yaml'),
        new ProviderRegistry(),
      );
      expect(
        config.endpoints.map((endpoint) => [endpoint.name, endpoint.endpointType, endpoint.providerName]),
      ).toEqual([
        ['cohere-chat', 'llm/v1/chat', 'cohere'],
        ['cohere-completions', 'llm/v1/completions', 'cohere'],
        ['cohere-embeddings', 'llm/v1/embeddings', 'cohere'],
      ]);
    } finally {
      vi.unstubAllEnvs();
    }
  });
});

describe('cohere stream event mapper', () => {
  it('skips events the gateway does not emit', () => {
    const state = newCohereStreamState(MODEL);
    const events = [
      { type: 'content-start', index: 0, delta: { message: { content: { type: 'text', text: '' } } } },
      { type: 'content-end', index: 0 },
      { type: 'tool-plan-delta', delta: { message: { tool_plan: 'x' } } },
      { type: 'citation-start', index: 0, delta: { message: { citations: {} } } },
      { type: 'debug', prompt: 'x' },
    ];
    expect(events.map((event) => fromCohereChatEvent(event, state))).toEqual([null, null, null, null, null]);
  });

  it('throws the upstream message of an error payload instead of a malformed-event error', () => {
    const state = newCohereStreamState(MODEL);
    expect(() => fromCohereChatEvent({ error: { message: 'internal server error' } }, state)).toThrow(
      expect.objectContaining({ status: 502, detail: 'internal server error', name: 'UpstreamError' }),
    );
  });

  it('skips a thinking delta that carries no text', () => {
    const state = newCohereStreamState(MODEL);
    const event = { type: 'content-delta', index: 0, delta: { message: { content: { thinking: 'hmm' } } } };
    expect(fromCohereChatEvent(event, state)).toBeNull();
  });
});

/** The fake's `message-end` usage, as the gateway reports it. */
const COHERE_STREAM_USAGE = { prompt_tokens: 83, completion_tokens: 63, total_tokens: 146 };

describe('cohere through the gateway', () => {
  let fake: FakeUpstream;
  let gateway: TestGateway;
  let sdk: OpenAI;

  beforeEach(async () => {
    fake = await FakeUpstream.start();
    gateway = await startTestGateway(gatewayYaml(fake.url));
    sdk = new OpenAI({ apiKey: 'anything', baseURL: `${gateway.url}/v1`, maxRetries: 0 });
  });

  afterEach(async () => {
    vi.restoreAllMocks();
    await gateway.close();
    await fake.close();
  });

  function invoke(endpoint: string, body: unknown): Promise<Response> {
    return invokeEndpoint(gateway.url, endpoint, body);
  }

  function pinClock(): void {
    vi.spyOn(Date, 'now').mockReturnValue(CLOCK_SECONDS * 1000);
  }

  describe('parameter ranges', () => {
    const HI = [{ role: 'user', content: 'hi' }];

    it.each([
      [{ top_p: 1 }, { p: 0.99 }],
      [{ top_p: 0 }, { p: 0.01 }],
      [{ top_p: 0.995 }, { p: 0.99 }],
      [
        { top_p: 0.5, top_k: 500 },
        { p: 0.5, k: 500 },
      ],
      [
        { frequency_penalty: 1, presence_penalty: 0 },
        { frequency_penalty: 1, presence_penalty: 0 },
      ],
    ])('sends %j to Cohere as %j', async (parameters, upstream) => {
      fake.reply({ kind: 'json', body: cohereChatResponse() });
      expect((await invoke('chat', { messages: HI, ...parameters })).status).toBe(200);
      expect((await fake.nextRequest()).body).toEqual({
        model: MODEL,
        messages: HI,
        temperature: 0,
        ...upstream,
      });
    });

    it('clamps top_p on completions too', async () => {
      fake.reply({ kind: 'json', body: cohereChatResponse() });
      await invoke('completions', { prompt: 'x', top_p: 1 });
      expect((await fake.nextRequest()).body).toEqual({
        model: MODEL,
        temperature: 0,
        p: 0.99,
        messages: [{ role: 'user', content: 'x' }],
      });
    });

    it.each([
      ['chat', { top_p: 1.5 }, 'Invalid value for top_p: must be a number between 0 and 1 for Cohere.'],
      ['chat', { top_p: '1' }, 'Invalid value for top_p: must be a number between 0 and 1 for Cohere.'],
      ['chat', { top_k: 501 }, 'Invalid value for top_k: must be an integer between 0 and 500 for Cohere.'],
      ['chat', { top_k: 2.5 }, 'Invalid value for top_k: must be an integer between 0 and 500 for Cohere.'],
      [
        'chat',
        { frequency_penalty: -0.5 },
        'Invalid value for frequency_penalty: must be a number between 0 and 1 for Cohere.',
      ],
      [
        'completions',
        { presence_penalty: 1.5 },
        'Invalid value for presence_penalty: must be a number between 0 and 1 for Cohere.',
      ],
      [
        'completions',
        { stop: ['a', 'b', 'c', 'd', 'e', 'f'] },
        'Invalid value for stop: Cohere accepts at most 5, got 6.',
      ],
    ])('answers 422 on %s for %j without calling Cohere', async (endpoint, parameters, detail) => {
      const body = endpoint === 'chat' ? { messages: HI, ...parameters } : { prompt: 'x', ...parameters };
      const response = await invoke(endpoint, body);
      expect(response.status).toBe(422);
      expect(await response.json()).toEqual({ detail });
      expect(fake.requests).toHaveLength(0);
    });

    it('sends five stop sequences on completions', async () => {
      fake.reply({ kind: 'json', body: cohereChatResponse() });
      const stop = ['a', 'b', 'c', 'd', 'e'];
      await invoke('completions', { prompt: 'x', stop });
      expect((await fake.nextRequest()).body).toEqual({
        model: MODEL,
        temperature: 0,
        stop_sequences: stop,
        messages: [{ role: 'user', content: 'x' }],
      });
    });
  });

  describe('chat', () => {
    it('sends reference test vector 1 to /v2/chat with the temperature scaled onto 0–1', async () => {
      fake.reply({ kind: 'json', body: cohereChatResponse() });
      const response = await invoke('chat', { messages: VECTOR_1_MESSAGES, temperature: 0.5 });
      expect(response.status).toBe(200);
      const upstream = await fake.nextRequest();
      expectCohereCall(upstream, '/v2/chat');
      expect(upstream.body).toEqual({ model: MODEL, messages: VECTOR_1_MESSAGES, temperature: 0.25 });
    });

    it('maps the chat response as reference §5 shows', async () => {
      pinClock();
      fake.reply({ kind: 'json', body: cohereChatResponse() });
      const response = await invoke('chat', { messages: VECTOR_1_MESSAGES, temperature: 0.5 });
      expect(await response.json()).toEqual(VECTOR_1_RESPONSE);
    });

    it('keeps system messages in place with their roles', async () => {
      fake.reply({ kind: 'json', body: cohereChatResponse() });
      const messages = [
        { role: 'system', content: 'System Message 1' },
        { role: 'user', content: 'Message 1' },
        { role: 'assistant', content: 'Message 2' },
        { role: 'system', content: 'System Message 2' },
        { role: 'user', content: 'Message 3' },
      ];
      await invoke('chat', { messages });
      expect((await fake.nextRequest()).body).toEqual({ model: MODEL, messages, temperature: 0 });
    });

    it('forwards tool calls and tool results and drops roles Cohere does not take', async () => {
      fake.reply({ kind: 'json', body: cohereChatResponse() });
      const toolCall = { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{}' } };
      const messages = [
        { role: 'developer', content: 'dropped' },
        { role: 'user', content: 'Weather?' },
        { role: 'assistant', tool_calls: [toolCall] },
        { role: 'tool', content: '{"temp": 20}', tool_call_id: 'call_1' },
        { role: 'user', content: [{ type: 'text', text: 'Thanks, and now?' }] },
      ];
      await invoke('chat', { messages });
      expect((await fake.nextRequest()).body).toEqual({
        model: MODEL,
        messages: messages.slice(1),
        temperature: 0,
      });
    });

    it("renames top_p and top_k to Cohere's p and k and passes other parameters through", async () => {
      fake.reply({ kind: 'json', body: cohereChatResponse() });
      const responseFormat = { type: 'json_object' };
      await invoke('chat', {
        messages: [{ role: 'user', content: 'hi' }],
        temperature: 2,
        top_p: 0.5,
        top_k: 10,
        max_tokens: 20,
        seed: 7,
        response_format: responseFormat,
        stream_options: { include_usage: true },
      });
      expect((await fake.nextRequest()).body).toEqual({
        model: MODEL,
        messages: [{ role: 'user', content: 'hi' }],
        temperature: 1,
        p: 0.5,
        k: 10,
        max_tokens: 20,
        seed: 7,
        response_format: responseFormat,
      });
    });

    it('returns the tool calls Cohere asks for', async () => {
      fake.reply({ kind: 'json', body: COHERE_TOOL_CALL_RESPONSE });
      const response = await invoke('chat', { messages: [{ role: 'user', content: 'Weather in Toronto?' }] });
      const body = (await response.json()) as { choices: unknown[]; usage: unknown };
      expect(body.choices).toEqual([
        {
          index: 0,
          message: {
            role: 'assistant',
            content: null,
            tool_calls: [
              {
                id: 'get_weather_1byjy32y4hvq',
                type: 'function',
                function: { name: 'get_weather', arguments: '{"location":"Toronto"}' },
              },
            ],
            refusal: null,
          },
          finish_reason: null,
        },
      ]);
      expect(body.usage).toEqual({ prompt_tokens: 1048, completion_tokens: 59, total_tokens: 1107 });
    });

    it.each([
      [{ stop: ['test'] }, 'Parameter stop is not supported for Cohere chat.'],
      [{ n: 2 }, 'Parameter n must be 1 for Cohere chat, got 2.'],
      [
        { model: 'command-r' },
        "The parameter 'model' is not permitted to be passed. The route being queried already defines a model instance.",
      ],
      [
        {
          messages: [
            { role: 'user', content: 'a' },
            { role: 'assistant', content: 'b' },
          ],
        },
        'Last message must be from user, got assistant.',
      ],
    ])('answers 422 for %j without calling Cohere', async (extra, detail) => {
      const response = await invoke('chat', { messages: [{ role: 'user', content: 'hi' }], ...extra });
      expect(response.status).toBe(422);
      expect(await response.json()).toEqual({ detail });
      expect(fake.requests).toHaveLength(0);
    });

    it('maps an upstream 429 to 429 with the whole Cohere error body as detail', async () => {
      fake.reply({ kind: 'json', status: 429, body: COHERE_RATE_LIMITED });
      const response = await invoke('chat', { messages: [{ role: 'user', content: 'hi' }] });
      expect(response.status).toBe(429);
      expect(await response.json()).toEqual({ detail: COHERE_RATE_LIMITED });
    });

    it('maps an upstream 500 to 500 with the Cohere error body as detail', async () => {
      fake.reply({ kind: 'json', status: 500, body: COHERE_INTERNAL_ERROR });
      const response = await invoke('chat', { messages: [{ role: 'user', content: 'hi' }] });
      expect(response.status).toBe(500);
      expect(await response.json()).toEqual({ detail: COHERE_INTERNAL_ERROR });
    });

    it('answers 502 naming the missing field when a 2xx chat body has no message', async () => {
      fake.reply({ kind: 'json', body: { id: 'abc123', finish_reason: 'COMPLETE' } });
      const response = await invoke('chat', { messages: [{ role: 'user', content: 'hi' }] });
      expect(response.status).toBe(502);
      expect(await response.json()).toEqual({ detail: 'Malformed response from Cohere: missing message' });
    });

    it('answers 504 when Cohere does not answer within the timeout', async () => {
      const slowGateway = await startTestGateway(gatewayYaml(fake.url), { timeoutSeconds: 1 });
      try {
        fake.reply({ kind: 'hang' });
        const response = await invokeEndpoint(slowGateway.url, 'chat', {
          messages: [{ role: 'user', content: 'hi' }],
        });
        expect(response.status).toBe(504);
        expect(await response.json()).toEqual({
          detail: 'The upstream provider did not respond within 1 seconds.',
        });
      } finally {
        await slowGateway.close();
      }
    });

    it('joins cohere_api_base and the API path with one slash', async () => {
      const proxied = await startTestGateway(gatewayYaml(`${fake.url}/cohere/`));
      try {
        fake.reply({ kind: 'json', body: cohereChatResponse() });
        await invokeEndpoint(proxied.url, 'chat', { messages: [{ role: 'user', content: 'hi' }] });
        expectCohereCall(await fake.nextRequest(), '/cohere/v2/chat');
      } finally {
        await proxied.close();
      }
    });
  });

  describe('chat streaming', () => {
    it('sends reference test vector 2 with stream true', async () => {
      fake.reply({ kind: 'sse', events: COHERE_TEXT_STREAM });
      const response = await invoke('chat', { messages: VECTOR_1_MESSAGES, temperature: 0.5, stream: true });
      await allEvents(response);
      const upstream = await fake.nextRequest();
      expectCohereCall(upstream, '/v2/chat');
      expect(upstream.body).toEqual({
        model: MODEL,
        messages: VECTOR_1_MESSAGES,
        temperature: 0.25,
        stream: true,
      });
    });

    it('emits the three chunks of reference §6', async () => {
      pinClock();
      fake.reply({ kind: 'sse', events: COHERE_TEXT_STREAM });
      const response = await invoke('chat', { messages: VECTOR_1_MESSAGES, stream: true });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
      expect(await allEvents(response)).toEqual([
        chatChunk(null, ' Hi', null),
        chatChunk(null, ' there', null),
        chatChunk('test-id1', null, 'COMPLETE'),
      ]);
    });

    it("hands message-end's usage to the gateway's accounting on the last chunk", async () => {
      pinClock();
      fake.reply({ kind: 'sse', events: COHERE_TEXT_STREAM });
      const chunks = await adapterChatChunks(gateway, 'chat', { messages: VECTOR_1_MESSAGES, stream: true });
      expect(chunks).toEqual([
        chatChunk(null, ' Hi', null),
        chatChunk(null, ' there', null),
        { ...chatChunk('test-id1', null, 'COMPLETE'), usage: COHERE_STREAM_USAGE },
      ]);
    });

    it('passes the usage to a client that asked with stream_options', async () => {
      pinClock();
      fake.reply({ kind: 'sse', events: COHERE_TEXT_STREAM });
      const response = await invoke('chat', {
        messages: VECTOR_1_MESSAGES,
        stream: true,
        stream_options: { include_usage: true },
      });
      expect(await allEvents(response)).toEqual([
        chatChunk(null, ' Hi', null),
        chatChunk(null, ' there', null),
        { ...chatChunk('test-id1', null, 'COMPLETE'), usage: COHERE_STREAM_USAGE },
      ]);
    });

    it('forwards each text delta before Cohere has finished the stream', async () => {
      const stream = new ManualStream();
      fake.reply({ kind: 'sse-manual', stream });
      const responsePromise = invoke('chat', { messages: [{ role: 'user', content: 'hi' }], stream: true });
      await stream.started();
      stream.send(messageStart('live-1'));
      stream.send(CONTENT_START);
      stream.send(contentDelta(' Hi'));
      const events = sseEvents(await responsePromise);
      const first = await events.next();
      expect(first.value).toMatchObject({ id: null, choices: [{ delta: { content: ' Hi' } }] });
      stream.send(messageEnd('MAX_TOKENS'));
      stream.end();
      const last = await events.next();
      expect(last.value).toMatchObject({ id: 'live-1', choices: [{ finish_reason: 'MAX_TOKENS' }] });
      expect((await events.next()).done).toBe(true);
    });

    it('streams tool calls as tool_calls deltas', async () => {
      fake.reply({ kind: 'sse', events: COHERE_TOOL_STREAM });
      const response = await invoke('chat', {
        messages: [{ role: 'user', content: 'Weather?' }],
        stream: true,
      });
      const events = (await allEvents(response)) as {
        choices: { delta: unknown; finish_reason: unknown }[];
      }[];
      expect(events.map((event) => event.choices[0])).toEqual([
        {
          index: 0,
          finish_reason: null,
          delta: {
            role: null,
            content: null,
            tool_calls: [
              {
                index: 0,
                id: 'get_weather_nsz5zm3w56q3',
                type: 'function',
                function: { name: 'get_weather', arguments: '' },
              },
            ],
          },
        },
        {
          index: 0,
          finish_reason: null,
          delta: {
            role: null,
            content: null,
            tool_calls: [
              { index: 0, id: null, type: null, function: { name: null, arguments: '{"location":' } },
            ],
          },
        },
        {
          index: 0,
          finish_reason: null,
          delta: {
            role: null,
            content: null,
            tool_calls: [
              { index: 0, id: null, type: null, function: { name: null, arguments: '"Toronto"}' } },
            ],
          },
        },
        { index: 0, finish_reason: 'TOOL_CALL', delta: { role: null, content: null, tool_calls: null } },
      ]);
    });

    it('answers an upstream 401 before the stream starts with its status and message', async () => {
      fake.reply({ kind: 'json', status: 401, body: COHERE_INVALID_TOKEN });
      const response = await invoke('chat', { messages: [{ role: 'user', content: 'hi' }], stream: true });
      expect(response.status).toBe(401);
      expect(await response.json()).toEqual({ detail: 'invalid api token' });
    });

    it('rejects a model field with 422 before opening the stream', async () => {
      const response = await invoke('chat', {
        messages: [{ role: 'user', content: 'hi' }],
        model: 'command-r',
        stream: true,
      });
      expect(response.status).toBe(422);
      expect(fake.requests).toHaveLength(0);
    });

    it('ends the stream with an error event naming the field of a malformed event', async () => {
      fake.reply({
        kind: 'sse',
        events: [
          messageStart('bad-1'),
          contentDelta(' Hi'),
          'event: content-delta\ndata: {"type":"content-delta","index":0}\n\n',
        ],
      });
      const response = await invoke('chat', { messages: [{ role: 'user', content: 'hi' }], stream: true });
      const events = await allEvents(response);
      expect(events.at(-1)).toEqual({
        error: { message: 'Malformed response from Cohere: missing delta', type: 'UpstreamProtocolError' },
      });
    });
  });

  describe('completions', () => {
    it('sends the prompt to /v2/chat as one user message with stop renamed to stop_sequences', async () => {
      fake.reply({ kind: 'json', body: cohereChatResponse({ text: 'This is a test' }) });
      await invoke('completions', { prompt: 'This is a test', n: 1, stop: ['foobar'], max_tokens: 10 });
      const upstream = await fake.nextRequest();
      expectCohereCall(upstream, '/v2/chat');
      expect(upstream.body).toEqual({
        model: MODEL,
        messages: [{ role: 'user', content: 'This is a test' }],
        temperature: 0,
        stop_sequences: ['foobar'],
        max_tokens: 10,
      });
    });

    it('maps the reply to a text completion', async () => {
      pinClock();
      fake.reply({ kind: 'json', body: cohereChatResponse({ id: '7c3a', text: 'This is a test' }) });
      const response = await invoke('completions', { prompt: 'This is a test' });
      expect(await response.json()).toEqual({
        id: '7c3a',
        object: 'text_completion',
        created: CLOCK_SECONDS,
        model: MODEL,
        choices: [{ index: 0, text: 'This is a test', finish_reason: null }],
        usage: { prompt_tokens: 13, completion_tokens: 7, total_tokens: 20 },
      });
    });

    it.each([
      [{ num_generations: 2 }, 400, 'Invalid parameter num_generations. Use n instead.'],
      [{ stop_sequences: ['x'] }, 400, 'Invalid parameter stop_sequences. Use stop instead.'],
      [{ n: 2 }, 422, 'Parameter n must be 1 for Cohere completions, got 2.'],
    ])('answers %j with the reference status and detail', async (extra, status, detail) => {
      const response = await invoke('completions', { prompt: 'This is a test', ...extra });
      expect(response.status).toBe(status);
      expect(await response.json()).toEqual({ detail });
      expect(fake.requests).toHaveLength(0);
    });

    it('streams reference test vector 3', async () => {
      pinClock();
      fake.reply({ kind: 'sse', events: COHERE_TEXT_STREAM });
      const response = await invoke('completions', { prompt: 'This is a test', n: 1, stream: true });
      expect(await allEvents(response)).toEqual([
        completionsChunk(null, ' Hi', null),
        completionsChunk(null, ' there', null),
        completionsChunk('test-id1', null, 'COMPLETE'),
      ]);
      expect((await fake.nextRequest()).body).toEqual({
        model: MODEL,
        messages: [{ role: 'user', content: 'This is a test' }],
        temperature: 0,
        stream: true,
      });
    });
  });

  describe('embeddings', () => {
    it('sends a single string as a one-item texts array with v2 defaults', async () => {
      fake.reply({ kind: 'json', body: cohereEmbedResponse() });
      await invoke('embeddings', { input: 'hello world' });
      const upstream = await fake.nextRequest();
      expectCohereCall(upstream, '/v2/embed');
      expect(upstream.body).toEqual({
        model: EMBED_MODEL,
        texts: ['hello world'],
        input_type: 'search_document',
        embedding_types: ['float'],
      });
    });

    it('maps the float embeddings and billed tokens', async () => {
      fake.reply({ kind: 'json', body: cohereEmbedResponse() });
      const response = await invoke('embeddings', { input: ['This is a', 'batch test'] });
      expect(await response.json()).toEqual({
        object: 'list',
        data: [{ object: 'embedding', embedding: [3.25, 0.7685547, 2.65625], index: 0 }],
        model: EMBED_MODEL,
        usage: { prompt_tokens: 2, total_tokens: 2 },
      });
    });

    it("passes the client's input_type and embedding_types and reads the type asked for", async () => {
      fake.reply({ kind: 'json', body: cohereEmbedResponse({ int8: [[-12, 40, 3]] }) });
      const response = await invoke('embeddings', {
        input: ['a'],
        input_type: 'search_query',
        embedding_types: ['int8'],
        truncate: 'END',
      });
      expect((await fake.nextRequest()).body).toEqual({
        model: EMBED_MODEL,
        texts: ['a'],
        input_type: 'search_query',
        embedding_types: ['int8'],
        truncate: 'END',
      });
      expect(((await response.json()) as { data: unknown[] }).data).toEqual([
        { object: 'embedding', embedding: [-12, 40, 3], index: 0 },
      ]);
    });

    it('answers 422 for a texts field', async () => {
      const response = await invoke('embeddings', { input: 'a', texts: ['a'] });
      expect(response.status).toBe(422);
      expect(await response.json()).toEqual({ detail: 'Invalid parameter texts. Use input instead.' });
    });

    it('maps an upstream 401 to 401 with the whole Cohere body as detail (reference vector 5)', async () => {
      fake.reply({ kind: 'json', status: 401, body: COHERE_INVALID_TOKEN });
      const response = await invoke('embeddings', { input: ['This is a', 'batch test'] });
      expect(response.status).toBe(401);
      expect(await response.json()).toEqual({ detail: { message: 'invalid api token' } });
    });

    it('answers 502 naming the embedding type missing from a 2xx body', async () => {
      fake.reply({ kind: 'json', body: cohereEmbedResponse({ float: [[1]] }) });
      const response = await invoke('embeddings', { input: 'a', embedding_types: ['int8'] });
      expect(response.status).toBe(502);
      expect(await response.json()).toEqual({
        detail: 'Malformed response from Cohere: missing embeddings.int8',
      });
    });

    it('answers 502 naming the field when a 2xx body has no embeddings', async () => {
      fake.reply({ kind: 'json', body: { id: 'x', texts: ['a'], meta: {} } });
      const response = await invoke('embeddings', { input: 'a' });
      expect(response.status).toBe(502);
      expect(await response.json()).toEqual({ detail: 'Malformed response from Cohere: missing embeddings' });
    });
  });

  describe('the openai SDK on /v1', () => {
    it('chats with the configured model, not the endpoint name', async () => {
      fake.reply({ kind: 'json', body: cohereChatResponse() });
      const completion = await sdk.chat.completions.create({
        model: 'chat',
        messages: [{ role: 'user', content: 'Message 3' }],
        temperature: 0.5,
      });
      expect(completion.choices[0]?.message.content).toBe('\n\nThis is a test!');
      expect((await fake.nextRequest()).body).toEqual({
        model: MODEL,
        messages: [{ role: 'user', content: 'Message 3' }],
        temperature: 0.25,
      });
    });

    it('streams chat chunks', async () => {
      fake.reply({ kind: 'sse', events: COHERE_TEXT_STREAM });
      const stream = await sdk.chat.completions.create({
        model: 'chat',
        messages: [{ role: 'user', content: 'hi' }],
        stream: true,
      });
      const parts: (string | null | undefined)[] = [];
      for await (const chunk of stream)
        parts.push(chunk.choices[0]?.delta.content ?? chunk.choices[0]?.finish_reason);
      expect(parts).toEqual([' Hi', ' there', 'COMPLETE']);
    });

    it('completes a prompt', async () => {
      fake.reply({ kind: 'json', body: cohereChatResponse({ text: 'Paris.' }) });
      const completion = await sdk.completions.create({ model: 'completions', prompt: 'Capital of France?' });
      expect(completion.choices[0]?.text).toBe('Paris.');
      expect((await fake.nextRequest()).body).toEqual({
        model: MODEL,
        messages: [{ role: 'user', content: 'Capital of France?' }],
        temperature: 0,
      });
    });

    it('streams a completion', async () => {
      fake.reply({ kind: 'sse', events: COHERE_TEXT_STREAM });
      const stream = await sdk.completions.create({ model: 'completions', prompt: 'hi', stream: true });
      const texts: (string | null)[] = [];
      for await (const chunk of stream) texts.push(chunk.choices[0]?.text ?? null);
      expect(texts).toEqual([' Hi', ' there', null]);
    });

    it("embeds with the SDK's default base64 encoding, which Cohere is never sent", async () => {
      fake.reply({ kind: 'json', body: cohereEmbedResponse() });
      const result = await sdk.embeddings.create({ model: 'embeddings', input: 'hello world' });
      const [first] = result.data;
      expect(first?.embedding).toHaveLength(3);
      expect(first?.embedding[0]).toBe(3.25);
      expect(first?.embedding[1]).toBeCloseTo(0.7685547, 6);
      expect(first?.embedding[2]).toBe(2.65625);
      expect((await fake.nextRequest()).body).toEqual({
        model: EMBED_MODEL,
        texts: ['hello world'],
        input_type: 'search_document',
        embedding_types: ['float'],
      });
    });

    it('surfaces an upstream 401 as an APIError with the Cohere message', async () => {
      fake.reply({ kind: 'json', status: 401, body: COHERE_INVALID_TOKEN });
      const error: unknown = await sdk.embeddings
        .create({ model: 'embeddings', input: 'x', encoding_format: 'float' })
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(APIError);
      expect((error as APIError).status).toBe(401);
      expect((error as APIError).message).toContain('invalid api token');
    });

    it('answers the reference 422 for stop on chat', async () => {
      const error: unknown = await sdk.chat.completions
        .create({ model: 'chat', messages: [{ role: 'user', content: 'hi' }], stop: ['x'] })
        .catch((caught: unknown) => caught);
      expect((error as APIError).status).toBe(422);
      expect((error as APIError).message).toContain('Parameter stop is not supported for Cohere chat.');
      expect(fake.requests).toHaveLength(0);
    });

    it('answers 502 for a malformed 2xx completion body', async () => {
      fake.reply({ kind: 'json', body: { id: 'x', message: { content: 'not a list' } } });
      const error: unknown = await sdk.completions
        .create({ model: 'completions', prompt: 'hi' })
        .catch((caught: unknown) => caught);
      expect((error as APIError).status).toBe(502);
      // The shared parser words a wrong type as "missing" too; the field is what matters here.
      expect((error as APIError).message).toMatch(/Malformed response from Cohere: \w+ message\.content$/);
    });
  });
});
