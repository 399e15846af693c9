import { join } from 'node:path';
import OpenAI, { APIError } from 'openai';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadConfig, parseConfig } from '../../src/config/load.js';
import { MODEL_NOT_PERMITTED } from '../../src/providers/base.js';
import {
  MISTRAL_API_BASE,
  MistralAdapter,
  fromMistralChatEvent,
  mistralConfigSchema,
} from '../../src/providers/mistral.js';
import { ProviderRegistry } from '../../src/providers/registry.js';
import { PoolSet } from '../../src/upstream/pool.js';
import { Upstream } from '../../src/upstream/request.js';
import { FakeUpstream, ManualStream, sseFrame, type FakeReply } from '../fakes/fake-upstream.js';
import {
  CHAT_RESPONSE,
  CHAT_RESPONSE_WITH_OBJECT_ARGUMENTS,
  CHAT_RESPONSE_WITH_THINKING,
  CHAT_RESPONSE_WITH_TOOL_CALL,
  CHAT_STREAM_CHUNKS,
  CHAT_STREAM_EVENTS,
  CHAT_STREAM_TOOL_CALL_EVENTS,
  COMPLETIONS_RESPONSE,
  EMBEDDINGS_RESPONSE,
  EMBEDDINGS_RESPONSE_NULL_USAGE,
  INVALID_MODEL_ERROR,
  RATE_LIMIT_ERROR,
  SERVICE_UNAVAILABLE_ERROR,
  UNAUTHORIZED_ERROR,
} from '../fakes/mistral.js';
import { adapterChatChunks } from '../helpers/adapter-stream.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { invokeEndpoint } from '../helpers/http.js';
import { parseSse } from '../helpers/sse.js';
import { expectJsonPost } from '../helpers/upstream-call.js';

const KEY = 'key';
const KEY_VARIABLE = 'MISTRAL_TEST_API_KEY';
/** Reference §9: the clock every test vector is computed with. */
const CLOCK_SECONDS = 1677858242;
/** What the gateway sends upstream, and nothing else: no credential but Mistral's bearer key. */
const UPSTREAM_HEADER_NAMES = ['authorization', 'connection', 'content-length', 'content-type', 'host'];
const HELLO = [{ role: 'user' as const, content: 'Hello' }];
const CHAT_PATH = '/v1/chat/completions';
const EMBEDDINGS_PATH = '/v1/embeddings';

function gatewayYaml(apiBase: string): string {
  const config = `config: { mistral_api_key: $${KEY_VARIABLE}, mistral_api_base: "${apiBase}" }`;
  return `
endpoints:
  - name: completions
    endpoint_type: llm/v1/completions
    model: { provider: mistral, name: mistral-tiny, ${config} }
  - name: chat
    endpoint_type: llm/v1/chat
    model: { provider: mistral, name: mistral-small-latest, ${config} }
  - name: embeddings
    endpoint_type: llm/v1/embeddings
    model: { provider: mistral, name: mistral-embed, ${config} }
`;
}

let fake: FakeUpstream;
let gateway: TestGateway;
let client: OpenAI;

beforeEach(async () => {
  vi.stubEnv(KEY_VARIABLE, KEY);
  fake = await FakeUpstream.start();
  gateway = await startTestGateway(gatewayYaml(`${fake.url}/v1`));
  client = new OpenAI({ apiKey: 'client-key', baseURL: `${gateway.url}/v1`, maxRetries: 0 });
});

afterEach(async () => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  await gateway.close();
  await fake.close();
});

function pinClock(): void {
  vi.spyOn(Date, 'now').mockReturnValue(CLOCK_SECONDS * 1000 + 900);
}

/** POST /endpoints/{name}/invocations with plain fetch. */
async function invoke(endpoint: string, body: unknown): Promise<{ status: number; json: unknown }> {
  const response = await invokeEndpoint(gateway.url, endpoint, body);
  return { status: response.status, json: await response.json() };
}

/** A streaming invocation: the status and every SSE event's JSON. */
async function invokeStream(endpoint: string, body: unknown): Promise<{ status: number; events: unknown[] }> {
  const response = await invokeEndpoint(gateway.url, endpoint, body);
  return { status: response.status, events: parseSse(await response.text()) };
}

/** Asserts the one upstream call: method, path, query, headers by value and the whole body. */
async function expectUpstreamCall(path: string, body: unknown): Promise<void> {
  const request = await fake.nextRequest();
  expectJsonPost(request, path, []);
  expect(request.headers.authorization).toBe(`Bearer ${KEY}`);
  expect(Object.keys(request.headers).sort()).toEqual(UPSTREAM_HEADER_NAMES);
  expect(request.body).toEqual(body);
}

async function sdkError(call: Promise<unknown>): Promise<APIError> {
  const error: unknown = await call.then(
    () => null,
    (failure: unknown) => failure,
  );
  expect(error).toBeInstanceOf(APIError);
  return error as APIError;
}

function openAiError(message: string, type: string, code: string) {
  return { message, type, param: null, code };
}

/** Reference §3 gateway answer for §9.1. */
const COMPLETIONS_GATEWAY_RESPONSE = {
  id: null,
  object: 'text_completion',
  created: CLOCK_SECONDS,
  model: 'mistral-tiny',
  choices: [{ index: 0, text: 'This is a test', finish_reason: 'length' }],
  usage: { prompt_tokens: 9, completion_tokens: 9, total_tokens: 18 },
};

/** Reference §9.4 gateway answer. */
const CHAT_GATEWAY_RESPONSE = {
  id: 'c1',
  object: 'chat.completion',
  created: 1700000000,
  model: 'mistral-small-latest',
  choices: [
    {
      index: 0,
      message: { role: 'assistant', content: 'Hi!', tool_calls: null, refusal: null },
      finish_reason: 'stop',
    },
  ],
  usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 },
};

/** Reference §6 gateway chunks. */
const CHAT_GATEWAY_CHUNKS = [
  {
    id: 'cmpl-1',
    object: 'chat.completion.chunk',
    created: 1700000000,
    model: 'mistral-small-latest',
    choices: [{ index: 0, finish_reason: null, delta: { role: 'assistant', content: '', tool_calls: null } }],
  },
  {
    id: 'cmpl-1',
    object: 'chat.completion.chunk',
    created: 1700000000,
    model: 'mistral-small-latest',
    choices: [{ index: 0, finish_reason: null, delta: { role: null, content: 'Hi', tool_calls: null } }],
  },
  {
    id: 'cmpl-1',
    object: 'chat.completion.chunk',
    created: 1700000000,
    model: 'mistral-small-latest',
    choices: [{ index: 0, finish_reason: 'stop', delta: { role: null, content: '!', tool_calls: null } }],
  },
];

const GET_WEATHER_TOOL = {
  type: 'function' as const,
  function: {
    name: 'get_current_weather',
    description: 'Get the current weather in a given location',
    parameters: {
      type: 'object' as const,
      properties: { location: { type: 'string' as const, description: 'The city' } },
      required: ['location'],
    },
  },
};

describe('mistral configuration', () => {
  it('is registered under the provider key mistral, case ignored', () => {
    expect(new ProviderRegistry().resolve('MISTRAL')?.providerClass).toBe(MistralAdapter);
  });

  it('loads examples/mistral.yaml with MISTRAL_API_KEY set', async () => {
    vi.stubEnv('MISTRAL_API_KEY', 'sk-example');
    const path = join(import.meta.dirname, '../../examples/mistral.yaml');
    const config = await loadConfig(path, new ProviderRegistry());
    expect(
      config.endpoints.map((endpoint) => [endpoint.name, endpoint.endpointType, endpoint.modelName]),
    ).toEqual([
      ['mistral-chat', 'llm/v1/chat', 'mistral-small-latest'],
      ['mistral-completions', 'llm/v1/completions', 'mistral-small-latest'],
      ['mistral-embeddings', 'llm/v1/embeddings', 'mistral-embed'],
    ]);
    expect(config.endpoints.every((endpoint) => endpoint.providerClass === MistralAdapter)).toBe(true);
  });

  it('defaults mistral_api_base to the public Mistral API', () => {
    const config = mistralConfigSchema.parse({ mistral_api_key: KEY });
    expect(config.mistral_api_base).toBe(MISTRAL_API_BASE);
    expect(MISTRAL_API_BASE).toBe('https://api.mistral.ai/v1');
  });

  it.each([
    ['a missing mistral_api_key', '{}', /mistral_api_key: The api key provided is not a string/],
    [
      'an unset key variable',
      '{ mistral_api_key: $MISTRAL_UNSET_VARIABLE }',
      /mistral_api_key: Environment variable 'MISTRAL_UNSET_VARIABLE' is not set/,
    ],
    [
      'a mistral_api_base that is not a URL',
      '{ mistral_api_key: key, mistral_api_base: "api.mistral.ai" }',
      /mistral_api_base/,
    ],
  ])('rejects %s at load time', (_case, config, message) => {
    const yaml = `
endpoints:
  - name: chat
    endpoint_type: llm/v1/chat
    model: { provider: mistral, name: mistral-small-latest, config: ${config} }
`;
    expect(() => parseConfig(yaml, new ProviderRegistry(), 'test.yaml')).toThrow(message);
  });

  it('rejects an endpoint without a model name at load time, naming model.name', () => {
    const yaml = `
endpoints:
  - name: chat
    endpoint_type: llm/v1/chat
    model: { provider: mistral, config: { mistral_api_key: key } }
`;
    expect(() => parseConfig(yaml, new ProviderRegistry(), 'test.yaml')).toThrow(
      /model\.name: Mistral endpoints must name a model/,
    );
  });

  it('builds its URLs from the default base at construction', () => {
    const upstream = new Upstream(new PoolSet({ connectTimeoutMs: 1000 }), { timeoutSeconds: 5 });
    const target = vi.spyOn(upstream, 'target');
    new MistralAdapter({
      endpointName: 'chat',
      endpointType: 'llm/v1/chat',
      modelName: 'mistral-small-latest',
      config: mistralConfigSchema.parse({ mistral_api_key: KEY }),
      upstream,
    });
    expect(target.mock.calls).toEqual([
      ['https://api.mistral.ai/v1/chat/completions'],
      ['https://api.mistral.ai/v1/embeddings'],
    ]);
  });

  it.each([
    ['/v1/', '/v1/embeddings'],
    ['/proxy/mistral/v1', '/proxy/mistral/v1/embeddings'],
  ])('joins mistral_api_base %s and the API path with one slash', async (basePath, upstreamPath) => {
    const pools = new PoolSet({ connectTimeoutMs: 1000 });
    const adapter = new MistralAdapter({
      endpointName: 'embeddings',
      endpointType: 'llm/v1/embeddings',
      modelName: 'mistral-embed',
      config: mistralConfigSchema.parse({ mistral_api_key: KEY, mistral_api_base: `${fake.url}${basePath}` }),
      upstream: new Upstream(pools, { timeoutSeconds: 5 }),
    });
    fake.reply({ kind: 'json', body: EMBEDDINGS_RESPONSE_NULL_USAGE });
    const context = { signal: new AbortController().signal, log: { debug() {}, warn() {} } };
    await adapter.embeddings({ input: 'This is a test' }, context);
    await expectUpstreamCall(upstreamPath, { model: 'mistral-embed', input: 'This is a test' });
    await pools.close();
  });
});

describe('mistral completions (emulated on chat completions)', () => {
  it('sends test vector 1 as a one-message chat: stop and n dropped, temperature halved', async () => {
    fake.reply({ kind: 'json', body: COMPLETIONS_RESPONSE });
    await invoke('completions', { prompt: 'This is a test', n: 1, stop: ['foobar'] });
    await expectUpstreamCall(CHAT_PATH, {
      model: 'mistral-tiny',
      temperature: 0,
      messages: [{ role: 'user', content: 'This is a test' }],
    });
  });

  it('answers test vector 1 with id null, the gateway clock and the configured model', async () => {
    pinClock();
    fake.reply({ kind: 'json', body: COMPLETIONS_RESPONSE });
    const response = await invoke('completions', { prompt: 'This is a test', n: 1, stop: ['foobar'] });
    expect(response).toEqual({ status: 200, json: COMPLETIONS_GATEWAY_RESPONSE });
  });

  it('halves the temperature: 0.5 becomes 0.25', async () => {
    fake.reply({ kind: 'json', body: COMPLETIONS_RESPONSE });
    await invoke('completions', { prompt: 'This is a test', temperature: 0.5 });
    await expectUpstreamCall(CHAT_PATH, {
      model: 'mistral-tiny',
      temperature: 0.25,
      messages: [{ role: 'user', content: 'This is a test' }],
    });
  });

  it('forwards every other key unchanged', async () => {
    fake.reply({ kind: 'json', body: COMPLETIONS_RESPONSE });
    await invoke('completions', {
      prompt: 'x',
      max_tokens: 20,
      top_p: 0.9,
      random_seed: 42,
      safe_prompt: true,
    });
    await expectUpstreamCall(CHAT_PATH, {
      model: 'mistral-tiny',
      temperature: 0,
      max_tokens: 20,
      top_p: 0.9,
      random_seed: 42,
      safe_prompt: true,
      messages: [{ role: 'user', content: 'x' }],
    });
  });

  it('passes Mistral finish reasons through raw', async () => {
    const body = {
      ...COMPLETIONS_RESPONSE,
      choices: [{ index: 0, message: { role: 'assistant', content: 'a' }, finish_reason: 'model_length' }],
    };
    fake.reply({ kind: 'json', body });
    const response = await invoke('completions', { prompt: 'x' });
    expect((response.json as typeof COMPLETIONS_GATEWAY_RESPONSE).choices).toEqual([
      { index: 0, text: 'a', finish_reason: 'model_length' },
    ]);
  });

  it('answers /v1/completions through the openai SDK with the same mapping', async () => {
    pinClock();
    fake.reply({ kind: 'json', body: COMPLETIONS_RESPONSE });
    const completion = await client.completions.create({
      model: 'completions',
      prompt: 'This is a test',
      stop: ['foobar'],
    });
    await expectUpstreamCall(CHAT_PATH, {
      model: 'mistral-tiny',
      temperature: 0,
      messages: [{ role: 'user', content: 'This is a test' }],
    });
    expect(completion).toEqual(COMPLETIONS_GATEWAY_RESPONSE);
  });

  it('rejects a model field on the invocations route with 422 and calls no upstream (test vector 3)', async () => {
    const response = await invoke('completions', { prompt: 'x', model: 'something-else' });
    expect(response).toEqual({ status: 422, json: { detail: MODEL_NOT_PERMITTED } });
    expect(fake.requests).toHaveLength(0);
  });

  it('answers a streaming completions request with 501 on the invocations route', async () => {
    const response = await invoke('completions', { prompt: 'x', stream: true });
    expect(response).toEqual({
      status: 501,
      json: { detail: 'The completions streaming route is not implemented for Mistral models.' },
    });
    expect(fake.requests).toHaveLength(0);
  });

  it('answers a streaming completions request with 501 on /v1/completions', async () => {
    const error = await sdkError(
      client.completions.create({ model: 'completions', prompt: 'x', stream: true }),
    );
    expect(error.status).toBe(501);
    expect(error.error).toEqual(
      openAiError(
        'The completions streaming route is not implemented for Mistral models.',
        'not_implemented_error',
        'unsupported_operation',
      ),
    );
  });
});

describe('mistral embeddings', () => {
  it('sends test vector 2 with the configured model and answers with null usage kept', async () => {
    fake.reply({ kind: 'json', body: EMBEDDINGS_RESPONSE_NULL_USAGE });
    const response = await invoke('embeddings', { input: 'This is a test' });
    await expectUpstreamCall(EMBEDDINGS_PATH, { model: 'mistral-embed', input: 'This is a test' });
    expect(response).toEqual({
      status: 200,
      json: {
        object: 'list',
        data: [{ object: 'embedding', embedding: [3.25, 0.7685547], index: 0 }],
        model: 'mistral-embed',
        usage: { prompt_tokens: null, total_tokens: null },
      },
    });
  });

  it('answers a batch on /v1/embeddings through the openai SDK, encoding_format kept at the gateway', async () => {
    fake.reply({ kind: 'json', body: EMBEDDINGS_RESPONSE });
    const embeddings = await client.embeddings.create({
      model: 'embeddings',
      input: ['This is a', 'batch test'],
      encoding_format: 'float',
    });
    await expectUpstreamCall(EMBEDDINGS_PATH, {
      model: 'mistral-embed',
      input: ['This is a', 'batch test'],
    });
    expect(embeddings).toEqual({
      object: 'list',
      data: [
        { object: 'embedding', embedding: [3.25, 0.7685547], index: 0 },
        { object: 'embedding', embedding: [7.25, 0.7685547], index: 1 },
      ],
      model: 'mistral-embed',
      usage: { prompt_tokens: 9, total_tokens: 9 },
    });
  });

  it('rejects a model field on the invocations route with 422', async () => {
    const response = await invoke('embeddings', { input: 'x', model: 'mistral-embed' });
    expect(response).toEqual({ status: 422, json: { detail: MODEL_NOT_PERMITTED } });
    expect(fake.requests).toHaveLength(0);
  });
});

describe('mistral chat [2026]', () => {
  it('sends test vector 4 with the configured model and the gateway defaults', async () => {
    fake.reply({ kind: 'json', body: CHAT_RESPONSE });
    await invoke('chat', { messages: HELLO });
    await expectUpstreamCall(CHAT_PATH, {
      model: 'mistral-small-latest',
      messages: HELLO,
      temperature: 0,
      n: 1,
    });
  });

  it('answers test vector 4 with Mistral id, object, created and model', async () => {
    fake.reply({ kind: 'json', body: CHAT_RESPONSE });
    const response = await invoke('chat', { messages: HELLO });
    expect(response).toEqual({ status: 200, json: CHAT_GATEWAY_RESPONSE });
  });

  it('forwards the temperature unscaled', async () => {
    fake.reply({ kind: 'json', body: CHAT_RESPONSE });
    await invoke('chat', { messages: HELLO, temperature: 0.7 });
    await expectUpstreamCall(CHAT_PATH, {
      model: 'mistral-small-latest',
      messages: HELLO,
      temperature: 0.7,
      n: 1,
    });
  });

  it('answers /v1/chat/completions through the openai SDK with the same mapping', async () => {
    fake.reply({ kind: 'json', body: CHAT_RESPONSE });
    const completion = await client.chat.completions.create({ model: 'chat', messages: HELLO });
    await expectUpstreamCall(CHAT_PATH, {
      model: 'mistral-small-latest',
      messages: HELLO,
      temperature: 0,
      n: 1,
    });
    expect(completion).toEqual(CHAT_GATEWAY_RESPONSE);
  });

  it('forwards n, stop, tools, tool_choice and response_format in OpenAI shape', async () => {
    fake.reply({ kind: 'json', body: CHAT_RESPONSE_WITH_TOOL_CALL });
    await invoke('chat', {
      messages: HELLO,
      n: 2,
      stop: ['\n\n'],
      tools: [GET_WEATHER_TOOL],
      tool_choice: 'auto',
      response_format: { type: 'text' },
    });
    await expectUpstreamCall(CHAT_PATH, {
      model: 'mistral-small-latest',
      messages: HELLO,
      temperature: 0,
      n: 2,
      stop: ['\n\n'],
      tools: [GET_WEATHER_TOOL],
      tool_choice: 'auto',
      response_format: { type: 'text' },
    });
  });

  it('forwards an assistant tool call and the tool result message', async () => {
    fake.reply({ kind: 'json', body: CHAT_RESPONSE });
    const messages = [
      { role: 'user', content: 'Weather in Paris?' },
      {
        role: 'assistant',
        content: '',
        tool_calls: [
          {
            id: 'D681PevKs',
            type: 'function',
            function: { name: 'get_current_weather', arguments: '{"location": "Paris"}' },
          },
        ],
      },
      { role: 'tool', content: '{"temperature": 22}', tool_call_id: 'D681PevKs' },
    ];
    await invoke('chat', { messages, tools: [GET_WEATHER_TOOL] });
    await expectUpstreamCall(CHAT_PATH, {
      model: 'mistral-small-latest',
      messages,
      temperature: 0,
      n: 1,
      tools: [GET_WEATHER_TOOL],
    });
  });

  it('maps every choice of an n: 2 answer, tool calls included', async () => {
    fake.reply({ kind: 'json', body: CHAT_RESPONSE_WITH_TOOL_CALL });
    const response = await invoke('chat', { messages: HELLO, n: 2, tools: [GET_WEATHER_TOOL] });
    expect(response).toEqual({
      status: 200,
      json: {
        id: '4f1b7c9e2a3d4e5f8a9b0c1d2e3f4a5b',
        object: 'chat.completion',
        created: 1733000000,
        model: 'mistral-large-latest',
        choices: [
          {
            index: 0,
            message: {
              role: 'assistant',
              content: '',
              tool_calls: [
                {
                  id: 'D681PevKs',
                  type: 'function',
                  function: { name: 'get_current_weather', arguments: '{"location": "Paris, 75"}' },
                },
              ],
              refusal: null,
            },
            finish_reason: 'tool_calls',
          },
          {
            index: 1,
            message: { role: 'assistant', content: 'It is sunny in Paris.', tool_calls: null, refusal: null },
            finish_reason: 'stop',
          },
        ],
        usage: { prompt_tokens: 85, completion_tokens: 41, total_tokens: 126 },
      },
    });
  });

  it('serialises tool call arguments Mistral sends as an object', async () => {
    fake.reply({ kind: 'json', body: CHAT_RESPONSE_WITH_OBJECT_ARGUMENTS });
    const completion = await client.chat.completions.create({ model: 'chat', messages: HELLO });
    expect(completion.choices[0]?.message.tool_calls).toEqual([
      {
        id: 'D681PevKs',
        type: 'function',
        function: { name: 'get_current_weather', arguments: '{"location":"Paris"}' },
      },
    ]);
  });

  it('keeps only the text chunks of reasoning content', async () => {
    fake.reply({ kind: 'json', body: CHAT_RESPONSE_WITH_THINKING });
    const completion = await client.chat.completions.create({ model: 'chat', messages: HELLO });
    expect(completion.choices[0]?.message.content).toBe('Hello! How can I help?');
  });

  it('rejects a model field on the invocations route with 422', async () => {
    const response = await invoke('chat', { messages: HELLO, model: 'mistral-large-latest' });
    expect(response).toEqual({ status: 422, json: { detail: MODEL_NOT_PERMITTED } });
    expect(fake.requests).toHaveLength(0);
  });
});

describe('mistral chat streaming [2026]', () => {
  it('sends test vector 5 with stream: true', async () => {
    fake.reply({ kind: 'sse', events: CHAT_STREAM_EVENTS });
    await invokeStream('chat', { messages: HELLO, stream: true });
    await expectUpstreamCall(CHAT_PATH, {
      model: 'mistral-small-latest',
      messages: HELLO,
      temperature: 0,
      n: 1,
      stream: true,
    });
  });

  it('re-emits test vector 5 as the reference chunks, usage dropped', async () => {
    fake.reply({ kind: 'sse', events: CHAT_STREAM_EVENTS });
    const response = await invokeStream('chat', { messages: HELLO, stream: true });
    expect(response).toEqual({ status: 200, events: CHAT_GATEWAY_CHUNKS });
  });

  it('streams /v1/chat/completions through the openai SDK', async () => {
    fake.reply({ kind: 'sse', events: CHAT_STREAM_EVENTS });
    const stream = await client.chat.completions.create({ model: 'chat', messages: HELLO, stream: true });
    const chunks: unknown[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    await expectUpstreamCall(CHAT_PATH, {
      model: 'mistral-small-latest',
      messages: HELLO,
      temperature: 0,
      n: 1,
      stream: true,
    });
    expect(chunks).toEqual(CHAT_GATEWAY_CHUNKS);
  });

  it('forwards each chunk as soon as Mistral sends it', async () => {
    const upstream = new ManualStream();
    fake.reply({ kind: 'sse-manual', stream: upstream });
    const pending = client.chat.completions.create({ model: 'chat', messages: HELLO, stream: true });
    await upstream.started();
    upstream.send(sseFrame(CHAT_STREAM_CHUNKS[0]));
    const iterator = (await pending)[Symbol.asyncIterator]();
    expect((await iterator.next()).value).toEqual(CHAT_GATEWAY_CHUNKS[0]);
    upstream.send(sseFrame(CHAT_STREAM_CHUNKS[1]));
    expect((await iterator.next()).value).toEqual(CHAT_GATEWAY_CHUNKS[1]);
    upstream.send(sseFrame('[DONE]'));
    upstream.end();
    expect((await iterator.next()).done).toBe(true);
  });

  it('maps a streamed tool call with its index', async () => {
    fake.reply({ kind: 'sse', events: CHAT_STREAM_TOOL_CALL_EVENTS });
    const response = await invokeStream('chat', { messages: HELLO, stream: true, tools: [GET_WEATHER_TOOL] });
    expect((response.events[1] as (typeof CHAT_GATEWAY_CHUNKS)[number]).choices).toEqual([
      {
        index: 0,
        finish_reason: 'tool_calls',
        delta: {
          role: null,
          content: null,
          tool_calls: [
            {
              index: 0,
              id: 'D681PevKs',
              type: null,
              function: { name: 'get_current_weather', arguments: '{"location": "Paris"}' },
            },
          ],
        },
      },
    ]);
  });

  it('answers an upstream error before the stream with its status and Mistral message', async () => {
    fake.reply({ kind: 'json', status: 401, body: UNAUTHORIZED_ERROR });
    const response = await invoke('chat', { messages: HELLO, stream: true });
    expect(response).toEqual({ status: 401, json: { detail: 'Unauthorized' } });
  });

  it('ends the stream with an error event naming the field when a chunk is malformed', async () => {
    const upstream = new ManualStream();
    fake.reply({ kind: 'sse-manual', stream: upstream });
    const pending = invokeStream('chat', { messages: HELLO, stream: true });
    await upstream.started();
    upstream.send(sseFrame(CHAT_STREAM_CHUNKS[0]));
    upstream.send(sseFrame({ id: 'cmpl-1', object: 'chat.completion.chunk' }));
    const response = await pending;
    expect(response).toEqual({
      status: 200,
      events: [
        CHAT_GATEWAY_CHUNKS[0],
        {
          error: {
            message: 'Malformed response from Mistral: missing choices',
            type: 'UpstreamProtocolError',
          },
        },
      ],
    });
  });

  it('skips a chunk with neither choices nor usage', () => {
    expect(fromMistralChatEvent({ id: 'cmpl-1', choices: [], usage: null }, { created: 1234 })).toBeNull();
  });

  it('keeps a usage-only tail as a chunk without choices', () => {
    const usage = { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 };
    expect(fromMistralChatEvent({ id: 'cmpl-1', choices: [], usage }, { created: 1234 })).toEqual({
      id: 'cmpl-1',
      object: 'chat.completion.chunk',
      created: 1234,
      model: null,
      choices: [],
      usage,
    });
  });

  it("hands the last chunk's usage to the gateway's accounting", async () => {
    fake.reply({ kind: 'sse', events: CHAT_STREAM_EVENTS });
    const chunks = await adapterChatChunks(gateway, 'chat', { messages: HELLO, stream: true });
    expect(chunks).toEqual([
      CHAT_GATEWAY_CHUNKS[0],
      CHAT_GATEWAY_CHUNKS[1],
      { ...CHAT_GATEWAY_CHUNKS[2], usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 } },
    ]);
  });

  it('passes the usage on the last chunk to a client that asked with stream_options', async () => {
    fake.reply({ kind: 'sse', events: CHAT_STREAM_EVENTS });
    const stream = await client.chat.completions.create({
      model: 'chat',
      messages: HELLO,
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: unknown[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks).toEqual([
      CHAT_GATEWAY_CHUNKS[0],
      CHAT_GATEWAY_CHUNKS[1],
      { ...CHAT_GATEWAY_CHUNKS[2], usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 } },
    ]);
  });

  it('stamps a chunk without created with the time the stream started', () => {
    const chunk = { id: 'cmpl-1', model: 'm', choices: [{ index: 0, delta: { content: 'a' } }] };
    expect(fromMistralChatEvent(chunk, { created: 1234 })).toEqual({
      id: 'cmpl-1',
      object: 'chat.completion.chunk',
      created: 1234,
      model: 'm',
      choices: [{ index: 0, finish_reason: null, delta: { role: null, content: 'a', tool_calls: null } }],
    });
  });
});

describe('mistral upstream failures', () => {
  const failures: [string, FakeReply, number, unknown][] = [
    ['401 (test vector 3)', { kind: 'json', status: 401, body: UNAUTHORIZED_ERROR }, 401, UNAUTHORIZED_ERROR],
    ['400', { kind: 'json', status: 400, body: INVALID_MODEL_ERROR }, 400, INVALID_MODEL_ERROR],
    ['429', { kind: 'json', status: 429, body: RATE_LIMIT_ERROR }, 429, RATE_LIMIT_ERROR],
    ['503', { kind: 'json', status: 503, body: SERVICE_UNAVAILABLE_ERROR }, 503, SERVICE_UNAVAILABLE_ERROR],
  ];

  it.each(failures)(
    'maps an upstream %s to the same status with the whole Mistral body as detail',
    async (_name, reply, status, detail) => {
      fake.reply(reply);
      const response = await invoke('completions', { prompt: 'x' });
      expect(response).toEqual({ status, json: { detail } });
    },
  );

  it.each(failures)(
    'maps an upstream %s to the same status on /v1 with the Mistral body as message',
    async (_name, reply, status, detail) => {
      fake.reply(reply);
      const error = await sdkError(client.chat.completions.create({ model: 'chat', messages: HELLO }));
      expect(error.status).toBe(status);
      expect((error.error as { message: string }).message).toBe(JSON.stringify(detail));
    },
  );

  it.each([
    ['chat', { messages: HELLO }, { ...CHAT_RESPONSE, usage: undefined }, 'missing usage'],
    ['chat', { messages: HELLO }, { ...CHAT_RESPONSE, choices: undefined }, 'missing choices'],
    ['chat', { messages: HELLO }, { ...CHAT_RESPONSE, choices: [{ index: 0 }] }, 'missing choices.0.message'],
    ['completions', { prompt: 'x' }, { ...COMPLETIONS_RESPONSE, usage: undefined }, 'missing usage'],
    ['embeddings', { input: 'x' }, { ...EMBEDDINGS_RESPONSE, usage: undefined }, 'missing usage'],
    [
      'embeddings',
      { input: 'x' },
      { ...EMBEDDINGS_RESPONSE, data: [{ index: 0 }] },
      'invalid data.0.embedding',
    ],
  ])('answers a malformed 2xx %s body with 502 naming the field', async (endpoint, request, body, what) => {
    fake.reply({ kind: 'json', body });
    const response = await invoke(endpoint, request);
    expect(response).toEqual({ status: 502, json: { detail: `Malformed response from Mistral: ${what}` } });
  });

  it('answers a malformed 2xx body on /v1 with 502 naming the field', async () => {
    fake.reply({ kind: 'json', body: { ...CHAT_RESPONSE, usage: undefined } });
    const error = await sdkError(client.chat.completions.create({ model: 'chat', messages: HELLO }));
    expect(error.status).toBe(502);
    expect(error.error).toEqual(
      openAiError('Malformed response from Mistral: missing usage', 'api_error', 'upstream_protocol'),
    );
  });

  it('answers a non-JSON 2xx body with 502 naming the content type', async () => {
    fake.reply({ kind: 'text', body: '<html>Bad gateway</html>', contentType: 'text/html' });
    const response = await invoke('chat', { messages: HELLO });
    expect(response).toEqual({
      status: 502,
      json: {
        detail:
          'The returned data type from the route service is not supported. Received content type: text/html',
      },
    });
  });

  it('answers 504 when Mistral does not answer within the configured timeout', async () => {
    const slowGateway = await startTestGateway(gatewayYaml(`${fake.url}/v1`), { timeoutSeconds: 1 });
    try {
      fake.reply({ kind: 'hang' });
      const response = await invokeEndpoint(slowGateway.url, 'chat', { messages: HELLO });
      expect(response.status).toBe(504);
      expect(await response.json()).toEqual({
        detail: 'The upstream provider did not respond within 1 seconds.',
      });
    } finally {
      await slowGateway.close();
    }
  });
});

describe('mistral parameter ranges', () => {
  it.each([
    [
      'chat',
      { messages: HELLO, seed: 42 },
      { model: 'mistral-small-latest', messages: HELLO, temperature: 0, n: 1, random_seed: 42 },
    ],
    [
      'completions',
      { prompt: 'Hello', seed: 42 },
      {
        model: 'mistral-tiny',
        random_seed: 42,
        temperature: 0,
        messages: [{ role: 'user', content: 'Hello' }],
      },
    ],
  ])("sends OpenAI's seed on %s as Mistral's random_seed", async (endpoint, body, upstreamBody) => {
    fake.reply({ kind: 'json', body: endpoint === 'chat' ? CHAT_RESPONSE : COMPLETIONS_RESPONSE });
    expect((await invoke(endpoint, body)).status).toBe(200);
    await expectUpstreamCall(CHAT_PATH, upstreamBody);
  });

  it.each([
    [
      'chat',
      { messages: HELLO, temperature: 1.6 },
      'Invalid value for temperature: must be a number between 0 and 1.5 for Mistral.',
    ],
    [
      'chat',
      { messages: HELLO, seed: -1 },
      'Invalid value for seed: must be an integer of at least 0 for Mistral.',
    ],
    [
      'completions',
      { prompt: 'x', seed: 1.5 },
      'Invalid value for seed: must be an integer of at least 0 for Mistral.',
    ],
  ])('answers 422 without calling Mistral for %s %j', async (endpoint, body, detail) => {
    expect(await invoke(endpoint, body)).toEqual({ status: 422, json: { detail } });
    expect(fake.requests).toHaveLength(0);
  });

  it("sends chat's temperature of 1.5, Mistral's maximum, unchanged", async () => {
    fake.reply({ kind: 'json', body: CHAT_RESPONSE });
    await invoke('chat', { messages: HELLO, temperature: 1.5 });
    await expectUpstreamCall(CHAT_PATH, {
      model: 'mistral-small-latest',
      messages: HELLO,
      temperature: 1.5,
      n: 1,
    });
  });
});

describe('mistral errors inside a stream', () => {
  it("ends the stream with an error event carrying Mistral's own message", async () => {
    fake.reply({
      kind: 'sse',
      events: [sseFrame(CHAT_STREAM_CHUNKS[0]), sseFrame(SERVICE_UNAVAILABLE_ERROR)],
    });
    const response = await invokeStream('chat', { messages: HELLO, stream: true });
    expect(response).toEqual({
      status: 200,
      events: [CHAT_GATEWAY_CHUNKS[0], { error: { message: 'Service unavailable.', type: 'UpstreamError' } }],
    });
  });

  it('ends the stream with the message of an OpenAI-style error payload', async () => {
    const error = { error: { message: 'Internal error', type: 'internal_server_error', code: 500 } };
    fake.reply({ kind: 'sse', events: [sseFrame(error)] });
    const response = await invokeStream('chat', { messages: HELLO, stream: true });
    expect(response).toEqual({
      status: 200,
      events: [{ error: { message: 'Internal error', type: 'UpstreamError' } }],
    });
  });
});
