import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI, { APIError } from 'openai';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadConfig, parseConfig } from '../../src/config/load.js';
import { ConfigErrors } from '../../src/errors.js';
import { GEMINI_API_BASE, GeminiAdapter, geminiConfigSchema } from '../../src/providers/gemini/index.js';
import { toGeminiChatBody } from '../../src/providers/gemini/request.js';
import { fromGeminiChatResponse } from '../../src/providers/gemini/response.js';
import { fromGeminiChatEvent, newGeminiStreamState } from '../../src/providers/gemini/stream.js';
import { ProviderRegistry } from '../../src/providers/registry.js';
import { chatRequestSchema } from '../../src/schemas/chat.js';
import { PoolSet } from '../../src/upstream/pool.js';
import { Upstream } from '../../src/upstream/request.js';
import { FakeUpstream, ManualStream, type RecordedRequest } from '../fakes/fake-upstream.js';
import {
  AB_STREAM,
  BLOCKED_PROMPT_RESPONSE,
  INVALID_KEY_ERROR,
  JOKE,
  WEATHER_CALL_RESPONSE,
  batchEmbedContentsResponse,
  candidate,
  embedContentResponse,
  geminiFrame,
  generateContentResponse,
  googleError,
  jokeResponse,
} from '../fakes/gemini.js';
import { adapterChatChunks } from '../helpers/adapter-stream.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { invokeEndpoint } from '../helpers/http.js';
import { allEvents, sseEvents } from '../helpers/sse.js';

// Reference gemini.md §11: model `gemini-2.0-flash` / `text-embedding-004`. The key is unusual
// so that finding it in any response proves a leak.
const KEY = 'AIzaSy-test-key-7f3c9e';
const MODEL = 'gemini-2.0-flash';
const EMBED_MODEL = 'text-embedding-004';
const CLOCK_SECONDS = 1234567890;
const OTHER_CREDENTIAL_HEADERS = ['authorization', 'api-key', 'x-api-key', 'proxy-authorization'];
const GENERATE_PATH = `/v1beta/models/${MODEL}:generateContent`;
const STREAM_PATH = `/v1beta/models/${MODEL}:streamGenerateContent`;

function gatewayYaml(apiBase: string, key = KEY): string {
  const config = `config: { gemini_api_key: "${key}", gemini_api_base: "${apiBase}" }`;
  return `
endpoints:
  - name: chat
    endpoint_type: llm/v1/chat
    model: { provider: gemini, name: ${MODEL}, ${config} }
  - name: completions
    endpoint_type: llm/v1/completions
    model: { provider: gemini, name: ${MODEL}, ${config} }
  - name: embeddings
    endpoint_type: llm/v1/embeddings
    model: { provider: gemini, name: ${EMBED_MODEL}, ${config} }
`;
}

/** Method, path, query, the key header by value, and no other credential anywhere. */
function expectGeminiCall(request: RecordedRequest, path: string, query: Record<string, string> = {}): void {
  expect(request.method).toBe('POST');
  expect(request.path).toBe(path);
  expect(request.query).toEqual(query);
  expect(request.headers['content-type']).toBe('application/json');
  expect(request.headers['x-goog-api-key']).toBe(KEY);
  for (const header of OTHER_CREDENTIAL_HEADERS) expect(request.headers[header]).toBeUndefined();
}

const HI = [{ role: 'user', content: 'hi' }];
const HI_CONTENTS = [{ role: 'user', parts: [{ text: 'hi' }] }];
const DEFAULT_CONFIG = { temperature: 0, candidateCount: 1 };

/** Reference §3's example request and the upstream body it becomes (test vector 1). */
const VECTOR_1_REQUEST = {
  messages: [
    { role: 'system', content: 'You are a helpful assistant' },
    { role: 'user', content: 'Tell me a joke' },
  ],
  temperature: 0.1,
  top_p: 1,
  stop: ['\n'],
  n: 1,
  max_tokens: 100,
  top_k: 40,
};
const VECTOR_1_UPSTREAM = {
  contents: [{ role: 'user', parts: [{ text: 'Tell me a joke' }] }],
  system_instruction: { parts: [{ text: 'You are a helpful assistant' }] },
  generationConfig: {
    temperature: 0.1,
    topP: 1,
    stopSequences: ['\n'],
    candidateCount: 1,
    maxOutputTokens: 100,
    topK: 40,
  },
};

/** Reference test vector 3. */
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
const WEATHER_QUESTION = "What's the weather like in Singapore today?";
const WEATHER_CALL_ID = 'call_c8800a29b7c6d0e92541b3fa793048ab';

function chatBody(request: Record<string, unknown>): Record<string, unknown> {
  return toGeminiChatBody(chatRequestSchema.parse(request));
}

function chatReply(
  choices: unknown[],
  usage: unknown = { prompt_tokens: 6, completion_tokens: 12, total_tokens: 18 },
) {
  return {
    id: `gemini-chat-${CLOCK_SECONDS}`,
    object: 'chat.completion',
    created: CLOCK_SECONDS,
    model: MODEL,
    choices,
    usage,
  };
}

function textChoice(content: string | null, finishReason: string, index = 0) {
  return {
    index,
    message: { role: 'assistant', content, tool_calls: null, refusal: null },
    finish_reason: finishReason,
  };
}

function textChunk(created: number, content: string, finishReason: string | null) {
  return {
    id: `gemini-chat-stream-${created}`,
    object: 'chat.completion.chunk',
    created,
    model: MODEL,
    choices: [
      { index: 0, finish_reason: finishReason, delta: { role: 'assistant', content, tool_calls: null } },
    ],
  };
}

function weatherCall(id: string, name: string, location: string) {
  return { functionCall: { id, name, args: { location } } };
}

describe('gemini config', () => {
  it('defaults gemini_api_base to the public API', () => {
    const config = geminiConfigSchema.parse({ gemini_api_key: KEY });
    expect(config.gemini_api_base).toBe('https://generativelanguage.googleapis.com');
  });

  it.each([
    ['a missing gemini_api_key', {}, 'gemini_api_key'],
    ['a non-string gemini_api_key', { gemini_api_key: 42 }, 'gemini_api_key'],
    ['a gemini_api_base that is not a URL', { gemini_api_key: KEY, gemini_api_base: 'x' }, 'gemini_api_base'],
    [
      'a gemini_api_base that is not http(s)',
      { gemini_api_key: KEY, gemini_api_base: 'ftp://x.example' },
      'gemini_api_base',
    ],
  ])('rejects %s', (_case, raw, field) => {
    const result = geminiConfigSchema.safeParse(raw);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual([field]);
  });

  it('rejects an endpoint without a model name at load time', () => {
    const yaml = `
endpoints:
  - name: chat
    endpoint_type: llm/v1/chat
    model: { provider: gemini, config: { gemini_api_key: ${KEY} } }
`;
    expect(() => parseConfig(yaml, new ProviderRegistry())).toThrow(ConfigErrors);
    expect(() => parseConfig(yaml, new ProviderRegistry())).toThrow(/Gemini endpoints must name a model/);
  });

  it('targets the four v1beta methods of the model on the public API, streaming with alt=sse', () => {
    const upstream = new Upstream(new PoolSet({ connectTimeoutMs: 1000 }), { timeoutSeconds: 5 });
    const target = vi.spyOn(upstream, 'target');
    new GeminiAdapter({
      endpointName: 'chat',
      endpointType: 'llm/v1/chat',
      modelName: `models/${MODEL}`,
      config: geminiConfigSchema.parse({ gemini_api_key: KEY }),
      upstream,
    });
    const base = `${GEMINI_API_BASE}/v1beta/models/${MODEL}`;
    expect(target.mock.calls).toEqual([
      [`${base}:generateContent`],
      [`${base}:streamGenerateContent?alt=sse`],
      [`${base}:embedContent`],
      [`${base}:batchEmbedContents`],
    ]);
  });

  it('loads examples/gemini.yaml with the key taken from the environment', async () => {
    vi.stubEnv('GEMINI_API_KEY', 'example-key');
    try {
      const config = await loadConfig(
        join(import.meta.dirname, '../../examples/gemini.yaml'),
        new ProviderRegistry(),
      );
      expect(
        config.endpoints.map((endpoint) => [endpoint.name, endpoint.endpointType, endpoint.providerName]),
      ).toEqual([
        ['gemini-chat', 'llm/v1/chat', 'gemini'],
        ['gemini-completions', 'llm/v1/completions', 'gemini'],
        ['gemini-embeddings', 'llm/v1/embeddings', 'gemini'],
      ]);
    } finally {
      vi.unstubAllEnvs();
    }
  });
});

describe('gemini request mapping', () => {
  it.each([
    ['none', { functionCallingConfig: { mode: 'NONE' } }],
    ['auto', { functionCallingConfig: { mode: 'AUTO' } }],
    ['required', { functionCallingConfig: { mode: 'ANY' } }],
    [
      { type: 'function', function: { name: 'get_weather' } },
      { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['get_weather'] } },
    ],
  ])('translates tool_choice %j into toolConfig', (toolChoice, expected) => {
    expect(chatBody({ messages: HI, tool_choice: toolChoice })).toEqual({
      contents: HI_CONTENTS,
      generationConfig: DEFAULT_CONFIG,
      toolConfig: expected,
    });
  });

  it('sends a json_schema response format as responseJsonSchema with the JSON mime type', () => {
    const schema = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] };
    const responseFormat = { type: 'json_schema', json_schema: { name: 'place', schema } };
    expect(chatBody({ messages: HI, response_format: responseFormat }).generationConfig).toEqual({
      ...DEFAULT_CONFIG,
      responseMimeType: 'application/json',
      responseJsonSchema: schema,
    });
  });

  it('sends a json_object response format as the JSON mime type', () => {
    expect(chatBody({ messages: HI, response_format: { type: 'json_object' } }).generationConfig).toEqual({
      ...DEFAULT_CONFIG,
      responseMimeType: 'application/json',
    });
  });

  it('answers 422 naming the field for a json_schema response format without a schema', () => {
    expect(() =>
      chatBody({ messages: HI, response_format: { type: 'json_schema', json_schema: {} } }),
    ).toThrow(expect.objectContaining({ status: 422, param: 'response_format.json_schema.schema' }));
  });

  it('puts penalties, seed and max_completion_tokens in generationConfig and drops other keys', () => {
    expect(
      chatBody({
        messages: HI,
        presence_penalty: 0.5,
        frequency_penalty: 0.25,
        seed: 7,
        max_completion_tokens: 64,
        stream: true,
        stream_options: { include_usage: true },
        logprobs: true,
        user: 'u-1',
      }),
    ).toEqual({
      contents: HI_CONTENTS,
      generationConfig: {
        ...DEFAULT_CONFIG,
        presencePenalty: 0.5,
        frequencyPenalty: 0.25,
        seed: 7,
        maxOutputTokens: 64,
      },
    });
  });

  it('passes safetySettings through as Gemini takes them', () => {
    const safetySettings = [{ category: 'HARM_CATEGORY_HARASSMENT', threshold: 'BLOCK_ONLY_HIGH' }];
    expect(chatBody({ messages: HI, safetySettings })).toEqual({
      contents: HI_CONTENTS,
      generationConfig: DEFAULT_CONFIG,
      safetySettings,
    });
  });

  it('sends text, image and audio parts as Gemini parts', () => {
    const content = [
      { type: 'text', text: 'Compare' },
      { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
      { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg', detail: 'high' } },
      { type: 'input_audio', input_audio: { data: 'UklGRg==', format: 'wav' } },
    ];
    expect(chatBody({ messages: [{ role: 'user', content }] }).contents).toEqual([
      {
        role: 'user',
        parts: [
          { text: 'Compare' },
          { inlineData: { mimeType: 'image/png', data: 'iVBORw0KGgo=' } },
          { fileData: { fileUri: 'https://example.com/cat.jpg' } },
          { inlineData: { mimeType: 'audio/wav', data: 'UklGRg==' } },
        ],
      },
    ]);
  });

  it('collects system and developer messages from anywhere into system_instruction, in order', () => {
    const body = chatBody({
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'hi' },
        { role: 'developer', content: [{ type: 'text', text: 'Answer in French.' }] },
        { role: 'critic', content: 'ignored' },
      ],
    });
    expect(body.system_instruction).toEqual({
      parts: [{ text: 'Be brief.' }, { text: 'Answer in French.' }],
    });
    expect(body.contents).toEqual(HI_CONTENTS);
  });

  it('answers 422 naming the content of a system message with an image', () => {
    const content = [{ type: 'image_url', image_url: { url: 'https://example.com/a.png' } }];
    expect(() => chatBody({ messages: [{ role: 'system', content }, ...HI] })).toThrow(
      expect.objectContaining({ status: 422, param: 'messages.0.content' }),
    );
  });

  it('sends tool calls as functionCall parts and parallel tool results as one user turn', () => {
    const call = (id: string, name: string) => ({
      id,
      type: 'function',
      function: { name, arguments: '{"location": "Singapore"}' },
    });
    const body = chatBody({
      messages: [
        { role: 'user', content: WEATHER_QUESTION },
        {
          role: 'assistant',
          content: 'Checking.',
          tool_calls: [call('c1', 'get_weather'), call('c2', 'get_humidity')],
        },
        { role: 'tool', tool_call_id: 'c1', content: '{"temperature": 31}' },
        { role: 'tool', tool_call_id: 'c2', content: '80%' },
        { role: 'user', content: 'Thanks' },
      ],
    });
    expect(body.contents).toEqual([
      { role: 'user', parts: [{ text: WEATHER_QUESTION }] },
      {
        role: 'model',
        parts: [
          { text: 'Checking.' },
          weatherCall('c1', 'get_weather', 'Singapore'),
          weatherCall('c2', 'get_humidity', 'Singapore'),
        ],
      },
      {
        role: 'user',
        parts: [
          { functionResponse: { id: 'c1', name: 'get_weather', response: { temperature: 31 } } },
          { functionResponse: { id: 'c2', name: 'get_humidity', response: { output: '80%' } } },
        ],
      },
      { role: 'user', parts: [{ text: 'Thanks' }] },
    ]);
  });

  it('answers 422 naming tool_call_id for a tool result no assistant call asked for', () => {
    expect(() =>
      chatBody({ messages: [...HI, { role: 'tool', tool_call_id: 'nope', content: '1' }] }),
    ).toThrow(expect.objectContaining({ status: 422, param: 'messages.1.tool_call_id' }));
  });

  it.each([['{oops'], ['[1, 2]']])('answers 422 naming the field for tool call arguments %s', (args) => {
    const call = { id: 'c1', type: 'function', function: { name: 'f', arguments: args } };
    expect(() => chatBody({ messages: [...HI, { role: 'assistant', tool_calls: [call] }] })).toThrow(
      expect.objectContaining({ status: 422, param: 'messages.1.tool_calls.0.function.arguments' }),
    );
  });

  it('declares a function tool without parameters by name only', () => {
    expect(
      chatBody({ messages: HI, tools: [{ type: 'function', function: { name: 'now' } }] }).tools,
    ).toEqual([{ functionDeclarations: [{ name: 'now' }] }]);
  });
});

describe('gemini response and event mapping', () => {
  it('joins every text part and leaves thought parts out', () => {
    const parts = [{ text: 'Let me think.', thought: true }, { text: 'Paris ' }, { text: 'is the capital.' }];
    const reply = fromGeminiChatResponse(generateContentResponse([candidate({ parts })]), MODEL);
    expect(reply.choices[0]?.message.content).toBe('Paris is the capital.');
  });

  it('keeps both the text and the tool calls of a candidate that has both', () => {
    const parts = [
      { text: 'Checking.' },
      { functionCall: { name: 'get_weather', args: { location: 'Singapore' } } },
    ];
    const reply = fromGeminiChatResponse(generateContentResponse([candidate({ parts })]), MODEL);
    expect(reply.choices[0]?.message).toEqual({
      role: 'assistant',
      content: 'Checking.',
      tool_calls: [
        {
          id: WEATHER_CALL_ID,
          type: 'function',
          function: { name: 'get_weather', arguments: '{"location": "Singapore"}' },
        },
      ],
      refusal: null,
    });
  });

  it('keeps a candidate without content as a choice carrying its finish reason', () => {
    const body = generateContentResponse([{ finishReason: 'SAFETY', index: 0 }]);
    expect(fromGeminiChatResponse(body, MODEL).choices).toEqual([textChoice(null, 'SAFETY')]);
  });

  it('numbers streamed tool calls per candidate across events', () => {
    const state = newGeminiStreamState(MODEL);
    const event = (parts: unknown[], finishReason?: string) => ({
      candidates: [
        { content: { parts, role: 'model' }, index: 0, ...(finishReason ? { finishReason } : {}) },
      ],
    });
    const first = fromGeminiChatEvent(
      event([
        { functionCall: { name: 'get_weather', args: { location: 'Singapore' } } },
        { functionCall: { name: 'get_temperature', args: { location: 'Singapore' } } },
      ]),
      state,
    );
    const second = fromGeminiChatEvent(
      event([{ functionCall: { name: 'get_humidity', args: { location: 'Singapore' } } }], 'STOP'),
      state,
    );
    const toolCall = (index: number, id: string, name: string) => ({
      index,
      id,
      type: 'function',
      function: { name, arguments: '{"location": "Singapore"}' },
    });
    expect(first?.choices).toEqual([
      {
        index: 0,
        finish_reason: null,
        delta: {
          role: 'assistant',
          content: null,
          tool_calls: [
            toolCall(0, WEATHER_CALL_ID, 'get_weather'),
            toolCall(1, 'call_e03eff58ce9e84e7ee3153e687f71dd3', 'get_temperature'),
          ],
        },
      },
    ]);
    expect(second?.choices).toEqual([
      {
        index: 0,
        finish_reason: 'STOP',
        delta: {
          role: 'assistant',
          content: null,
          tool_calls: [toolCall(2, 'call_de04a6aa496c33afdd792f8424259d12', 'get_humidity')],
        },
      },
    ]);
  });
});

describe('gemini through the gateway', () => {
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

  function invoke(endpoint: string, body: unknown, url = gateway.url): Promise<Response> {
    return invokeEndpoint(url, endpoint, body);
  }

  function pinClock(seconds = CLOCK_SECONDS): void {
    vi.spyOn(Date, 'now').mockReturnValue(seconds * 1000);
  }

  describe('chat', () => {
    it('sends reference test vector 1 to :generateContent with the key header and system_instruction', async () => {
      fake.reply({ kind: 'json', body: jokeResponse('stop') });
      const response = await invoke('chat', VECTOR_1_REQUEST);
      expect(response.status).toBe(200);
      const upstream = await fake.nextRequest();
      expectGeminiCall(upstream, GENERATE_PATH);
      expect(upstream.body).toEqual(VECTOR_1_UPSTREAM);
    });

    it('maps the reply of reference test vector 1 (finishReason "stop")', async () => {
      pinClock();
      fake.reply({ kind: 'json', body: jokeResponse('stop') });
      const response = await invoke('chat', VECTOR_1_REQUEST);
      expect(await response.json()).toEqual(chatReply([textChoice(JOKE, 'stop')]));
    });

    it("maps reference §4's reply, passing finishReason STOP as Gemini sends it", async () => {
      pinClock();
      fake.reply({ kind: 'json', body: jokeResponse() });
      const response = await invoke('chat', VECTOR_1_REQUEST);
      expect(await response.json()).toEqual(chatReply([textChoice(JOKE, 'STOP')]));
    });

    it('sends and maps reference test vector 3 (a function call)', async () => {
      pinClock();
      fake.reply({ kind: 'json', body: WEATHER_CALL_RESPONSE });
      const response = await invoke('chat', {
        messages: [{ role: 'user', content: WEATHER_QUESTION }],
        temperature: 0.5,
        tools: [WEATHER_TOOL],
      });
      expect((await fake.nextRequest()).body).toEqual({
        contents: [{ role: 'user', parts: [{ text: WEATHER_QUESTION }] }],
        generationConfig: { temperature: 0.5, candidateCount: 1 },
        tools: [
          {
            functionDeclarations: [
              {
                name: 'get_weather',
                description: 'Get current temperature for a given location.',
                parametersJsonSchema: {
                  type: 'object',
                  properties: { location: { type: 'string', description: 'The name of a city' } },
                  required: ['location'],
                },
              },
            ],
          },
        ],
      });
      expect(await response.json()).toEqual({
        id: 'gemini-chat-1234567890',
        object: 'chat.completion',
        created: 1234567890,
        model: 'gemini-2.0-flash',
        choices: [
          {
            index: 0,
            message: {
              role: 'assistant',
              content: null,
              tool_calls: [
                {
                  id: WEATHER_CALL_ID,
                  type: 'function',
                  function: { name: 'get_weather', arguments: '{"location": "Singapore"}' },
                },
              ],
              refusal: null,
            },
            finish_reason: 'STOP',
          },
        ],
        usage: { prompt_tokens: null, completion_tokens: null, total_tokens: null },
      });
    });

    it('keeps the id Gemini gives a function call', async () => {
      const parts = [weatherCall('fc-1', 'get_weather', 'Paris')];
      fake.reply({ kind: 'json', body: generateContentResponse([candidate({ parts })]) });
      const body = (await (await invoke('chat', { messages: HI })).json()) as {
        choices: { message: { tool_calls: { id: string }[] } }[];
      };
      expect(body.choices[0]?.message.tool_calls[0]?.id).toBe('fc-1');
    });

    it('maps finishReason MAX_TOKENS to length', async () => {
      fake.reply({ kind: 'json', body: jokeResponse('MAX_TOKENS') });
      const body = (await (await invoke('chat', { messages: HI })).json()) as {
        choices: { finish_reason: string }[];
      };
      expect(body.choices[0]?.finish_reason).toBe('length');
    });

    it('asks for n candidates and answers one choice per candidate', async () => {
      pinClock();
      fake.reply({
        kind: 'json',
        body: generateContentResponse([
          candidate({ parts: [{ text: 'One.' }] }),
          candidate({ parts: [{ text: 'Two.' }], index: 1 }),
        ]),
      });
      const response = await invoke('chat', { messages: HI, n: 2 });
      expect((await fake.nextRequest()).body).toEqual({
        contents: HI_CONTENTS,
        generationConfig: { temperature: 0, candidateCount: 2 },
      });
      expect(await response.json()).toEqual(
        chatReply([textChoice('One.', 'STOP'), textChoice('Two.', 'STOP', 1)]),
      );
    });

    it.each([
      ['stopSequences', ['x'], 'stop'],
      ['candidateCount', 2, 'n'],
      ['maxOutputTokens', 100, 'max_tokens'],
      ['topK', 3, 'top_k'],
      ['topP', 0.5, 'top_p'],
    ])(
      'answers 422 for the Gemini spelling %s, naming %s (reference test vector 5)',
      async (field, value, gateway) => {
        const response = await invoke('chat', { messages: HI, [field]: value });
        expect(response.status).toBe(422);
        expect(await response.json()).toEqual({
          detail: `Invalid parameter ${field}. Use ${gateway} instead.`,
        });
        expect(fake.requests).toHaveLength(0);
      },
    );

    it.each([
      [{ top_p: 1.1 }, 'top_p should be less than or equal to 1'],
      [
        { tools: [{ type: 'uc_function', uc_function: { name: 'a.b.c' } }] },
        'Only function calling tool is supported, but received tool type uc_function',
      ],
      [
        { model: 'gemini-2.5-pro' },
        "The parameter 'model' is not permitted to be passed. The route being queried already defines a model instance.",
      ],
    ])('answers 422 for %j without calling Gemini', async (extra, detail) => {
      const response = await invoke('chat', { messages: HI, ...extra });
      expect(response.status).toBe(422);
      expect(await response.json()).toEqual({ detail });
      expect(fake.requests).toHaveLength(0);
    });

    it('maps reference test vector 5 (upstream 400 for a bad key) to 400 with the Google message', async () => {
      fake.reply({ kind: 'json', status: 400, body: INVALID_KEY_ERROR });
      const response = await invoke('chat', { messages: HI });
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({ detail: 'API key not valid. Please pass a valid API key.' });
    });

    it.each([
      [
        403,
        'PERMISSION_DENIED',
        "Method doesn't allow unregistered callers (callers without established identity).",
      ],
      [
        404,
        'NOT_FOUND',
        'models/gemini-0 is not found for API version v1beta, or is not supported for generateContent.',
      ],
      [429, 'RESOURCE_EXHAUSTED', 'Resource has been exhausted (e.g. check quota).'],
      [
        500,
        'INTERNAL',
        'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting',
      ],
      [503, 'UNAVAILABLE', 'The model is overloaded. Please try again later.'],
    ])(
      'maps an upstream %i (%s) to the same status with the Google message',
      async (status, code, message) => {
        fake.reply({ kind: 'json', status, body: googleError(status, code, message) });
        const response = await invoke('chat', { messages: HI });
        expect(response.status).toBe(status);
        expect(await response.json()).toEqual({ detail: message });
      },
    );

    it('answers 502 for a 2xx HTML page from a proxy', async () => {
      fake.reply({ kind: 'text', status: 200, body: '<html>sign in</html>', contentType: 'text/html' });
      const response = await invoke('chat', { messages: HI });
      expect(response.status).toBe(502);
      expect(await response.json()).toEqual({
        detail:
          'The returned data type from the route service is not supported. Received content type: text/html',
      });
    });

    it.each([
      [{ modelVersion: MODEL }, 'missing candidates'],
      [{ candidates: 'none' }, 'invalid candidates'],
      [
        { candidates: [{ content: { parts: [{ functionCall: { args: {} } }] } }] },
        'missing candidates.0.content.parts.0.functionCall.name',
      ],
    ])('answers 502 naming the field of a malformed 2xx body %j', async (body, what) => {
      fake.reply({ kind: 'json', body });
      const response = await invoke('chat', { messages: HI });
      expect(response.status).toBe(502);
      expect(await response.json()).toEqual({ detail: `Malformed response from Gemini: ${what}` });
    });

    it('answers 400 with the block reason when Gemini refuses the prompt', async () => {
      fake.reply({ kind: 'json', body: BLOCKED_PROMPT_RESPONSE });
      const response = await invoke('chat', { messages: HI });
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({ detail: 'Gemini blocked the prompt: SAFETY' });
    });

    it('answers 504 when Gemini does not answer within the timeout', async () => {
      const slowGateway = await startTestGateway(gatewayYaml(fake.url), { timeoutSeconds: 1 });
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

    it('joins gemini_api_base and the API path with one slash', async () => {
      const proxied = await startTestGateway(gatewayYaml(`${fake.url}/google/`));
      try {
        fake.reply({ kind: 'json', body: jokeResponse() });
        await invoke('chat', { messages: HI }, proxied.url);
        expectGeminiCall(await fake.nextRequest(), `/google${GENERATE_PATH}`);
      } finally {
        await proxied.close();
      }
    });

    it.each([
      [
        'an environment variable',
        (_dir: string) => {
          vi.stubEnv('GEMINI_TEST_KEY', KEY);
          return '$GEMINI_TEST_KEY';
        },
      ],
      [
        'a file',
        (dir: string) => {
          const path = join(dir, 'gemini-key');
          writeFileSync(path, `${KEY}\n`);
          return path;
        },
      ],
    ])('sends a key read from %s in x-goog-api-key', async (_source, makeKeyValue) => {
      const keyValue = makeKeyValue(mkdtempSync(join(tmpdir(), 'llmgw-gemini-')));
      const other = await startTestGateway(gatewayYaml(fake.url, keyValue));
      try {
        fake.reply({ kind: 'json', body: jokeResponse() });
        await invoke('chat', { messages: HI }, other.url);
        expectGeminiCall(await fake.nextRequest(), GENERATE_PATH);
      } finally {
        vi.unstubAllEnvs();
        await other.close();
      }
    });
  });

  describe('chat streaming', () => {
    const VECTOR_2_REQUEST = { messages: [{ role: 'user', content: 'Tell me a joke' }], stream: true };

    it('sends reference test vector 2 to :streamGenerateContent?alt=sse without the stream key', async () => {
      fake.reply({ kind: 'sse', events: AB_STREAM });
      await allEvents(await invoke('chat', VECTOR_2_REQUEST));
      const upstream = await fake.nextRequest();
      expectGeminiCall(upstream, STREAM_PATH, { alt: 'sse' });
      expect(upstream.body).toEqual({
        contents: [{ role: 'user', parts: [{ text: 'Tell me a joke' }] }],
        generationConfig: { temperature: 0.0, candidateCount: 1 },
      });
    });

    it('emits the two chunks of reference test vector 2', async () => {
      pinClock(1);
      fake.reply({ kind: 'sse', events: AB_STREAM });
      const response = await invoke('chat', VECTOR_2_REQUEST);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
      expect(await allEvents(response)).toEqual([textChunk(1, 'a', null), textChunk(1, 'b', 'STOP')]);
    });

    it("hands the finishing event's usageMetadata to the gateway's accounting", async () => {
      pinClock(1);
      fake.reply({ kind: 'sse', events: AB_STREAM });
      const chunks = await adapterChatChunks(gateway, 'chat', VECTOR_2_REQUEST);
      expect(chunks).toEqual([
        textChunk(1, 'a', null),
        { ...textChunk(1, 'b', 'STOP'), usage: { prompt_tokens: 4, completion_tokens: 2, total_tokens: 6 } },
      ]);
    });

    it('passes the usage to a client that asked with stream_options', async () => {
      pinClock(1);
      fake.reply({ kind: 'sse', events: AB_STREAM });
      const response = await invoke('chat', { ...VECTOR_2_REQUEST, stream_options: { include_usage: true } });
      expect(await allEvents(response)).toEqual([
        textChunk(1, 'a', null),
        { ...textChunk(1, 'b', 'STOP'), usage: { prompt_tokens: 4, completion_tokens: 2, total_tokens: 6 } },
      ]);
    });

    it('keeps the running usageMetadata of an unfinished event out of its chunk', async () => {
      pinClock(1);
      const running = geminiFrame({
        candidates: [{ content: { parts: [{ text: 'a' }], role: 'model' }, index: 0 }],
        usageMetadata: { promptTokenCount: 4, candidatesTokenCount: 1, totalTokenCount: 5 },
      });
      fake.reply({ kind: 'sse', events: [running, AB_STREAM[1] ?? ''] });
      const chunks = await adapterChatChunks(gateway, 'chat', VECTOR_2_REQUEST);
      expect(chunks).toEqual([
        textChunk(1, 'a', null),
        { ...textChunk(1, 'b', 'STOP'), usage: { prompt_tokens: 4, completion_tokens: 2, total_tokens: 6 } },
      ]);
    });

    it('forwards each event before Gemini has finished the stream', async () => {
      pinClock(1);
      const stream = new ManualStream();
      fake.reply({ kind: 'sse-manual', stream });
      const responsePromise = invoke('chat', VECTOR_2_REQUEST);
      await stream.started();
      // A JSON object split across network writes is still one event.
      const first = geminiFrame({
        candidates: [{ content: { parts: [{ text: 'Hel' }], role: 'model' }, index: 0 }],
      });
      stream.send(first.slice(0, 20));
      stream.send(first.slice(20));
      const events = sseEvents(await responsePromise);
      expect((await events.next()).value).toEqual(textChunk(1, 'Hel', null));
      stream.send(
        geminiFrame({ candidates: [candidate({ parts: [{ text: 'lo' }], finishReason: 'MAX_TOKENS' })] }),
      );
      expect((await events.next()).value).toEqual(textChunk(1, 'lo', 'length'));
      stream.end();
      expect((await events.next()).done).toBe(true);
    });

    it('answers an upstream 429 before the stream starts with its status and message', async () => {
      fake.reply({
        kind: 'json',
        status: 429,
        body: googleError(429, 'RESOURCE_EXHAUSTED', 'Resource has been exhausted (e.g. check quota).'),
      });
      const response = await invoke('chat', VECTOR_2_REQUEST);
      expect(response.status).toBe(429);
      expect(await response.json()).toEqual({ detail: 'Resource has been exhausted (e.g. check quota).' });
    });

    it('rejects a Gemini spelling with 422 before opening the stream', async () => {
      const response = await invoke('chat', { ...VECTOR_2_REQUEST, maxOutputTokens: 100 });
      expect(response.status).toBe(422);
      expect(await response.json()).toEqual({
        detail: 'Invalid parameter maxOutputTokens. Use max_tokens instead.',
      });
      expect(fake.requests).toHaveLength(0);
    });

    it('ends the stream with an error event carrying the message of a Google error event', async () => {
      pinClock(1);
      const error = googleError(503, 'UNAVAILABLE', 'The model is overloaded. Please try again later.');
      fake.reply({ kind: 'sse', events: [AB_STREAM[0] ?? '', geminiFrame(error)] });
      const events = await allEvents(await invoke('chat', VECTOR_2_REQUEST));
      expect(events).toEqual([
        textChunk(1, 'a', null),
        { error: { message: 'The model is overloaded. Please try again later.', type: 'UpstreamError' } },
      ]);
    });

    it('ends the stream with an error event giving the block reason of a refused prompt', async () => {
      fake.reply({ kind: 'sse', events: [geminiFrame(BLOCKED_PROMPT_RESPONSE)] });
      const events = await allEvents(await invoke('chat', VECTOR_2_REQUEST));
      expect(events).toEqual([
        { error: { message: 'Gemini blocked the prompt: SAFETY', type: 'UpstreamError' } },
      ]);
    });

    it('ends the stream with an error event naming the field of a malformed event', async () => {
      fake.reply({ kind: 'sse', events: [geminiFrame({ candidates: [{ content: { parts: 'x' } }] })] });
      const events = await allEvents(await invoke('chat', VECTOR_2_REQUEST));
      expect(events).toEqual([
        {
          error: {
            message: 'Malformed response from Gemini: invalid candidates.0.content.parts',
            type: 'UpstreamProtocolError',
          },
        },
      ]);
    });
  });

  describe('completions', () => {
    const COMPLETIONS_REQUEST = {
      prompt: 'Tell me a joke',
      temperature: 0.1,
      top_p: 1,
      stop: ['\n'],
      n: 1,
      max_tokens: 50,
      top_k: 40,
    };

    it("sends reference §6's prompt as one user turn with generationConfig", async () => {
      fake.reply({ kind: 'json', body: jokeResponse() });
      await invoke('completions', COMPLETIONS_REQUEST);
      const upstream = await fake.nextRequest();
      expectGeminiCall(upstream, GENERATE_PATH);
      expect(upstream.body).toEqual({
        contents: [{ role: 'user', parts: [{ text: 'Tell me a joke' }] }],
        generationConfig: {
          temperature: 0.1,
          topP: 1,
          stopSequences: ['\n'],
          candidateCount: 1,
          maxOutputTokens: 50,
          topK: 40,
        },
      });
    });

    it('maps the reply to a text_completion with usage', async () => {
      pinClock();
      fake.reply({ kind: 'json', body: jokeResponse('MAX_TOKENS') });
      const response = await invoke('completions', COMPLETIONS_REQUEST);
      expect(await response.json()).toEqual({
        id: null,
        object: 'text_completion',
        created: CLOCK_SECONDS,
        model: MODEL,
        choices: [{ index: 0, text: JOKE, finish_reason: 'length' }],
        usage: { prompt_tokens: 6, completion_tokens: 12, total_tokens: 18 },
      });
    });

    it('sends system_prompt as system_instruction', async () => {
      fake.reply({ kind: 'json', body: jokeResponse() });
      await invoke('completions', { prompt: 'hi', system_prompt: 'Be brief.' });
      expect((await fake.nextRequest()).body).toEqual({
        contents: HI_CONTENTS,
        system_instruction: { parts: [{ text: 'Be brief.' }] },
        generationConfig: DEFAULT_CONFIG,
      });
    });

    it('answers 422 for topK without calling Gemini', async () => {
      const response = await invoke('completions', { prompt: 'hi', topK: 5 });
      expect(response.status).toBe(422);
      expect(await response.json()).toEqual({ detail: 'Invalid parameter topK. Use top_k instead.' });
      expect(fake.requests).toHaveLength(0);
    });

    it('streams text chunks from :streamGenerateContent?alt=sse', async () => {
      pinClock(1);
      fake.reply({ kind: 'sse', events: AB_STREAM });
      const response = await invoke('completions', { prompt: 'hi', stream: true });
      const chunk = (text: string, finishReason: string | null) => ({
        id: 'gemini-completions-stream-1',
        object: 'text_completion_chunk',
        created: 1,
        model: MODEL,
        choices: [{ index: 0, finish_reason: finishReason, text }],
      });
      expect(await allEvents(response)).toEqual([chunk('a', null), chunk('b', 'STOP')]);
      const upstream = await fake.nextRequest();
      expectGeminiCall(upstream, STREAM_PATH, { alt: 'sse' });
      expect(upstream.body).toEqual({ contents: HI_CONTENTS, generationConfig: DEFAULT_CONFIG });
    });
  });

  describe('embeddings', () => {
    const EMBED_BASE = `/v1beta/models/${EMBED_MODEL}`;

    it('sends one text to :embedContent and maps its values', async () => {
      fake.reply({ kind: 'json', body: embedContentResponse([0.1, 0.2, 0.3]) });
      const response = await invoke('embeddings', { input: 'hello', user: 'dropped' });
      const upstream = await fake.nextRequest();
      expectGeminiCall(upstream, `${EMBED_BASE}:embedContent`);
      expect(upstream.body).toEqual({ content: { parts: [{ text: 'hello' }] } });
      expect(await response.json()).toEqual({
        object: 'list',
        data: [{ object: 'embedding', embedding: [0.1, 0.2, 0.3], index: 0 }],
        model: EMBED_MODEL,
        usage: { prompt_tokens: null, total_tokens: null },
      });
    });

    it('sends reference test vector 4 to :batchEmbedContents and maps both vectors', async () => {
      fake.reply({
        kind: 'json',
        body: batchEmbedContentsResponse([
          [0.1, 0.2, 0.3],
          [0.4, 0.5, 0.6],
        ]),
      });
      const response = await invoke('embeddings', { input: ['Test embedding 1.', 'Test embedding 2.'] });
      const upstream = await fake.nextRequest();
      expectGeminiCall(upstream, `${EMBED_BASE}:batchEmbedContents`);
      expect(upstream.body).toEqual({
        requests: [
          { model: 'models/text-embedding-004', content: { parts: [{ text: 'Test embedding 1.' }] } },
          { model: 'models/text-embedding-004', content: { parts: [{ text: 'Test embedding 2.' }] } },
        ],
      });
      expect(await response.json()).toEqual({
        object: 'list',
        data: [
          { object: 'embedding', embedding: [0.1, 0.2, 0.3], index: 0 },
          { object: 'embedding', embedding: [0.4, 0.5, 0.6], index: 1 },
        ],
        model: EMBED_MODEL,
        usage: { prompt_tokens: null, total_tokens: null },
      });
    });

    it('sends dimensions as outputDimensionality', async () => {
      fake.reply({ kind: 'json', body: embedContentResponse([0.1, 0.2]) });
      await invoke('embeddings', { input: ['hello'], dimensions: 2 });
      expect((await fake.nextRequest()).body).toEqual({
        content: { parts: [{ text: 'hello' }] },
        outputDimensionality: 2,
      });
    });

    it.each([
      [{ input: [1, 2, 3] }, 'Gemini embeddings take text, not token ids.'],
      [{ input: [] }, 'input must contain at least one text.'],
      [
        { input: 'x', model: EMBED_MODEL },
        "The parameter 'model' is not permitted to be passed. The route being queried already defines a model instance.",
      ],
    ])('answers 422 for %j without calling Gemini', async (body, detail) => {
      const response = await invoke('embeddings', body);
      expect(response.status).toBe(422);
      expect(await response.json()).toEqual({ detail });
      expect(fake.requests).toHaveLength(0);
    });

    it('answers 502 naming the field when a batch item has no values', async () => {
      fake.reply({ kind: 'json', body: { embeddings: [{ values: [0.1] }, {}] } });
      const response = await invoke('embeddings', { input: ['a', 'b'] });
      expect(response.status).toBe(502);
      expect(await response.json()).toEqual({
        detail: 'Malformed response from Gemini: missing embeddings.1.values',
      });
    });

    it('answers 502 naming the field when a single reply has no embedding', async () => {
      fake.reply({ kind: 'json', body: {} });
      const response = await invoke('embeddings', { input: 'a' });
      expect(response.status).toBe(502);
      expect(await response.json()).toEqual({ detail: 'Malformed response from Gemini: missing embedding' });
    });
  });

  describe('the openai SDK on /v1', () => {
    it('chats with the configured model and the system message as system_instruction', async () => {
      fake.reply({ kind: 'json', body: jokeResponse() });
      const completion = await sdk.chat.completions.create({
        model: 'chat',
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'hi' },
        ],
        temperature: 0.5,
      });
      expect(completion.choices[0]?.message.content).toBe(JOKE);
      const upstream = await fake.nextRequest();
      expectGeminiCall(upstream, GENERATE_PATH);
      expect(upstream.body).toEqual({
        contents: HI_CONTENTS,
        system_instruction: { parts: [{ text: 'Be brief.' }] },
        generationConfig: { temperature: 0.5, candidateCount: 1 },
      });
    });

    it('returns tool calls the SDK can parse', async () => {
      fake.reply({ kind: 'json', body: WEATHER_CALL_RESPONSE });
      const completion = await sdk.chat.completions.create({
        model: 'chat',
        messages: [{ role: 'user', content: WEATHER_QUESTION }],
        tools: [WEATHER_TOOL as OpenAI.ChatCompletionTool],
      });
      const [call] = completion.choices[0]?.message.tool_calls ?? [];
      expect(call?.id).toBe(WEATHER_CALL_ID);
      expect(call?.type === 'function' ? JSON.parse(call.function.arguments) : null).toEqual({
        location: 'Singapore',
      });
    });

    it('streams chat chunks', async () => {
      fake.reply({ kind: 'sse', events: AB_STREAM });
      const stream = await sdk.chat.completions.create({
        model: 'chat',
        messages: [{ role: 'user', content: 'hi' }],
        stream: true,
      });
      const parts: [string | null | undefined, string | null | undefined][] = [];
      for await (const chunk of stream)
        parts.push([chunk.choices[0]?.delta.content, chunk.choices[0]?.finish_reason]);
      expect(parts).toEqual([
        ['a', null],
        ['b', 'STOP'],
      ]);
      const upstream = await fake.nextRequest();
      expectGeminiCall(upstream, STREAM_PATH, { alt: 'sse' });
    });

    it('accumulates two streamed tool calls as two calls', async () => {
      const parts = [
        { functionCall: { name: 'get_weather', args: { location: 'Singapore' } } },
        { functionCall: { name: 'get_humidity', args: { location: 'Singapore' } } },
      ];
      fake.reply({ kind: 'sse', events: [geminiFrame({ candidates: [candidate({ parts })] })] });
      const stream = sdk.chat.completions.stream({
        model: 'chat',
        messages: [{ role: 'user', content: WEATHER_QUESTION }],
        tools: [WEATHER_TOOL as OpenAI.ChatCompletionTool],
      });
      const final = await stream.finalChatCompletion();
      expect(final.choices[0]?.message.tool_calls?.map((call) => call.function.name)).toEqual([
        'get_weather',
        'get_humidity',
      ]);
    });

    it('completes a prompt, streamed and not', async () => {
      fake.reply({ kind: 'json', body: jokeResponse() });
      const completion = await sdk.completions.create({ model: 'completions', prompt: 'hi' });
      expect(completion.choices[0]?.text).toBe(JOKE);
      fake.reply({ kind: 'sse', events: AB_STREAM });
      const stream = await sdk.completions.create({ model: 'completions', prompt: 'hi', stream: true });
      const texts: string[] = [];
      for await (const chunk of stream) texts.push(chunk.choices[0]?.text ?? '');
      expect(texts).toEqual(['a', 'b']);
    });

    it('creates embeddings with the base64 encoding the SDK asks for by default', async () => {
      const vectors = [
        [0.5, -0.25, 1],
        [2, 0.125, -4],
      ];
      fake.reply({ kind: 'json', body: batchEmbedContentsResponse(vectors) });
      const result = await sdk.embeddings.create({ model: 'embeddings', input: ['a', 'b'] });
      expect(result.data.map((item) => item.embedding)).toEqual(vectors);
      expect((await fake.nextRequest()).body).toEqual({
        requests: [
          { model: 'models/text-embedding-004', content: { parts: [{ text: 'a' }] } },
          { model: 'models/text-embedding-004', content: { parts: [{ text: 'b' }] } },
        ],
      });
    });

    it('surfaces an upstream 400 as an APIError with the Google message', async () => {
      fake.reply({ kind: 'json', status: 400, body: INVALID_KEY_ERROR });
      const error: unknown = await sdk.chat.completions
        .create({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] })
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(APIError);
      expect((error as APIError).status).toBe(400);
      expect((error as APIError).message).toContain('API key not valid. Please pass a valid API key.');
    });

    it('answers the reference 422 for top_p above 1', async () => {
      const error: unknown = await sdk.chat.completions
        .create({ model: 'chat', messages: [{ role: 'user', content: 'hi' }], top_p: 1.1 })
        .catch((caught: unknown) => caught);
      expect((error as APIError).status).toBe(422);
      expect((error as APIError).message).toContain('top_p should be less than or equal to 1');
      expect(fake.requests).toHaveLength(0);
    });

    it('answers 502 for a malformed 2xx embeddings body', async () => {
      fake.reply({ kind: 'json', body: { embedding: {} } });
      const error: unknown = await sdk.embeddings
        .create({ model: 'embeddings', input: 'a' })
        .catch((caught: unknown) => caught);
      expect((error as APIError).status).toBe(502);
      expect((error as APIError).message).toContain(
        'Malformed response from Gemini: missing embedding.values',
      );
    });

    it('answers 504 when Gemini hangs', async () => {
      const slowGateway = await startTestGateway(gatewayYaml(fake.url), { timeoutSeconds: 1 });
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

  describe('the key', () => {
    it('never appears in error responses or in /api/2.0/endpoints', async () => {
      fake.reply({ kind: 'json', status: 400, body: INVALID_KEY_ERROR });
      fake.reply({ kind: 'text', status: 502, body: '<html>bad gateway</html>', contentType: 'text/html' });
      fake.reply({ kind: 'json', body: {} });
      const texts = [
        await (await invoke('chat', { messages: HI })).text(),
        await (await invoke('chat', { messages: HI })).text(),
        await (await invoke('embeddings', { input: 'a' })).text(),
        await (await invoke('chat', { messages: HI, topP: 1 })).text(),
        await (await fetch(`${gateway.url}/api/2.0/endpoints/`)).text(),
        await (await fetch(`${gateway.url}/api/2.0/endpoints/chat`)).text(),
      ];
      expect(texts[4]).toContain('"gemini"');
      for (const text of texts) expect(text).not.toContain(KEY);
    });
  });
});
