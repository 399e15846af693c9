import { join } from 'node:path';
import OpenAI, { APIError } from 'openai';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { UpstreamProtocolError } from '../../src/errors.js';
import { ProviderRegistry } from '../../src/providers/registry.js';
import {
  TogetherAiAdapter,
  fromTogetherAiChatEvent,
  fromTogetherAiCompletionsEvent,
  togetherAiConfigSchema,
} from '../../src/providers/togetherai.js';
import { PoolSet } from '../../src/upstream/pool.js';
import { Upstream } from '../../src/upstream/request.js';
import { FakeUpstream, ManualStream, sseFrame, type RecordedRequest } from '../fakes/fake-upstream.js';
import {
  CHAT_RESPONSE,
  CHAT_RESPONSE_WITH_TOOL_CALL,
  CHAT_STREAM_EVENTS,
  COMPLETIONS_RESPONSE,
  COMPLETIONS_STREAM_EVENTS,
  EMBEDDINGS_RESPONSE,
  INVALID_KEY_ERROR,
  RATE_LIMIT_ERROR,
  SERVICE_UNAVAILABLE_ERROR,
} from '../fakes/togetherai.js';
import { adapterChatChunks } from '../helpers/adapter-stream.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { invokeEndpoint } from '../helpers/http.js';
import { parseSse, sseEvents } from '../helpers/sse.js';
import { expectJsonPost } from '../helpers/upstream-call.js';

const KEY = 'key';
const MODEL = 'mistralai/Mixtral-8x7B-Instruct-v0.1';
const EMBEDDINGS_MODEL = 'togethercomputer/m2-bert-80M-8k-retrieval';
const CREDENTIAL_HEADERS = ['x-api-key', 'api-key', 'openai-organization', 'proxy-authorization'];

function gatewayYaml(apiBase: string): string {
  const config = `config: { togetherai_api_key: ${KEY}, togetherai_api_base: "${apiBase}" }`;
  return `
endpoints:
  - name: chat
    endpoint_type: llm/v1/chat
    model: { provider: togetherai, name: ${MODEL}, ${config} }
  - name: completions
    endpoint_type: llm/v1/completions
    model: { provider: togetherai, name: ${MODEL}, ${config} }
  - name: embeddings
    endpoint_type: llm/v1/embeddings
    model: { provider: togetherai, name: ${EMBEDDINGS_MODEL}, ${config} }
`;
}

/** Method, path, query and every credential header of one upstream call. */
function expectTogetherCall(request: RecordedRequest, path: string): void {
  expectJsonPost(request, path, CREDENTIAL_HEADERS);
  expect(request.headers.authorization).toBe(`Bearer ${KEY}`);
}

const CHAT_CHUNKS = [
  {
    id: 'test-id',
    object: 'chat.completion.chunk',
    created: 1,
    model: MODEL,
    choices: [{ index: 0, finish_reason: null, delta: { role: null, content: 'test', tool_calls: null } }],
  },
  {
    id: 'test-id',
    object: 'chat.completion.chunk',
    created: 1,
    model: MODEL,
    choices: [
      { index: 0, finish_reason: 'length', delta: { role: null, content: 'test', tool_calls: null } },
    ],
  },
];

const COMPLETIONS_CHUNKS = [
  {
    id: '8447f286bbdb67b3-SJC',
    object: 'text_completion_chunk',
    created: 1705089226,
    model: MODEL,
    choices: [{ index: 0, finish_reason: null, text: ' Paris' }],
  },
  {
    id: '8447f286bbdb67b3-SJC',
    object: 'text_completion_chunk',
    created: 1705089226,
    model: MODEL,
    choices: [{ index: 0, finish_reason: 'stop', text: '.' }],
  },
];

const CHAT_REQUEST = {
  messages: [{ role: 'user' as const, content: "Who's the protagonist in Metro 2033?" }],
  max_tokens: 200,
  temperature: 1.0,
};

const COMPLETIONS_REQUEST = {
  prompt: 'Whats the capital of France?',
  max_tokens: 200,
  temperature: 1.0,
  n: 1,
};

/** Reference §4 gateway response, with Together's finish reason kept. */
const CHAT_GATEWAY_RESPONSE = {
  id: '8448080b880415ea-SJC',
  object: 'chat.completion',
  created: 1705090115,
  model: MODEL,
  choices: [
    {
      index: 0,
      message: { role: 'assistant', content: 'Its Artyom!', tool_calls: null, refusal: null },
      finish_reason: 'stop',
    },
  ],
  usage: { prompt_tokens: 13, completion_tokens: 7, total_tokens: 20 },
};

/** Reference §5 gateway response, with Together's `eos` reported as `stop`. */
const COMPLETIONS_GATEWAY_RESPONSE = {
  id: '8447f286bbdb67b3-SJC',
  object: 'text_completion',
  created: 1705089226,
  model: MODEL,
  choices: [{ index: 0, text: 'The capital of France is Paris.', finish_reason: 'stop' }],
  usage: { prompt_tokens: 16, completion_tokens: 78, total_tokens: 94 },
};

const EMBEDDINGS_GATEWAY_RESPONSE = {
  object: 'list',
  data: [{ object: 'embedding', embedding: [0.44990748, -0.2521129, -0.43091708, 0.214978], index: 0 }],
  model: EMBEDDINGS_MODEL,
  usage: { prompt_tokens: null, total_tokens: null },
};

const MAX_TOKENS_REQUIRED =
  'max_tokens is not present in payload.It is a required parameter for TogetherAI completions.';

describe('togetherai config', () => {
  it.each([
    [
      'a missing key',
      {},
      'togetherai_api_key',
      'The api key provided is not a string. Please provide either an environment variable key, a path to a file containing the api key, or the api key itself',
    ],
    [
      'a key naming an unset variable',
      { togetherai_api_key: '$LLMGW_TEST_UNSET_TOGETHER_KEY' },
      'togetherai_api_key',
      "Environment variable 'LLMGW_TEST_UNSET_TOGETHER_KEY' is not set",
    ],
    [
      'an API base that is not a URL',
      { togetherai_api_key: KEY, togetherai_api_base: 'api.together.xyz' },
      'togetherai_api_base',
      'must be an http(s) URL',
    ],
    [
      'an API base that is not http(s)',
      { togetherai_api_key: KEY, togetherai_api_base: 'ftp://api.together.xyz/v1' },
      'togetherai_api_base',
      'must be an http(s) URL',
    ],
  ])('rejects %s', (_case, config, field, message) => {
    const result = togetherAiConfigSchema.safeParse(config);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual([field]);
    expect(result.error?.issues[0]?.message).toBe(message);
  });

  it.each([
    [{}, 'https://api.together.xyz/v1'],
    [{ togetherai_api_base: 'http://127.0.0.1:9/together/v1/' }, 'http://127.0.0.1:9/together/v1'],
    [{ togetherai_api_base: 'http://127.0.0.1:9' }, 'http://127.0.0.1:9'],
  ])('joins the API base of %j with each API path', async (base, expectedBase) => {
    const pools = new PoolSet({ connectTimeoutMs: 1000 });
    const upstream = new Upstream(pools, { timeoutSeconds: 5 });
    const target = vi.spyOn(upstream, 'target');
    const config = togetherAiConfigSchema.parse({ togetherai_api_key: KEY, ...base });
    new TogetherAiAdapter({
      endpointName: 'chat',
      endpointType: 'llm/v1/chat',
      modelName: MODEL,
      config,
      upstream,
    });
    expect(target.mock.calls.map(([url]) => url)).toEqual([
      `${expectedBase}/chat/completions`,
      `${expectedBase}/completions`,
      `${expectedBase}/embeddings`,
    ]);
    await pools.close();
  });

  it('loads examples/togetherai.yaml with its key from the environment', async () => {
    vi.stubEnv('TOGETHERAI_API_KEY', 'test-key');
    try {
      const path = join(import.meta.dirname, '..', '..', 'examples', 'togetherai.yaml');
      const config = await loadConfig(path, new ProviderRegistry());
      expect(
        config.endpoints.map(({ name, endpointType, providerName }) => ({
          name,
          endpointType,
          providerName,
        })),
      ).toEqual([
        { name: 'together-chat', endpointType: 'llm/v1/chat', providerName: 'togetherai' },
        { name: 'together-completions', endpointType: 'llm/v1/completions', providerName: 'togetherai' },
        { name: 'together-embeddings', endpointType: 'llm/v1/embeddings', providerName: 'togetherai' },
      ]);
    } finally {
      vi.unstubAllEnvs();
    }
  });
});

describe('togetherai stream event mappers', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('uses the current time for a completions chunk without created', () => {
    vi.spyOn(Date, 'now').mockReturnValue(1_705_089_226_900);
    const chunk = fromTogetherAiCompletionsEvent(
      { id: 'c1', choices: [{ index: 0, text: 'Hi', finish_reason: null }] },
      MODEL,
    );
    expect(chunk).toEqual({
      id: 'c1',
      object: 'text_completion_chunk',
      created: 1705089226,
      model: MODEL,
      choices: [{ index: 0, finish_reason: null, text: 'Hi' }],
    });
  });

  it('falls back to delta.content when a chat chunk has no text', () => {
    const chunk = fromTogetherAiChatEvent(
      { id: 'c1', created: 5, choices: [{ index: 0, finish_reason: null, delta: { content: 'Hi' } }] },
      MODEL,
    );
    expect(chunk?.choices[0]?.delta.content).toBe('Hi');
  });

  it('keeps tool-call deltas of a chat chunk', () => {
    const chunk = fromTogetherAiChatEvent(
      {
        id: 'c1',
        created: 5,
        choices: [
          {
            index: 0,
            text: '',
            finish_reason: 'tool_calls',
            delta: {
              role: 'assistant',
              content: null,
              tool_calls: [
                {
                  index: 0,
                  id: 'call_4q2c8xk1m3',
                  type: 'function',
                  function: { name: 'get_weather', arguments: '{"location":"Singapore"}' },
                },
              ],
            },
          },
        ],
      },
      MODEL,
    );
    expect(chunk?.choices).toEqual([
      {
        index: 0,
        finish_reason: 'tool_calls',
        delta: {
          role: null,
          content: '',
          tool_calls: [
            {
              index: 0,
              id: 'call_4q2c8xk1m3',
              type: 'function',
              function: { name: 'get_weather', arguments: '{"location":"Singapore"}' },
            },
          ],
        },
      },
    ]);
  });

  it('keeps a usage-only chunk as a chunk without choices', () => {
    const usage = { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 };
    const chunk = fromTogetherAiChatEvent({ id: 'c1', created: 5, choices: [], usage }, MODEL);
    expect(chunk).toEqual({
      id: 'c1',
      object: 'chat.completion.chunk',
      created: 5,
      model: MODEL,
      choices: [],
      usage,
    });
  });

  it('skips a chunk with neither choices nor usage', () => {
    expect(fromTogetherAiChatEvent({ id: 'c1', created: 5, choices: [], usage: null }, MODEL)).toBeNull();
  });

  it('reports a chunk without choices as a 502 naming the field', () => {
    expect(() => fromTogetherAiChatEvent({ id: 'c1', created: 5 }, MODEL)).toThrow(
      new UpstreamProtocolError('Malformed response from TogetherAI: missing choices'),
    );
  });
});

describe('togetherai through the gateway', () => {
  let fake: FakeUpstream;
  let gateway: TestGateway;
  let client: OpenAI;

  beforeEach(async () => {
    fake = await FakeUpstream.start();
    gateway = await startTestGateway(gatewayYaml(`${fake.url}/v1`));
    client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  });

  afterEach(async () => {
    await gateway.close();
    await fake.close();
  });

  function invoke(endpoint: string, body: unknown): Promise<Response> {
    return invokeEndpoint(gateway.url, endpoint, body);
  }

  async function invokeJson(endpoint: string, body: unknown): Promise<{ status: number; body: unknown }> {
    const response = await invoke(endpoint, body);
    return { status: response.status, body: await response.json() };
  }

  /** The SDK's error for a call expected to fail. */
  async function sdkError(call: Promise<unknown>): Promise<APIError> {
    const error: unknown = await call.then(
      () => null,
      (reason: unknown) => reason,
    );
    expect(error).toBeInstanceOf(APIError);
    return error as APIError;
  }

  describe('completions', () => {
    it('sends reference vector 1 to /v1/completions with the configured model', async () => {
      fake.reply({ kind: 'json', body: COMPLETIONS_RESPONSE });
      await invokeJson('completions', COMPLETIONS_REQUEST);
      const request = await fake.nextRequest();
      expectTogetherCall(request, '/v1/completions');
      expect(request.body).toEqual({
        model: MODEL,
        prompt: 'Whats the capital of France?',
        max_tokens: 200,
        temperature: 1.0,
        n: 1,
      });
    });

    it('maps the completions response field by field on /endpoints', async () => {
      fake.reply({ kind: 'json', body: COMPLETIONS_RESPONSE });
      const response = await invokeJson('completions', COMPLETIONS_REQUEST);
      expect(response).toEqual({ status: 200, body: COMPLETIONS_GATEWAY_RESPONSE });
    });

    it('serves completions to the openai SDK on /v1/completions', async () => {
      fake.reply({ kind: 'json', body: COMPLETIONS_RESPONSE });
      const response = await client.completions.create({ model: 'completions', ...COMPLETIONS_REQUEST });
      expect(response).toEqual(COMPLETIONS_GATEWAY_RESPONSE);
      expect((await fake.nextRequest()).body).toEqual({ model: MODEL, ...COMPLETIONS_REQUEST });
    });

    it('answers 422 without calling Together when max_tokens is missing (vector 4)', async () => {
      const response = await invokeJson('completions', {
        prompt: 'What is the capital of France?',
        temperature: 1.0,
      });
      expect(response).toEqual({ status: 422, body: { detail: MAX_TOKENS_REQUIRED } });
      expect(fake.requests).toEqual([]);
    });

    it('answers 422 naming max_tokens to the openai SDK', async () => {
      const error = await sdkError(client.completions.create({ model: 'completions', prompt: 'Hi' }));
      expect(error.status).toBe(422);
      expect(error.error).toMatchObject({ message: MAX_TOKENS_REQUIRED, param: 'max_tokens' });
      expect(fake.requests).toEqual([]);
    });

    it('answers 422 when logprobs is not an integer (vector 4)', async () => {
      const response = await invokeJson('completions', {
        prompt: 'What is the capital of France?',
        temperature: 1.0,
        max_tokens: 200,
        logprobs: 'invalid_type',
      });
      expect(response).toEqual({
        status: 422,
        body: { detail: 'Wrong type for logprobs. It should be an 32bit integer.' },
      });
      expect(fake.requests).toEqual([]);
    });

    it('answers 422 when top_logprobs is not an integer', async () => {
      const response = await invokeJson('completions', { prompt: 'Hi', max_tokens: 5, top_logprobs: 1.5 });
      expect(response).toEqual({
        status: 422,
        body: { detail: 'Wrong type for top_logprobs. It should a 32bit integer.' },
      });
      expect(fake.requests).toEqual([]);
    });

    it('checks max_tokens before starting a completions stream', async () => {
      const response = await invokeJson('completions', { prompt: 'Hi', stream: true });
      expect(response).toEqual({ status: 422, body: { detail: MAX_TOKENS_REQUIRED } });
      expect(fake.requests).toEqual([]);
    });

    it('streams completions chunks on /endpoints', async () => {
      fake.reply({ kind: 'sse', events: COMPLETIONS_STREAM_EVENTS });
      const response = await invoke('completions', { ...COMPLETIONS_REQUEST, stream: true });
      expect(response.status).toBe(200);
      expect(parseSse(await response.text())).toEqual(COMPLETIONS_CHUNKS);
      const request = await fake.nextRequest();
      expectTogetherCall(request, '/v1/completions');
      expect(request.body).toEqual({ model: MODEL, ...COMPLETIONS_REQUEST, stream: true });
    });

    it('streams completions to the openai SDK', async () => {
      fake.reply({ kind: 'sse', events: COMPLETIONS_STREAM_EVENTS });
      const stream = await client.completions.create({
        model: 'completions',
        ...COMPLETIONS_REQUEST,
        stream: true,
      });
      const chunks: unknown[] = [];
      for await (const chunk of stream) chunks.push(chunk);
      expect(chunks).toEqual(COMPLETIONS_CHUNKS);
    });
  });

  describe('chat', () => {
    it('sends reference vector 2 to /v1/chat/completions with n defaulted', async () => {
      fake.reply({ kind: 'json', body: CHAT_RESPONSE });
      await invokeJson('chat', CHAT_REQUEST);
      const request = await fake.nextRequest();
      expectTogetherCall(request, '/v1/chat/completions');
      expect(request.body).toEqual({
        model: MODEL,
        messages: [{ role: 'user', content: "Who's the protagonist in Metro 2033?" }],
        max_tokens: 200,
        temperature: 1.0,
        n: 1,
      });
    });

    it('maps the chat response field by field on /endpoints', async () => {
      fake.reply({ kind: 'json', body: CHAT_RESPONSE });
      const response = await invokeJson('chat', CHAT_REQUEST);
      expect(response).toEqual({ status: 200, body: CHAT_GATEWAY_RESPONSE });
    });

    it('serves chat to the openai SDK on /v1/chat/completions', async () => {
      fake.reply({ kind: 'json', body: CHAT_RESPONSE });
      const response = await client.chat.completions.create({ model: 'chat', ...CHAT_REQUEST });
      expect(response).toEqual(CHAT_GATEWAY_RESPONSE);
      const request = await fake.nextRequest();
      expectTogetherCall(request, '/v1/chat/completions');
      expect(request.body).toEqual({ model: MODEL, ...CHAT_REQUEST, n: 1 });
    });

    it('lets a client model on /endpoints replace the configured one upstream', async () => {
      fake.reply({ kind: 'json', body: CHAT_RESPONSE });
      const response = await invokeJson('chat', { ...CHAT_REQUEST, model: 'mistralai/Mixtral-8x7B-v0.1' });
      expect(response).toEqual({ status: 200, body: CHAT_GATEWAY_RESPONSE });
      expect((await fake.nextRequest()).body).toEqual({
        ...CHAT_REQUEST,
        model: 'mistralai/Mixtral-8x7B-v0.1',
        n: 1,
      });
    });

    it('forwards system messages, n, stop and extra parameters unchanged', async () => {
      fake.reply({ kind: 'json', body: CHAT_RESPONSE });
      const body = {
        messages: [
          { role: 'system', content: 'Answer in one word.' },
          { role: 'user', content: 'Capital of France?' },
        ],
        temperature: 0.7,
        n: 2,
        stop: ['</s>', '[/INST]'],
        top_p: 0.9,
        top_k: 50,
        repetition_penalty: 1.1,
        tool_choice: 'auto',
      };
      await invokeJson('chat', body);
      expect((await fake.nextRequest()).body).toEqual({ model: MODEL, ...body });
    });

    it('renames top_logprobs to Together logprobs and accepts a boolean logprobs', async () => {
      fake.reply({ kind: 'json', body: CHAT_RESPONSE });
      await invokeJson('chat', { ...CHAT_REQUEST, logprobs: true, top_logprobs: 3 });
      expect((await fake.nextRequest()).body).toEqual({ model: MODEL, ...CHAT_REQUEST, n: 1, logprobs: 3 });
    });

    it('answers 422 when chat top_logprobs is not an integer on /v1', async () => {
      const error = await sdkError(
        client.chat.completions.create({
          model: 'chat',
          messages: [{ role: 'user', content: 'Hi' }],
          top_logprobs: 'three' as unknown as number,
        }),
      );
      expect(error.status).toBe(422);
      expect(error.error).toMatchObject({
        message: 'Wrong type for top_logprobs. It should a 32bit integer.',
        param: 'top_logprobs',
      });
      expect(fake.requests).toEqual([]);
    });

    it('keeps tool calls, finish reasons and every choice of an n > 1 answer', async () => {
      fake.reply({ kind: 'json', body: CHAT_RESPONSE_WITH_TOOL_CALL });
      const response = await invokeJson('chat', { messages: [{ role: 'user', content: 'Weather?' }], n: 2 });
      expect(response.body).toEqual({
        id: '8f3c1e7a2b9d4c11-SJC',
        object: 'chat.completion',
        created: 1733000000,
        model: MODEL,
        choices: [
          {
            index: 0,
            message: {
              role: 'assistant',
              content: null,
              tool_calls: [
                {
                  id: 'call_4q2c8xk1m3',
                  type: 'function',
                  function: { name: 'get_weather', arguments: '{"location":"Singapore"}' },
                },
              ],
              refusal: null,
            },
            finish_reason: 'tool_calls',
          },
          {
            index: 1,
            message: { role: 'assistant', content: 'It is sunny.', tool_calls: null, refusal: null },
            finish_reason: 'stop',
          },
        ],
        usage: { prompt_tokens: 40, completion_tokens: 25, total_tokens: 65 },
      });
    });

    it('streams reference vector 3 with a client model override on /endpoints', async () => {
      fake.reply({ kind: 'sse', events: CHAT_STREAM_EVENTS });
      const body = {
        model: 'mistralai/Mixtral-8x7B-v0.1',
        messages: [
          { role: 'system', content: 'This is a test' },
          { role: 'user', content: 'This is a test' },
        ],
        temperature: 1,
        n: 1,
        stream: true,
      };
      const response = await invoke('chat', body);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
      expect(parseSse(await response.text())).toEqual(CHAT_CHUNKS);
      const request = await fake.nextRequest();
      expectTogetherCall(request, '/v1/chat/completions');
      expect(request.body).toEqual(body);
    });

    it('streams chat to the openai SDK', async () => {
      fake.reply({ kind: 'sse', events: CHAT_STREAM_EVENTS });
      const stream = await client.chat.completions.create({
        model: 'chat',
        messages: [{ role: 'user', content: 'This is a test' }],
        stream: true,
      });
      const chunks: unknown[] = [];
      for await (const chunk of stream) chunks.push(chunk);
      expect(chunks).toEqual(CHAT_CHUNKS);
      expect((await fake.nextRequest()).body).toEqual({
        model: MODEL,
        messages: [{ role: 'user', content: 'This is a test' }],
        temperature: 0,
        n: 1,
        stream: true,
      });
    });

    it("hands the last chunk's usage to the gateway's accounting", async () => {
      fake.reply({ kind: 'sse', events: CHAT_STREAM_EVENTS });
      const chunks = await adapterChatChunks(gateway, 'chat', {
        messages: [{ role: 'user', content: 'This is a test' }],
        stream: true,
      });
      const usage = { prompt_tokens: 17, completion_tokens: 200, total_tokens: 217 };
      expect(chunks).toEqual([...CHAT_CHUNKS.slice(0, -1), { ...CHAT_CHUNKS.at(-1), usage }]);
    });

    it('passes the usage on the last chunk to a client that asked with stream_options', async () => {
      fake.reply({ kind: 'sse', events: CHAT_STREAM_EVENTS });
      const stream = await client.chat.completions.create({
        model: 'chat',
        messages: [{ role: 'user', content: 'This is a test' }],
        stream: true,
        stream_options: { include_usage: true },
      });
      const chunks: unknown[] = [];
      for await (const chunk of stream) chunks.push(chunk);
      const usage = { prompt_tokens: 17, completion_tokens: 200, total_tokens: 217 };
      expect(chunks).toEqual([...CHAT_CHUNKS.slice(0, -1), { ...CHAT_CHUNKS.at(-1), usage }]);
    });

    it('re-emits each chat chunk as soon as Together sends it', async () => {
      const stream = new ManualStream();
      fake.reply({ kind: 'sse-manual', stream });
      const responding = invoke('chat', { messages: [{ role: 'user', content: 'Hi' }], stream: true });
      await stream.started();
      stream.send(CHAT_STREAM_EVENTS[0]!);
      const events = sseEvents(await responding);
      expect((await events.next()).value).toEqual(CHAT_CHUNKS[0]);
      stream.send(CHAT_STREAM_EVENTS[1]!);
      expect((await events.next()).value).toEqual(CHAT_CHUNKS[1]);
      stream.send(CHAT_STREAM_EVENTS[2]!);
      stream.end();
      expect((await events.next()).done).toBe(true);
    });

    it('keeps the choice index of each chunk of an n > 1 stream and skips SSE comments', async () => {
      const chunk = (index: number, text: string) =>
        sseFrame({
          id: 'multi',
          object: 'chat.completion.chunk',
          created: 9,
          choices: [{ index, text, finish_reason: null, delta: { content: text } }],
        });
      fake.reply({
        kind: 'sse',
        events: [': keep-alive\n\n', chunk(1, 'B'), chunk(0, 'A'), sseFrame('[DONE]')],
      });
      const response = await invoke('chat', {
        messages: [{ role: 'user', content: 'Hi' }],
        n: 2,
        stream: true,
      });
      const choices = parseSse(await response.text()).map(
        (event) => (event as { choices: unknown[] }).choices,
      );
      expect(choices).toEqual([
        [{ index: 1, finish_reason: null, delta: { role: null, content: 'B', tool_calls: null } }],
        [{ index: 0, finish_reason: null, delta: { role: null, content: 'A', tool_calls: null } }],
      ]);
    });

    it('ends the stream with an error event when Together sends a malformed chunk', async () => {
      fake.reply({ kind: 'sse', events: [CHAT_STREAM_EVENTS[0]!, sseFrame({ id: 'x' })] });
      const response = await invoke('chat', { messages: [{ role: 'user', content: 'Hi' }], stream: true });
      expect(parseSse(await response.text())).toEqual([
        CHAT_CHUNKS[0],
        {
          error: {
            message: 'Malformed response from TogetherAI: missing choices',
            type: 'UpstreamProtocolError',
          },
        },
      ]);
    });
  });

  describe('embeddings', () => {
    it('sends the client body as it is when it names a model (reference §6)', async () => {
      fake.reply({ kind: 'json', body: EMBEDDINGS_RESPONSE });
      const body = {
        input: 'Our solar system orbits the Milky Way galaxy at about 515,000 mph.',
        model: EMBEDDINGS_MODEL,
      };
      const response = await invokeJson('embeddings', body);
      expect(response).toEqual({ status: 200, body: EMBEDDINGS_GATEWAY_RESPONSE });
      const request = await fake.nextRequest();
      expectTogetherCall(request, '/v1/embeddings');
      expect(request.body).toEqual(body);
    });

    it('adds the configured model when the client names none on /endpoints', async () => {
      fake.reply({ kind: 'json', body: EMBEDDINGS_RESPONSE });
      await invokeJson('embeddings', { input: ['a', 'b'] });
      expect((await fake.nextRequest()).body).toEqual({ model: EMBEDDINGS_MODEL, input: ['a', 'b'] });
    });

    it('serves embeddings to the openai SDK with the configured model, encoding_format kept at the gateway', async () => {
      fake.reply({ kind: 'json', body: EMBEDDINGS_RESPONSE });
      const response = await client.embeddings.create({
        model: 'embeddings',
        input: 'Our solar system',
        encoding_format: 'float',
      });
      expect(response).toEqual(EMBEDDINGS_GATEWAY_RESPONSE);
      const request = await fake.nextRequest();
      expectTogetherCall(request, '/v1/embeddings');
      expect(request.body).toEqual({
        model: EMBEDDINGS_MODEL,
        input: 'Our solar system',
      });
    });

    it('answers 502 naming the field when the embeddings body has no data', async () => {
      fake.reply({ kind: 'json', body: { object: 'list', model: EMBEDDINGS_MODEL } });
      const response = await invokeJson('embeddings', { input: 'x' });
      expect(response).toEqual({
        status: 502,
        body: { detail: 'Malformed response from TogetherAI: missing data' },
      });
    });
  });

  describe('errors inside a stream', () => {
    it.each([
      [
        'chat',
        { messages: [{ role: 'user', content: 'hi' }], stream: true },
        CHAT_STREAM_EVENTS,
        CHAT_CHUNKS,
      ],
      [
        'completions',
        { prompt: 'hi', max_tokens: 5, stream: true },
        COMPLETIONS_STREAM_EVENTS,
        COMPLETIONS_CHUNKS,
      ],
    ])("ends a %s stream with Together's own message", async (endpoint, body, frames, chunks) => {
      fake.reply({ kind: 'sse', events: [frames[0]!, sseFrame(SERVICE_UNAVAILABLE_ERROR)] });
      const response = await invoke(endpoint, body);
      expect(parseSse(await response.text())).toEqual([
        chunks[0],
        { error: { message: 'The server is overloaded or not ready yet.', type: 'UpstreamError' } },
      ]);
    });
  });

  describe('upstream failures', () => {
    it('maps a Together 401 to 401 with its message (vector 5)', async () => {
      fake.reply({ kind: 'json', status: 401, body: INVALID_KEY_ERROR });
      const response = await invokeJson('chat', CHAT_REQUEST);
      expect(response).toEqual({ status: 401, body: { detail: 'Invalid API key provided' } });
    });

    it('maps a Together 401 to 401 with its message for the openai SDK', async () => {
      fake.reply({ kind: 'json', status: 401, body: INVALID_KEY_ERROR });
      const error = await sdkError(
        client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'Hi' }] }),
      );
      expect(error.status).toBe(401);
      expect(error.error).toMatchObject({ message: 'Invalid API key provided' });
    });

    it.each([
      [429, RATE_LIMIT_ERROR],
      [503, SERVICE_UNAVAILABLE_ERROR],
    ])('maps a Together %i to the same status with its message', async (status, body) => {
      fake.reply({ kind: 'json', status, body });
      const response = await invokeJson('completions', COMPLETIONS_REQUEST);
      expect(response).toEqual({ status, body: { detail: body.error.message } });
    });

    it('answers a failed stream with the Together status before any event', async () => {
      fake.reply({ kind: 'json', status: 401, body: INVALID_KEY_ERROR });
      const response = await invoke('chat', { messages: [{ role: 'user', content: 'Hi' }], stream: true });
      expect(response.status).toBe(401);
      expect(await response.json()).toEqual({ detail: 'Invalid API key provided' });
    });

    it('answers 502 naming usage when a 2xx chat body lacks it', async () => {
      const { usage: _usage, ...withoutUsage } = CHAT_RESPONSE;
      fake.reply({ kind: 'json', body: withoutUsage });
      const response = await invokeJson('chat', CHAT_REQUEST);
      expect(response).toEqual({
        status: 502,
        body: { detail: 'Malformed response from TogetherAI: missing usage' },
      });
    });

    it('answers 502 naming the field to the openai SDK for a malformed 2xx body', async () => {
      fake.reply({ kind: 'json', body: { ...COMPLETIONS_RESPONSE, choices: [{ index: 0 }] } });
      const error = await sdkError(
        client.completions.create({ model: 'completions', prompt: 'Hi', max_tokens: 5 }),
      );
      expect(error.status).toBe(502);
      expect(error.error).toMatchObject({
        message: 'Malformed response from TogetherAI: missing choices.0.text',
      });
    });

    it('keeps the status of an HTML error page, with its text (hardening item 8)', async () => {
      fake.reply({ kind: 'text', status: 503, body: '<html>Bad gateway</html>', contentType: 'text/html' });
      const response = await invokeJson('chat', CHAT_REQUEST);
      expect(response).toEqual({ status: 503, body: { detail: '<html>Bad gateway</html>' } });
    });
  });

  describe('timeouts', () => {
    let slowGateway: TestGateway;

    beforeEach(async () => {
      slowGateway = await startTestGateway(gatewayYaml(`${fake.url}/v1`), { timeoutSeconds: 1 });
      fake.replyAlways({ kind: 'hang' });
    });

    afterEach(async () => {
      await slowGateway.close();
    });

    it('answers 504 when Together does not answer in time', async () => {
      const response = await invokeEndpoint(slowGateway.url, 'chat', CHAT_REQUEST);
      expect(response.status).toBe(504);
      expect(await response.json()).toEqual({
        detail: 'The upstream provider did not respond within 1 seconds.',
      });
    });

    it('answers 504 to the openai SDK when a stream does not start in time', async () => {
      const slowClient = new OpenAI({ baseURL: `${slowGateway.url}/v1`, apiKey: 'unused', maxRetries: 0 });
      const error = await sdkError(
        slowClient.chat.completions.create({
          model: 'chat',
          messages: [{ role: 'user', content: 'Hi' }],
          stream: true,
        }),
      );
      expect(error.status).toBe(504);
    });
  });
});
