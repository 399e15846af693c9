import { join } from 'node:path';
import OpenAI, { APIError } from 'openai';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadConfig, parseConfig } from '../../src/config/load.js';
import { ConfigErrors } from '../../src/errors.js';
import {
  ANTHROPIC_API_BASE,
  AnthropicAdapter,
  anthropicConfigSchema,
} from '../../src/providers/anthropic/index.js';
import { toAnthropicChatBody } from '../../src/providers/anthropic/request.js';
import { fromAnthropicChatEvent, newAnthropicStreamState } from '../../src/providers/anthropic/stream.js';
import { toPythonJson } from '../../src/providers/python-json.js';
import { ProviderRegistry } from '../../src/providers/registry.js';
import { chatRequestSchema } from '../../src/schemas/chat.js';
import { PoolSet } from '../../src/upstream/pool.js';
import { Upstream } from '../../src/upstream/request.js';
import {
  MESSAGE_STOP,
  OVERLOADED_EVENT,
  TOOL_STREAM,
  TOOL_USE_MESSAGE,
  anthropicError,
  anthropicMessage,
  messageDelta,
  messageStart,
  textBlockStart,
  textDelta,
  textStream,
} from '../fakes/anthropic.js';
import { FakeUpstream, ManualStream, type RecordedRequest } from '../fakes/fake-upstream.js';
import { adapterChatChunks } from '../helpers/adapter-stream.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { invokeEndpoint } from '../helpers/http.js';
import { allEvents, sseEvents } from '../helpers/sse.js';
import { expectJsonPost } from '../helpers/upstream-call.js';

// Reference anthropic.md §11: clock 1677858242, models `claude-2.1` / `claude-instant-1`, key `key`.
const KEY = 'key';
const CHAT_MODEL = 'claude-2.1';
const COMPLETIONS_MODEL = 'claude-instant-1';
const CLOCK_SECONDS = 1677858242;
const OTHER_CREDENTIAL_HEADERS = ['authorization', 'api-key', 'openai-organization', 'proxy-authorization'];

function gatewayYaml(apiBase: string, extraConfig = ''): string {
  const config = `config: { anthropic_api_key: ${KEY}, anthropic_api_base: "${apiBase}"${extraConfig} }`;
  return `
endpoints:
  - name: chat
    endpoint_type: llm/v1/chat
    model: { provider: anthropic, name: ${CHAT_MODEL}, ${config} }
  - name: completions
    endpoint_type: llm/v1/completions
    model: { provider: anthropic, name: ${COMPLETIONS_MODEL}, ${config} }
`;
}

/** Method, path, query, the auth and version headers by value, and no other credential. */
function expectMessagesCall(request: RecordedRequest, path = '/v1/messages', version = '2023-06-01'): void {
  expectJsonPost(request, path, OTHER_CREDENTIAL_HEADERS);
  expect(request.headers['x-api-key']).toBe(KEY);
  expect(request.headers['anthropic-version']).toBe(version);
  expect(request.headers['anthropic-beta']).toBeUndefined();
}

function textChunk(id: string, content: string | null, finishReason: string | null = null) {
  return {
    id,
    object: 'chat.completion.chunk',
    created: CLOCK_SECONDS,
    model: CHAT_MODEL,
    choices: [{ index: 0, finish_reason: finishReason, delta: { role: null, content, tool_calls: null } }],
  };
}

/** Reference §4's example request and the upstream body it becomes. */
const VECTOR_1_REQUEST = {
  messages: [
    { role: 'system', content: 'System message' },
    { role: 'user', content: 'Message 1' },
    { role: 'assistant', content: 'Message 2' },
    { role: 'user', content: 'Message 3' },
  ],
  temperature: 0.5,
};
const VECTOR_1_UPSTREAM = {
  model: CHAT_MODEL,
  messages: [
    { role: 'user', content: 'Message 1' },
    { role: 'assistant', content: 'Message 2' },
    { role: 'user', content: 'Message 3' },
  ],
  system: 'System message',
  max_tokens: 8192,
  temperature: 0.25,
};

/** Reference test vector 6. */
const WEATHER_TOOL = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Get current temperature for a given location.',
    parameters: {
      type: 'object',
      properties: { location: { type: 'string', description: 'The name of a city' } },
      required: ['location'],
    },
  },
};
const HI = [{ role: 'user', content: 'hi' }];

/** The upstream body of a plain `hi` chat request. */
function hiBody(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { model: CHAT_MODEL, messages: HI, max_tokens: 8192, temperature: 0, ...extra };
}

function chatBody(request: Record<string, unknown>): Record<string, unknown> {
  return toAnthropicChatBody(chatRequestSchema.parse(request), CHAT_MODEL);
}

describe('anthropic config', () => {
  it('defaults anthropic_version to 2023-06-01 and anthropic_api_base to the public API', () => {
    const config = anthropicConfigSchema.parse({ anthropic_api_key: KEY });
    expect(config.anthropic_version).toBe('2023-06-01');
    expect(config.anthropic_api_base).toBe('https://api.anthropic.com/v1');
  });

  it.each([
    ['a missing anthropic_api_key', {}, 'anthropic_api_key'],
    ['a non-string anthropic_api_key', { anthropic_api_key: 42 }, 'anthropic_api_key'],
    [
      'an anthropic_api_base that is not a URL',
      { anthropic_api_key: KEY, anthropic_api_base: 'x' },
      'anthropic_api_base',
    ],
    [
      'an anthropic_api_base that is not http(s)',
      { anthropic_api_key: KEY, anthropic_api_base: 'ftp://x.example' },
      'anthropic_api_base',
    ],
  ])('rejects %s', (_case, raw, field) => {
    const result = anthropicConfigSchema.safeParse(raw);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual([field]);
  });

  it('rejects an embeddings endpoint at load time', () => {
    const yaml = `
endpoints:
  - name: embeddings
    endpoint_type: llm/v1/embeddings
    model: { provider: anthropic, name: x, config: { anthropic_api_key: ${KEY} } }
`;
    expect(() => parseConfig(yaml, new ProviderRegistry())).toThrow(
      "The provider 'anthropic' does not support endpoint type 'llm/v1/embeddings'.",
    );
  });

  it('rejects an endpoint without a model name at load time', () => {
    const yaml = `
endpoints:
  - name: chat
    endpoint_type: llm/v1/chat
    model: { provider: anthropic, config: { anthropic_api_key: ${KEY} } }
`;
    expect(() => parseConfig(yaml, new ProviderRegistry())).toThrow(ConfigErrors);
    expect(() => parseConfig(yaml, new ProviderRegistry())).toThrow(/Anthropic endpoints must name a model/);
  });

  it('targets /v1/messages on the public API by default', () => {
    const upstream = new Upstream(new PoolSet({ connectTimeoutMs: 1000 }), { timeoutSeconds: 5 });
    const target = vi.spyOn(upstream, 'target');
    new AnthropicAdapter({
      endpointName: 'chat',
      endpointType: 'llm/v1/chat',
      modelName: CHAT_MODEL,
      config: anthropicConfigSchema.parse({ anthropic_api_key: KEY }),
      upstream,
    });
    expect(target.mock.calls).toEqual([
      [`${ANTHROPIC_API_BASE}/messages`],
      [`${ANTHROPIC_API_BASE}/messages/count_tokens`],
    ]);
    expect(ANTHROPIC_API_BASE).toBe('https://api.anthropic.com/v1');
  });

  it('loads examples/anthropic.yaml with the key taken from the environment', async () => {
    vi.stubEnv('ANTHROPIC_API_KEY', 'example-key');
    try {
      const config = await loadConfig(
        join(import.meta.dirname, '../../examples/anthropic.yaml'),
        new ProviderRegistry(),
      );
      expect(
        config.endpoints.map((endpoint) => [endpoint.name, endpoint.endpointType, endpoint.providerName]),
      ).toEqual([
        ['claude-chat', 'llm/v1/chat', 'anthropic'],
        ['claude-completions', 'llm/v1/completions', 'anthropic'],
      ]);
    } finally {
      vi.unstubAllEnvs();
    }
  });
});

describe('anthropic request mapping', () => {
  it.each([
    ['none', { type: 'none' }],
    ['auto', { type: 'auto' }],
    ['required', { type: 'any' }],
    [
      { type: 'function', function: { name: 'get_weather' } },
      { type: 'tool', name: 'get_weather' },
    ],
  ])('translates tool_choice %j', (toolChoice, expected) => {
    expect(chatBody({ messages: HI, tool_choice: toolChoice }).tool_choice).toEqual(expected);
  });

  it.each([
    [undefined, { type: 'auto', disable_parallel_tool_use: true }],
    ['auto', { type: 'auto', disable_parallel_tool_use: true }],
    ['required', { type: 'any', disable_parallel_tool_use: true }],
    [
      { type: 'function', function: { name: 'get_weather' } },
      { type: 'tool', name: 'get_weather', disable_parallel_tool_use: true },
    ],
    ['none', { type: 'none' }],
  ])(
    'sends parallel_tool_calls false as disable_parallel_tool_use (tool_choice %j)',
    (toolChoice, expected) => {
      const body = chatBody({
        messages: HI,
        tools: [WEATHER_TOOL],
        tool_choice: toolChoice,
        parallel_tool_calls: false,
      });
      expect(body.tool_choice).toEqual(expected);
      expect(body).not.toHaveProperty('parallel_tool_calls');
    },
  );

  it('sends no tool_choice for parallel_tool_calls false without tools', () => {
    expect(chatBody({ messages: HI, parallel_tool_calls: false })).toEqual(hiBody());
  });

  it('leaves parallel_tool_calls true out: it is the default', () => {
    expect(chatBody({ messages: HI, parallel_tool_calls: true })).toEqual(hiBody());
  });

  it.each([['allowed_tools'], [{ type: 'custom' }], [42]])(
    'drops a tool_choice it cannot translate: %j',
    (choice) => {
      expect(chatBody({ messages: HI, tool_choice: choice })).toEqual(hiBody());
    },
  );

  it('sends a json_schema response format as output_config.format with the schema itself', () => {
    const schema = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] };
    const responseFormat = { type: 'json_schema', json_schema: { name: 'place', strict: true, schema } };
    expect(
      chatBody({ messages: HI, response_format: responseFormat, output_config: { effort: 'low' } }),
    ).toEqual(hiBody({ output_config: { effort: 'low', format: { type: 'json_schema', schema } } }));
  });

  it('drops other response formats', () => {
    expect(chatBody({ messages: HI, response_format: { type: 'json_object' } })).toEqual(hiBody());
  });

  it('answers 422 for a json_schema response format without a schema', () => {
    expect(() =>
      chatBody({ messages: HI, response_format: { type: 'json_schema', json_schema: {} } }),
    ).toThrow(expect.objectContaining({ status: 422, param: 'response_format.json_schema.schema' }));
  });

  it('uses max_completion_tokens when max_tokens is absent', () => {
    expect(chatBody({ messages: HI, max_completion_tokens: 300 })).toEqual(hiBody({ max_tokens: 300 }));
  });

  it('prefers max_tokens over max_completion_tokens', () => {
    expect(chatBody({ messages: HI, max_tokens: 20, max_completion_tokens: 300 })).toEqual(
      hiBody({ max_tokens: 20 }),
    );
  });

  it('renames stop and forwards unknown parameters but not stream_options', () => {
    const metadata = { user_id: 'u-1' };
    expect(
      chatBody({ messages: HI, stop: ['END'], top_k: 5, metadata, stream_options: { include_usage: true } }),
    ).toEqual(hiBody({ stop_sequences: ['END'], top_k: 5, metadata }));
  });

  it('sends image_url parts as Anthropic image blocks', () => {
    const content = [
      { type: 'text', text: 'Compare' },
      { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
      { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg', detail: 'high' } },
    ];
    expect(chatBody({ messages: [{ role: 'user', content }] }).messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Compare' },
          { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
          { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
        ],
      },
    ]);
  });

  it('answers 422 naming the part for audio input', () => {
    const content = [{ type: 'input_audio', input_audio: { data: 'AAAA', format: 'wav' } }];
    expect(() => chatBody({ messages: [{ role: 'user', content }] })).toThrow(
      expect.objectContaining({ status: 422, param: 'messages.0.content' }),
    );
  });

  it('joins system messages from anywhere in the list, text parts included, with newlines', () => {
    const body = chatBody({
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'hi' },
        {
          role: 'system',
          content: [
            { type: 'text', text: 'Answer ' },
            { type: 'text', text: 'in French.' },
          ],
        },
      ],
    });
    expect(body.system).toBe('Be brief.\nAnswer in French.');
    expect(body.messages).toEqual(HI);
  });

  it('sends assistant tool calls as tool_use blocks and tool results as user messages', () => {
    const call = {
      id: 'toolu_1',
      type: 'function',
      function: { name: 'get_weather', arguments: '{"location":"Rome"}' },
    };
    const body = chatBody({
      messages: [
        { role: 'user', content: 'Weather in Rome?' },
        { role: 'assistant', content: 'Let me check.', tool_calls: [call] },
        { role: 'tool', content: '22C', tool_call_id: 'toolu_1' },
        { role: 'developer', content: 'dropped' },
      ],
    });
    expect(body.messages).toEqual([
      { role: 'user', content: 'Weather in Rome?' },
      {
        role: 'assistant',
        content: [{ type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { location: 'Rome' } }],
      },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: '22C' }] },
    ]);
  });

  it('answers 422 naming the field for tool call arguments that are not JSON', () => {
    const call = { id: 'toolu_1', type: 'function', function: { name: 'f', arguments: '{oops' } };
    expect(() => chatBody({ messages: [{ role: 'assistant', tool_calls: [call] }, ...HI] })).toThrow(
      expect.objectContaining({ status: 422, param: 'messages.0.tool_calls.0.function.arguments' }),
    );
  });

  it('gives a function tool without parameters an empty input schema', () => {
    expect(
      chatBody({ messages: HI, tools: [{ type: 'function', function: { name: 'now' } }] }).tools,
    ).toEqual([{ name: 'now', input_schema: { type: 'object', properties: {} } }]);
  });
});

describe('anthropic response and event mapping', () => {
  it("formats tool arguments as Python's json.dumps does", () => {
    expect(
      toPythonJson({ city: 'Zürich', tags: ['a', 1, true, null], nested: { empty: {}, list: [] } }),
    ).toBe('{"city": "Z\\u00fcrich", "tags": ["a", 1, true, null], "nested": {"empty": {}, "list": []}}');
  });

  it('escapes characters outside the basic plane as surrogate pairs', () => {
    expect(toPythonJson('ok 😀')).toBe('"ok \\ud83d\\ude00"');
  });

  it('skips ping, stop and thinking events', () => {
    const state = newAnthropicStreamState();
    const events = [
      { type: 'ping' },
      { type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: '' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'hmm' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'signature_delta', signature: 'sig' } },
      { type: 'content_block_stop', index: 0 },
      { type: 'message_stop' },
    ];
    expect(events.map((event) => fromAnthropicChatEvent(event, state))).toEqual(events.map(() => null));
  });
});

describe('anthropic stream usage', () => {
  const start = {
    type: 'message_start',
    message: { id: 'm1', model: 'claude-2.1', usage: { input_tokens: 25, output_tokens: 1 } },
  };

  it("puts message_start's input and message_delta's output tokens on the finishing chunk", () => {
    const state = newAnthropicStreamState();
    fromAnthropicChatEvent(start, state);
    const delta = { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 15 } };
    expect(fromAnthropicChatEvent(delta, state)).toEqual({
      id: 'm1',
      object: 'chat.completion.chunk',
      created: state.created,
      model: 'claude-2.1',
      choices: [{ index: 0, finish_reason: 'stop', delta: { role: null, content: null, tool_calls: null } }],
      usage: { prompt_tokens: 25, completion_tokens: 15, total_tokens: 40 },
    });
  });

  it('reports usage without a stop reason as a chunk without choices', () => {
    const state = newAnthropicStreamState();
    fromAnthropicChatEvent(start, state);
    const delta = { type: 'message_delta', delta: { stop_reason: null }, usage: { output_tokens: 3 } };
    expect(fromAnthropicChatEvent(delta, state)).toEqual({
      id: 'm1',
      object: 'chat.completion.chunk',
      created: state.created,
      model: 'claude-2.1',
      choices: [],
      usage: { prompt_tokens: 25, completion_tokens: 3, total_tokens: 28 },
    });
  });
});

describe('anthropic through the gateway', () => {
  let fake: FakeUpstream;
  let gateway: TestGateway;
  let sdk: OpenAI;

  beforeEach(async () => {
    fake = await FakeUpstream.start();
    gateway = await startTestGateway(gatewayYaml(`${fake.url}/v1`));
    sdk = new OpenAI({ apiKey: 'anything', baseURL: `${gateway.url}/v1`, maxRetries: 0 });
  });

  afterEach(async () => {
    vi.restoreAllMocks();
    await gateway.close();
    await fake.close();
  });

  function invoke(endpoint: string, body: unknown, url = gateway.url): Promise<Response> {
    return invokeEndpoint(url, endpoint, body);
  }

  function pinClock(): void {
    vi.spyOn(Date, 'now').mockReturnValue(CLOCK_SECONDS * 1000);
  }

  describe('chat', () => {
    it('sends reference test vector 1 to /v1/messages with the system field and scaled temperature', async () => {
      fake.reply({ kind: 'json', body: anthropicMessage({ id: 'test-id' }) });
      const response = await invoke('chat', VECTOR_1_REQUEST);
      expect(response.status).toBe(200);
      const upstream = await fake.nextRequest();
      expectMessagesCall(upstream);
      expect(upstream.body).toEqual(VECTOR_1_UPSTREAM);
    });

    it('maps the reply of reference test vector 1 with the text as a string', async () => {
      pinClock();
      fake.reply({ kind: 'json', body: anthropicMessage({ id: 'test-id' }) });
      const response = await invoke('chat', VECTOR_1_REQUEST);
      expect(await response.json()).toEqual({
        id: 'test-id',
        object: 'chat.completion',
        created: CLOCK_SECONDS,
        model: CHAT_MODEL,
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: 'Response message', tool_calls: null, refusal: null },
            finish_reason: 'stop',
          },
        ],
        usage: { prompt_tokens: 10, completion_tokens: 25, total_tokens: 35 },
      });
    });

    it('sends and maps reference test vector 6 (a tool call)', async () => {
      pinClock();
      fake.reply({ kind: 'json', body: TOOL_USE_MESSAGE });
      const response = await invoke('chat', {
        messages: [{ role: 'user', content: "What's the weather like in Singapore today?" }],
        temperature: 0.5,
        tools: [WEATHER_TOOL],
      });
      expect((await fake.nextRequest()).body).toEqual({
        model: CHAT_MODEL,
        messages: [{ role: 'user', content: "What's the weather like in Singapore today?" }],
        max_tokens: 8192,
        temperature: 0.25,
        tools: [
          {
            name: 'get_weather',
            description: 'Get current temperature for a given location.',
            input_schema: WEATHER_TOOL.function.parameters,
          },
        ],
      });
      expect(await response.json()).toEqual({
        id: 'test-id',
        object: 'chat.completion',
        created: CLOCK_SECONDS,
        model: CHAT_MODEL,
        choices: [
          {
            index: 0,
            message: {
              role: 'assistant',
              content: null,
              tool_calls: [
                {
                  id: 'toolu_001',
                  type: 'function',
                  function: { name: 'get_weather', arguments: '{"location": "Singapore"}' },
                },
              ],
              refusal: null,
            },
            finish_reason: 'stop',
          },
        ],
        usage: { prompt_tokens: 10, completion_tokens: 25, total_tokens: 35 },
      });
    });

    it('maps stop_reason max_tokens to length', async () => {
      fake.reply({ kind: 'json', body: anthropicMessage({ stopReason: 'max_tokens' }) });
      const response = await invoke('chat', { messages: HI });
      const body = (await response.json()) as { choices: { finish_reason: string }[] };
      expect(body.choices[0]?.finish_reason).toBe('length');
    });

    it('joins text blocks and leaves thinking and server-tool blocks out of the content', async () => {
      const content = [
        { type: 'thinking', thinking: 'Let me think.', signature: 'EqQBCgIYAhIM' },
        { type: 'redacted_thinking', data: 'EmwKAhgBEgy3va3pzix' },
        { type: 'text', text: 'Paris ' },
        { type: 'server_tool_use', id: 'srvtoolu_1', name: 'web_search', input: { query: 'capital' } },
        { type: 'text', text: 'is the capital.' },
      ];
      fake.reply({ kind: 'json', body: anthropicMessage({ content }) });
      const response = await invoke('chat', { messages: HI });
      const body = (await response.json()) as { choices: { message: unknown }[] };
      expect(body.choices[0]?.message).toEqual({
        role: 'assistant',
        content: 'Paris is the capital.',
        tool_calls: null,
        refusal: null,
      });
    });

    it('leaves out penalties of 0, which ask for nothing and have no Messages API field', async () => {
      fake.reply({ kind: 'json', body: anthropicMessage({ id: 'test-id' }) });
      await invoke('chat', { messages: HI, presence_penalty: 0, frequency_penalty: 0 });
      expect((await fake.nextRequest()).body).toEqual({
        model: CHAT_MODEL,
        messages: HI,
        max_tokens: 8192,
        temperature: 0,
      });
    });

    it.each([
      [
        { presence_penalty: 0.5 },
        'Parameter presence_penalty is not supported by Anthropic (only 0, which asks for nothing, is accepted).',
      ],
      [
        { frequency_penalty: -1 },
        'Parameter frequency_penalty is not supported by Anthropic (only 0, which asks for nothing, is accepted).',
      ],
      [{ seed: 7 }, 'Parameter seed is not supported by Anthropic.'],
    ])('answers 422 for %j before any upstream call', async (parameters, detail) => {
      const response = await invoke('chat', { messages: HI, ...parameters });
      expect(response.status).toBe(422);
      expect(await response.json()).toEqual({ detail });
      expect(fake.requests).toHaveLength(0);
    });

    it('answers reference test vector 4 (top_p) with 422 before any upstream call', async () => {
      const response = await invoke('chat', { messages: HI, top_p: 0.6 });
      expect(response.status).toBe(422);
      expect(await response.json()).toEqual({
        detail: "Cannot set both 'temperature' and 'top_p' parameters.",
      });
      expect(fake.requests).toHaveLength(0);
    });

    it.each([
      [{ n: 2 }, "'n' must be '1' for the Anthropic provider. Received value: '2'."],
      [{ max_tokens: 1_000_001 }, 'Invalid value for max_tokens: cannot exceed 1000000.'],
      [
        { tools: [{ type: 'uc_function', uc_function: { name: 'a.b.c' } }] },
        'Only function calling tool is supported, but received tool type uc_function',
      ],
      [
        { model: 'claude-opus-4-1' },
        "The parameter 'model' is not permitted to be passed. The route being queried already defines a model instance.",
      ],
    ])('answers 422 for %j without calling Anthropic', async (extra, detail) => {
      const response = await invoke('chat', { messages: HI, ...extra });
      expect(response.status).toBe(422);
      expect(await response.json()).toEqual({ detail });
      expect(fake.requests).toHaveLength(0);
    });

    it('maps reference test vector 5 (upstream 401) to 401 with the Anthropic message', async () => {
      fake.reply({
        kind: 'json',
        status: 401,
        body: anthropicError('authentication_error', 'invalid x-api-key'),
      });
      const response = await invoke('chat', { messages: HI });
      expect(response.status).toBe(401);
      expect(await response.json()).toEqual({ detail: 'invalid x-api-key' });
    });

    it.each([
      [400, 'invalid_request_error', 'messages: at least one message is required'],
      [429, 'rate_limit_error', 'Number of request tokens has exceeded your per-minute rate limit'],
      [500, 'api_error', 'Internal server error'],
      [529, 'overloaded_error', 'Overloaded'],
    ])('maps an upstream %i to the same status with the Anthropic message', async (status, type, message) => {
      fake.reply({ kind: 'json', status, body: anthropicError(type, message) });
      const response = await invoke('chat', { messages: HI });
      expect(response.status).toBe(status);
      expect(await response.json()).toEqual({ detail: message });
    });

    it('keeps the status of an HTML error page from a proxy, with its text (hardening item 8)', async () => {
      fake.reply({ kind: 'text', status: 503, body: '<html>down</html>', contentType: 'text/html' });
      const response = await invoke('chat', { messages: HI });
      expect(response.status).toBe(503);
      expect(await response.json()).toEqual({ detail: '<html>down</html>' });
    });

    it('answers 502 naming the missing field when a 2xx body has no usage', async () => {
      const { usage: _usage, ...withoutUsage } = anthropicMessage();
      fake.reply({ kind: 'json', body: withoutUsage });
      const response = await invoke('chat', { messages: HI });
      expect(response.status).toBe(502);
      expect(await response.json()).toEqual({ detail: 'Malformed response from Anthropic: missing usage' });
    });

    it('answers 502 naming the missing field of a tool_use block', async () => {
      const content = [{ type: 'tool_use', name: 'get_weather', input: {} }];
      fake.reply({ kind: 'json', body: anthropicMessage({ content }) });
      const response = await invoke('chat', { messages: HI });
      expect(response.status).toBe(502);
      expect(await response.json()).toEqual({
        detail: 'Malformed response from Anthropic: missing content.0.id',
      });
    });

    it('answers 504 when Anthropic does not answer within the timeout', async () => {
      const slowGateway = await startTestGateway(gatewayYaml(`${fake.url}/v1`), { timeoutSeconds: 1 });
      try {
        fake.reply({ kind: 'hang' });
        const response = await invoke('chat', { messages: HI }, slowGateway.url);
        expect(response.status).toBe(504);
        expect(await response.json()).toEqual({
          detail: 'The upstream provider did not respond within 1 seconds.',
        });
      } finally {
        await slowGateway.close();
      }
    });

    it('joins anthropic_api_base and the API path with one slash and sends the configured version', async () => {
      const proxied = await startTestGateway(
        gatewayYaml(`${fake.url}/anthropic/v1/`, ', anthropic_version: "2023-01-01"'),
      );
      try {
        fake.reply({ kind: 'json', body: anthropicMessage() });
        await invoke('chat', { messages: HI }, proxied.url);
        expectMessagesCall(await fake.nextRequest(), '/anthropic/v1/messages', '2023-01-01');
      } finally {
        await proxied.close();
      }
    });
  });

  describe('chat streaming', () => {
    it('sends reference test vector 2 with stream true', async () => {
      fake.reply({ kind: 'sse', events: textStream('test-id') });
      const response = await invoke('chat', { ...VECTOR_1_REQUEST, stream: true });
      await allEvents(response);
      const upstream = await fake.nextRequest();
      expectMessagesCall(upstream);
      expect(upstream.body).toEqual({ ...VECTOR_1_UPSTREAM, stream: true });
    });

    it('emits the four chunks of reference test vector 2', async () => {
      pinClock();
      fake.reply({ kind: 'sse', events: textStream('test-id') });
      const response = await invoke('chat', { ...VECTOR_1_REQUEST, stream: true });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
      expect(await allEvents(response)).toEqual([
        textChunk('test-id', ''),
        textChunk('test-id', 'Hello'),
        textChunk('test-id', '!'),
        textChunk('test-id', null, 'stop'),
      ]);
    });

    it("hands the stream's usage to the gateway's accounting on the finishing chunk", async () => {
      pinClock();
      fake.reply({ kind: 'sse', events: textStream('test-id') });
      const chunks = await adapterChatChunks(gateway, 'chat', { messages: HI, stream: true });
      expect(chunks).toEqual([
        textChunk('test-id', ''),
        textChunk('test-id', 'Hello'),
        textChunk('test-id', '!'),
        {
          ...textChunk('test-id', null, 'stop'),
          usage: { prompt_tokens: 25, completion_tokens: 15, total_tokens: 40 },
        },
      ]);
    });

    it('passes the usage to a client that asked with stream_options', async () => {
      pinClock();
      fake.reply({ kind: 'sse', events: textStream('test-id') });
      const response = await invoke('chat', {
        messages: HI,
        stream: true,
        stream_options: { include_usage: true },
      });
      expect(await allEvents(response)).toEqual([
        textChunk('test-id', ''),
        textChunk('test-id', 'Hello'),
        textChunk('test-id', '!'),
        {
          ...textChunk('test-id', null, 'stop'),
          usage: { prompt_tokens: 25, completion_tokens: 15, total_tokens: 40 },
        },
      ]);
    });

    it('forwards each text delta before Anthropic has finished the stream', async () => {
      const stream = new ManualStream();
      fake.reply({ kind: 'sse-manual', stream });
      const responsePromise = invoke('chat', { messages: HI, stream: true });
      await stream.started();
      stream.send(messageStart('live-1'));
      stream.send(textBlockStart(0));
      const events = sseEvents(await responsePromise);
      expect((await events.next()).value).toMatchObject({
        id: 'live-1',
        choices: [{ delta: { content: '' } }],
      });
      stream.send(textDelta(0, 'Hi'));
      expect((await events.next()).value).toMatchObject({ choices: [{ delta: { content: 'Hi' } }] });
      stream.send(messageDelta('max_tokens'));
      stream.send(MESSAGE_STOP);
      stream.end();
      expect((await events.next()).value).toMatchObject({ choices: [{ finish_reason: 'length' }] });
      expect((await events.next()).done).toBe(true);
    });

    it('streams parallel tool calls with their own tool indices in one choice', async () => {
      fake.reply({ kind: 'sse', events: TOOL_STREAM });
      const response = await invoke('chat', { messages: HI, stream: true });
      const events = (await allEvents(response)) as { id: string; choices: unknown[] }[];
      expect(events.every((event) => event.id === 'msg_tools')).toBe(true);
      const toolCall = (index: number, id: string | null, name: string | null, args: string | null) => ({
        index: 0,
        finish_reason: null,
        delta: {
          role: null,
          content: null,
          tool_calls: [
            { index, id, type: id === null ? null : 'function', function: { name, arguments: args } },
          ],
        },
      });
      expect(events.map((event) => event.choices[0])).toEqual([
        { index: 0, finish_reason: null, delta: { role: null, content: '', tool_calls: null } },
        { index: 0, finish_reason: null, delta: { role: null, content: 'Checking both.', tool_calls: null } },
        toolCall(0, 'toolu_01', 'get_weather', null),
        toolCall(0, null, null, ''),
        toolCall(0, null, null, '{"location": "Paris"}'),
        toolCall(1, 'toolu_02', 'get_weather', null),
        toolCall(1, null, null, '{"location": "Rome"}'),
        { index: 0, finish_reason: 'stop', delta: { role: null, content: null, tool_calls: null } },
      ]);
    });

    it('answers an upstream 401 before the stream starts with its status and message', async () => {
      fake.reply({
        kind: 'json',
        status: 401,
        body: anthropicError('authentication_error', 'invalid x-api-key'),
      });
      const response = await invoke('chat', { messages: HI, stream: true });
      expect(response.status).toBe(401);
      expect(await response.json()).toEqual({ detail: 'invalid x-api-key' });
    });

    it('rejects top_p with 422 before opening the stream', async () => {
      const response = await invoke('chat', { messages: HI, top_p: 0.5, stream: true });
      expect(response.status).toBe(422);
      expect(fake.requests).toHaveLength(0);
    });

    it('ends the stream with an error event carrying the message of an Anthropic error event', async () => {
      fake.reply({ kind: 'sse', events: [messageStart('msg_err'), textBlockStart(0), OVERLOADED_EVENT] });
      const response = await invoke('chat', { messages: HI, stream: true });
      const events = await allEvents(response);
      expect(events).toHaveLength(2);
      expect(events.at(-1)).toEqual({ error: { message: 'Overloaded', type: 'UpstreamError' } });
    });

    it('ends the stream with an error event naming the field of a malformed event', async () => {
      const broken =
        'event: content_block_delta\ndata: {"type":"content_block_delta","delta":{"type":"text_delta","text":"x"}}\n\n';
      fake.reply({ kind: 'sse', events: [messageStart('msg_bad'), broken] });
      const response = await invoke('chat', { messages: HI, stream: true });
      expect(await allEvents(response)).toEqual([
        {
          error: {
            message: 'Malformed response from Anthropic: missing index',
            type: 'UpstreamProtocolError',
          },
        },
      ]);
    });
  });

  describe('completions', () => {
    it('sends reference test vector 3 to the Messages API as one user message with defaults', async () => {
      fake.reply({ kind: 'json', body: anthropicMessage() });
      await invoke('completions', { prompt: 'How does a car work?' });
      const upstream = await fake.nextRequest();
      expectMessagesCall(upstream);
      expect(upstream.body).toEqual({
        model: COMPLETIONS_MODEL,
        messages: [{ role: 'user', content: 'How does a car work?' }],
        max_tokens: 8192,
        temperature: 0,
      });
    });

    it('maps the reply of reference test vector 3 with usage filled in', async () => {
      pinClock();
      const content = [{ type: 'text', text: 'Here is a basic overview.' }];
      fake.reply({
        kind: 'json',
        body: anthropicMessage({ model: 'claude-haiku-4-5-20251001', content, stopReason: 'max_tokens' }),
      });
      const response = await invoke('completions', { prompt: 'How does a car work?' });
      expect(await response.json()).toEqual({
        id: null,
        object: 'text_completion',
        created: CLOCK_SECONDS,
        model: 'claude-haiku-4-5-20251001',
        choices: [{ index: 0, text: 'Here is a basic overview.', finish_reason: 'length' }],
        usage: { prompt_tokens: 10, completion_tokens: 25, total_tokens: 35 },
      });
    });

    it('renames stop and max_tokens stays max_tokens on the Messages API', async () => {
      fake.reply({ kind: 'json', body: anthropicMessage() });
      await invoke('completions', {
        prompt: 'How does a car work?',
        max_tokens: 200,
        stop: ['foobazbardiddly'],
        temperature: 1,
      });
      expect((await fake.nextRequest()).body).toEqual({
        model: COMPLETIONS_MODEL,
        messages: [{ role: 'user', content: 'How does a car work?' }],
        max_tokens: 200,
        stop_sequences: ['foobazbardiddly'],
        temperature: 0.5,
      });
    });

    it.each([
      [{ max_tokens: 1_000_001 }, 'Invalid value for max_tokens: cannot exceed 1000000.'],
      [
        { top_p: 0.5 },
        "Cannot set both 'temperature' and 'top_p' parameters. Please use only the temperature parameter for your query.",
      ],
      [{ n: 5 }, "'n' must be '1' for the Anthropic provider. Received value: '5'."],
    ])('answers 422 for %j without calling Anthropic (reference test vector 4)', async (extra, detail) => {
      const response = await invoke('completions', { prompt: 'x', ...extra });
      expect(response.status).toBe(422);
      expect(await response.json()).toEqual({ detail });
      expect(fake.requests).toHaveLength(0);
    });

    it('answers 501 for completions streaming', async () => {
      const response = await invoke('completions', { prompt: 'x', stream: true });
      expect(response.status).toBe(501);
      expect(await response.json()).toEqual({
        detail: 'The completions streaming route is not implemented for Anthropic models.',
      });
      expect(fake.requests).toHaveLength(0);
    });

    it('answers 502 naming the missing field when a 2xx body has no content', async () => {
      const { content: _content, ...withoutContent } = anthropicMessage();
      fake.reply({ kind: 'json', body: withoutContent });
      const response = await invoke('completions', { prompt: 'x' });
      expect(response.status).toBe(502);
      expect(await response.json()).toEqual({ detail: 'Malformed response from Anthropic: missing content' });
    });
  });

  describe('the openai SDK on /v1', () => {
    it('chats with the configured model, not the endpoint name', async () => {
      fake.reply({ kind: 'json', body: anthropicMessage() });
      const completion = await sdk.chat.completions.create({
        model: 'chat',
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'hi' },
        ],
        temperature: 0.5,
      });
      expect(completion.choices[0]?.message.content).toBe('Response message');
      const upstream = await fake.nextRequest();
      expectMessagesCall(upstream);
      expect(upstream.body).toEqual(hiBody({ system: 'Be brief.', temperature: 0.25 }));
    });

    it('returns tool calls the SDK can parse', async () => {
      fake.reply({ kind: 'json', body: TOOL_USE_MESSAGE });
      const completion = await sdk.chat.completions.create({
        model: 'chat',
        messages: [{ role: 'user', content: 'Weather in Singapore?' }],
        tools: [WEATHER_TOOL as OpenAI.ChatCompletionTool],
        tool_choice: 'required',
      });
      const [call] = completion.choices[0]?.message.tool_calls ?? [];
      expect(call?.type === 'function' ? JSON.parse(call.function.arguments) : null).toEqual({
        location: 'Singapore',
      });
      expect(((await fake.nextRequest()).body as { tool_choice: unknown }).tool_choice).toEqual({
        type: 'any',
      });
    });

    it('streams chat chunks', async () => {
      fake.reply({ kind: 'sse', events: textStream('msg_sdk') });
      const stream = await sdk.chat.completions.create({
        model: 'chat',
        messages: HI as OpenAI.ChatCompletionMessageParam[],
        stream: true,
      });
      const parts: (string | null | undefined)[] = [];
      for await (const chunk of stream)
        parts.push(chunk.choices[0]?.delta.content ?? chunk.choices[0]?.finish_reason);
      expect(parts).toEqual(['', 'Hello', '!', 'stop']);
      expect((await fake.nextRequest()).body).toEqual(hiBody({ stream: true }));
    });

    it('completes a prompt', async () => {
      fake.reply({ kind: 'json', body: anthropicMessage({ content: [{ type: 'text', text: 'Paris.' }] }) });
      const completion = await sdk.completions.create({ model: 'completions', prompt: 'Capital of France?' });
      expect(completion.choices[0]?.text).toBe('Paris.');
      expect((await fake.nextRequest()).body).toEqual({
        model: COMPLETIONS_MODEL,
        messages: [{ role: 'user', content: 'Capital of France?' }],
        max_tokens: 8192,
        temperature: 0,
      });
    });

    it('surfaces an upstream 401 as an APIError with the Anthropic message', async () => {
      fake.reply({
        kind: 'json',
        status: 401,
        body: anthropicError('authentication_error', 'invalid x-api-key'),
      });
      const error: unknown = await sdk.chat.completions
        .create({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] })
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(APIError);
      expect((error as APIError).status).toBe(401);
      expect((error as APIError).message).toContain('invalid x-api-key');
    });

    it('answers the reference 422 for top_p', async () => {
      const error: unknown = await sdk.chat.completions
        .create({ model: 'chat', messages: [{ role: 'user', content: 'hi' }], top_p: 0.9 })
        .catch((caught: unknown) => caught);
      expect((error as APIError).status).toBe(422);
      expect((error as APIError).message).toContain("Cannot set both 'temperature' and 'top_p' parameters.");
      expect(fake.requests).toHaveLength(0);
    });

    it('answers 501 for a streamed completion', async () => {
      const error: unknown = await sdk.completions
        .create({ model: 'completions', prompt: 'hi', stream: true })
        .catch((caught: unknown) => caught);
      expect((error as APIError).status).toBe(501);
      expect((error as APIError).message).toContain(
        'The completions streaming route is not implemented for Anthropic models.',
      );
    });

    it('answers 502 for a malformed 2xx chat body', async () => {
      fake.reply({ kind: 'json', body: { type: 'message', id: 'msg_1' } });
      const error: unknown = await sdk.chat.completions
        .create({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] })
        .catch((caught: unknown) => caught);
      expect((error as APIError).status).toBe(502);
      expect((error as APIError).message).toContain('Malformed response from Anthropic: missing model');
    });

    it('answers 504 when Anthropic hangs', async () => {
      const slowGateway = await startTestGateway(gatewayYaml(`${fake.url}/v1`), { timeoutSeconds: 1 });
      try {
        fake.reply({ kind: 'hang' });
        const slowSdk = new OpenAI({ apiKey: 'anything', baseURL: `${slowGateway.url}/v1`, maxRetries: 0 });
        const error: unknown = await slowSdk.completions
          .create({ model: 'completions', prompt: 'hi' })
          .catch((caught: unknown) => caught);
        expect((error as APIError).status).toBe(504);
      } finally {
        await slowGateway.close();
      }
    });
  });
});
