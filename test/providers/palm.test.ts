import { join } from 'node:path';
import OpenAI, { APIError } from 'openai';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadConfig, parseConfig } from '../../src/config/load.js';
import { MODEL_NOT_PERMITTED } from '../../src/providers/base.js';
import { PALM_API_BASE, PalmAdapter, palmConfigSchema } from '../../src/providers/palm.js';
import { ProviderRegistry } from '../../src/providers/registry.js';
import { PoolSet } from '../../src/upstream/pool.js';
import { Upstream } from '../../src/upstream/request.js';
import { FakeUpstream, type FakeReply } from '../fakes/fake-upstream.js';
import {
  BLOCKED_TEXT_RESPONSE,
  EMBEDDINGS_RESPONSE,
  INVALID_KEY,
  MESSAGE_RESPONSE,
  MESSAGE_RESPONSE_TWO_CANDIDATES,
  MODEL_NOT_FOUND,
  QUOTA_EXCEEDED,
  SERVICE_UNAVAILABLE,
  TEXT_RESPONSE,
} from '../fakes/palm.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { invokeEndpoint } from '../helpers/http.js';
import { expectJsonPost } from '../helpers/upstream-call.js';

// Reference palm.md §8: models text-bison / chat-bison / embedding-gecko; clocks per vector.
const KEY = 'palm-test-key-9c41e';
const KEY_VARIABLE = 'PALM_TEST_API_KEY';
const COMPLETIONS_CLOCK_SECONDS = 1677858242;
const CHAT_CLOCK_SECONDS = 1700242674;
/** The only credential is Google's API key header; nothing else may carry one. */
const UPSTREAM_HEADER_NAMES = ['connection', 'content-length', 'content-type', 'host', 'x-goog-api-key'];
const GENERATE_TEXT_PATH = '/v1beta3/models/text-bison:generateText';
const GENERATE_MESSAGE_PATH = '/v1beta3/models/chat-bison:generateMessage';
const BATCH_EMBED_PATH = '/v1beta3/models/embedding-gecko:batchEmbedText';
const JOKE = [{ role: 'user', content: 'Tell me a joke' }];

function gatewayYaml(apiBase: string): string {
  const config = `config: { palm_api_key: $${KEY_VARIABLE}, palm_api_base: "${apiBase}" }`;
  return `
endpoints:
  - name: completions
    endpoint_type: llm/v1/completions
    model: { provider: palm, name: text-bison, ${config} }
  - name: chat
    endpoint_type: llm/v1/chat
    model: { provider: palm, name: chat-bison, ${config} }
  - name: embeddings
    endpoint_type: llm/v1/embeddings
    model: { provider: palm, name: embedding-gecko, ${config} }
`;
}

let fake: FakeUpstream;
let gateway: TestGateway;
let client: OpenAI;

beforeEach(async () => {
  vi.stubEnv(KEY_VARIABLE, KEY);
  fake = await FakeUpstream.start();
  gateway = await startTestGateway(gatewayYaml(fake.url));
  client = new OpenAI({ apiKey: 'client-key', baseURL: `${gateway.url}/v1`, maxRetries: 0 });
});

afterEach(async () => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  await gateway.close();
  await fake.close();
});

function pinClock(seconds: number): void {
  vi.spyOn(Date, 'now').mockReturnValue(seconds * 1000 + 900);
}

async function invoke(endpoint: string, body: unknown): Promise<{ status: number; json: unknown }> {
  const response = await invokeEndpoint(gateway.url, endpoint, body);
  return { status: response.status, json: await response.json() };
}

/** The one upstream call: method, path, empty query, the key header by value, the whole body. */
async function expectUpstreamCall(path: string, body: unknown): Promise<void> {
  const request = await fake.nextRequest();
  expectJsonPost(request, path, []);
  expect(request.headers['x-goog-api-key']).toBe(KEY);
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

const NULL_USAGE = { prompt_tokens: null, completion_tokens: null, total_tokens: null };

/** Reference §4 gateway answer. */
const COMPLETIONS_GATEWAY_RESPONSE = {
  id: null,
  object: 'text_completion',
  created: COMPLETIONS_CLOCK_SECONDS,
  model: 'text-bison',
  choices: [{ index: 0, text: 'This is a test', finish_reason: null }],
  usage: NULL_USAGE,
};

/** Reference §3 gateway answer: the role is PaLM's author "1". */
const CHAT_GATEWAY_RESPONSE = {
  id: null,
  object: 'chat.completion',
  created: CHAT_CLOCK_SECONDS,
  model: 'chat-bison',
  choices: [
    {
      index: 0,
      message: { role: '1', content: 'Hi there! How can I help you today?', tool_calls: null, refusal: null },
      finish_reason: null,
    },
  ],
  usage: NULL_USAGE,
};

const EMBEDDINGS_GATEWAY_RESPONSE = {
  object: 'list',
  data: [
    { object: 'embedding', embedding: [3.25, 0.7685547], index: 0 },
    { object: 'embedding', embedding: [7.25, 0.7685547], index: 1 },
  ],
  model: 'embedding-gecko',
  usage: { prompt_tokens: null, total_tokens: null },
};

describe('palm configuration', () => {
  it('is registered under the provider key palm, case ignored', () => {
    expect(new ProviderRegistry().resolve('PaLM')?.providerClass).toBe(PalmAdapter);
  });

  it('loads examples/palm.yaml with PALM_API_KEY set', async () => {
    vi.stubEnv('PALM_API_KEY', 'example-key');
    const config = await loadConfig(
      join(import.meta.dirname, '../../examples/palm.yaml'),
      new ProviderRegistry(),
    );
    expect(
      config.endpoints.map((endpoint) => [endpoint.name, endpoint.endpointType, endpoint.modelName]),
    ).toEqual([
      ['palm-chat', 'llm/v1/chat', 'chat-bison-001'],
      ['palm-completions', 'llm/v1/completions', 'text-bison-001'],
      ['palm-embeddings', 'llm/v1/embeddings', 'embedding-gecko-001'],
    ]);
    expect(config.endpoints.every((endpoint) => endpoint.providerClass === PalmAdapter)).toBe(true);
  });

  it('targets the three v1beta3 methods on the public API by default', async () => {
    const pools = new PoolSet({ connectTimeoutMs: 1000 });
    const upstream = new Upstream(pools, { timeoutSeconds: 5 });
    const target = vi.spyOn(upstream, 'target');
    new PalmAdapter({
      endpointName: 'chat',
      endpointType: 'llm/v1/chat',
      modelName: 'chat-bison-001',
      config: palmConfigSchema.parse({ palm_api_key: KEY }),
      upstream,
    });
    expect(PALM_API_BASE).toBe('https://generativelanguage.googleapis.com');
    expect(target.mock.calls).toEqual([
      ['https://generativelanguage.googleapis.com/v1beta3/models/chat-bison-001:generateMessage'],
      ['https://generativelanguage.googleapis.com/v1beta3/models/chat-bison-001:generateText'],
      ['https://generativelanguage.googleapis.com/v1beta3/models/chat-bison-001:batchEmbedText'],
    ]);
    await pools.close();
  });

  it('joins palm_api_base and the API path with one slash, keeping the base path', async () => {
    const proxied = await startTestGateway(gatewayYaml(`${fake.url}/proxy/palm/`));
    try {
      fake.reply({ kind: 'json', body: EMBEDDINGS_RESPONSE });
      await invokeEndpoint(proxied.url, 'embeddings', { input: ['a', 'b'] });
      await expectUpstreamCall(`/proxy/palm${BATCH_EMBED_PATH}`, { texts: ['a', 'b'] });
    } finally {
      await proxied.close();
    }
  });

  it.each([
    ['a missing palm_api_key', '{}', /palm_api_key: The api key provided is not a string/],
    [
      'an unset key variable',
      '{ palm_api_key: $PALM_UNSET_VARIABLE }',
      /palm_api_key: Environment variable 'PALM_UNSET_VARIABLE' is not set/,
    ],
    [
      'a palm_api_base that is not a URL',
      '{ palm_api_key: k, palm_api_base: "googleapis.com" }',
      /palm_api_base/,
    ],
    [
      'a palm_api_base that is not http(s)',
      '{ palm_api_key: k, palm_api_base: "ftp://x.example" }',
      /palm_api_base/,
    ],
  ])('rejects %s at load time', (_case, config, message) => {
    const yaml = `
endpoints:
  - name: chat
    endpoint_type: llm/v1/chat
    model: { provider: palm, name: chat-bison, config: ${config} }
`;
    expect(() => parseConfig(yaml, new ProviderRegistry(), 'test.yaml')).toThrow(message);
  });

  it('rejects an endpoint without a model name at load time, naming model.name', () => {
    const yaml = `
endpoints:
  - name: chat
    endpoint_type: llm/v1/chat
    model: { provider: palm, config: { palm_api_key: k } }
`;
    expect(() => parseConfig(yaml, new ProviderRegistry(), 'test.yaml')).toThrow(
      /model\.name: PaLM endpoints must name a model/,
    );
  });

  it('keeps the key out of a config error about the same endpoint', () => {
    const yaml = `
endpoints:
  - name: chat
    endpoint_type: llm/v1/chat
    model: { provider: palm, name: chat-bison, config: { palm_api_key: ${KEY}, palm_api_base: "nope" } }
`;
    const error: unknown = (() => {
      try {
        parseConfig(yaml, new ProviderRegistry(), 'test.yaml');
        return null;
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toContain('palm_api_base');
    expect((error as Error).message).not.toContain(KEY);
  });

  it('keeps the key out of /api/2.0/endpoints', async () => {
    const response = await fetch(`${gateway.url}/api/2.0/endpoints/`);
    const text = await response.text();
    expect(response.status).toBe(200);
    expect(text).toContain('"provider":"palm"');
    expect(text).not.toContain(KEY);
  });
});

describe('palm completions (generateText)', () => {
  it('sends test vector 1: prompt as text, PaLM names, temperature halved', async () => {
    fake.reply({ kind: 'json', body: TEXT_RESPONSE });
    await invoke('completions', { prompt: 'This is a test', n: 1, max_tokens: 1000, stop: ['foobar'] });
    await expectUpstreamCall(GENERATE_TEXT_PATH, {
      prompt: { text: 'This is a test' },
      temperature: 0,
      candidateCount: 1,
      maxOutputTokens: 1000,
      stopSequences: ['foobar'],
    });
  });

  it('answers test vector 1 with id null, the gateway clock and the configured model', async () => {
    pinClock(COMPLETIONS_CLOCK_SECONDS);
    fake.reply({ kind: 'json', body: TEXT_RESPONSE });
    const response = await invoke('completions', { prompt: 'This is a test', n: 1, max_tokens: 1000 });
    expect(response).toEqual({ status: 200, json: COMPLETIONS_GATEWAY_RESPONSE });
  });

  it('halves the temperature: 0.5 becomes 0.25', async () => {
    fake.reply({ kind: 'json', body: TEXT_RESPONSE });
    await invoke('completions', { prompt: 'This is a test', temperature: 0.5 });
    await expectUpstreamCall(GENERATE_TEXT_PATH, {
      prompt: { text: 'This is a test' },
      temperature: 0.25,
      candidateCount: 1,
    });
  });

  it('forwards PaLM-only parameters such as topP, topK and safetySettings unchanged', async () => {
    fake.reply({ kind: 'json', body: TEXT_RESPONSE });
    const safetySettings = [{ category: 'HARM_CATEGORY_TOXICITY', threshold: 'BLOCK_LOW_AND_ABOVE' }];
    await invoke('completions', { prompt: 'x', topP: 0.9, topK: 40, safetySettings });
    await expectUpstreamCall(GENERATE_TEXT_PATH, {
      prompt: { text: 'x' },
      temperature: 0,
      candidateCount: 1,
      topP: 0.9,
      topK: 40,
      safetySettings,
    });
  });

  it('answers /v1/completions through the openai SDK with the same mapping', async () => {
    pinClock(COMPLETIONS_CLOCK_SECONDS);
    fake.reply({ kind: 'json', body: TEXT_RESPONSE });
    const completion = await client.completions.create({
      model: 'completions',
      prompt: 'This is a test',
      max_tokens: 1000,
    });
    await expectUpstreamCall(GENERATE_TEXT_PATH, {
      prompt: { text: 'This is a test' },
      temperature: 0,
      candidateCount: 1,
      maxOutputTokens: 1000,
    });
    expect(completion).toEqual(COMPLETIONS_GATEWAY_RESPONSE);
  });

  it('answers a prompt PaLM blocked (filters, no candidates) with no choices', async () => {
    pinClock(COMPLETIONS_CLOCK_SECONDS);
    fake.reply({ kind: 'json', body: BLOCKED_TEXT_RESPONSE });
    const response = await invoke('completions', { prompt: 'x' });
    expect(response).toEqual({ status: 200, json: { ...COMPLETIONS_GATEWAY_RESPONSE, choices: [] } });
  });

  it.each([
    ['stopSequences', 'stop'],
    ['candidateCount', 'n'],
    ['maxOutputTokens', 'max_tokens'],
  ])('rejects the PaLM spelling %s with 422 naming %s, calling no upstream', async (palmName, ours) => {
    const response = await invoke('completions', { prompt: 'x', [palmName]: 1 });
    expect(response).toEqual({
      status: 422,
      json: { detail: `Invalid parameter ${palmName}. Use ${ours} instead.` },
    });
    expect(fake.requests).toHaveLength(0);
  });

  it('rejects a model field on the invocations route with 422', async () => {
    const response = await invoke('completions', { prompt: 'x', model: 'text-bison-001' });
    expect(response).toEqual({ status: 422, json: { detail: MODEL_NOT_PERMITTED } });
    expect(fake.requests).toHaveLength(0);
  });

  it('answers a streaming completions request with 501 on both route families', async () => {
    const detail = 'The completions streaming route is not implemented for PaLM models.';
    expect(await invoke('completions', { prompt: 'x', stream: true })).toEqual({
      status: 501,
      json: { detail },
    });
    const error = await sdkError(
      client.completions.create({ model: 'completions', prompt: 'x', stream: true }),
    );
    expect(error.status).toBe(501);
    expect((error.error as { message: string }).message).toBe(detail);
    expect(fake.requests).toHaveLength(0);
  });
});

describe('palm chat (generateMessage)', () => {
  it('sends test vector 2: messages under prompt with role renamed author, temperature halved', async () => {
    fake.reply({ kind: 'json', body: MESSAGE_RESPONSE });
    await invoke('chat', { messages: JOKE, temperature: 0.5 });
    await expectUpstreamCall(GENERATE_MESSAGE_PATH, {
      temperature: 0.25,
      candidateCount: 1,
      prompt: { messages: [{ content: 'Tell me a joke', author: 'user' }] },
    });
  });

  it("answers test vector 2 with PaLM's raw author as the role", async () => {
    pinClock(CHAT_CLOCK_SECONDS);
    fake.reply({ kind: 'json', body: MESSAGE_RESPONSE });
    const response = await invoke('chat', { messages: JOKE, temperature: 0.5 });
    expect(response).toEqual({ status: 200, json: CHAT_GATEWAY_RESPONSE });
  });

  it('sends system messages as an author named system (reference §3 example)', async () => {
    fake.reply({ kind: 'json', body: MESSAGE_RESPONSE });
    await invoke('chat', { messages: [{ role: 'system', content: "You're funny" }, ...JOKE] });
    await expectUpstreamCall(GENERATE_MESSAGE_PATH, {
      temperature: 0,
      candidateCount: 1,
      prompt: {
        messages: [
          { content: "You're funny", author: 'system' },
          { content: 'Tell me a joke', author: 'user' },
        ],
      },
    });
  });

  it('moves examples and context into prompt and renames stop and n', async () => {
    fake.reply({ kind: 'json', body: MESSAGE_RESPONSE_TWO_CANDIDATES });
    const examples = [{ input: { content: 'Hi' }, output: { content: 'Hello, friend.' } }];
    await invoke('chat', { messages: JOKE, examples, context: 'Be brief.', stop: ['\n'], n: 2, topK: 40 });
    await expectUpstreamCall(GENERATE_MESSAGE_PATH, {
      temperature: 0,
      candidateCount: 2,
      stopSequences: ['\n'],
      topK: 40,
      prompt: { messages: [{ content: 'Tell me a joke', author: 'user' }], examples, context: 'Be brief.' },
    });
  });

  it('maps every candidate to a choice', async () => {
    fake.reply({ kind: 'json', body: MESSAGE_RESPONSE_TWO_CANDIDATES });
    const response = await invoke('chat', { messages: JOKE, n: 2 });
    expect((response.json as typeof CHAT_GATEWAY_RESPONSE).choices).toEqual([
      {
        index: 0,
        message: {
          role: '1',
          content: 'Why did the chicken cross the road?',
          tool_calls: null,
          refusal: null,
        },
        finish_reason: null,
      },
      {
        index: 1,
        message: { role: '1', content: 'Knock knock.', tool_calls: null, refusal: null },
        finish_reason: null,
      },
    ]);
  });

  it('joins the text parts of a content array into the message content', async () => {
    fake.reply({ kind: 'json', body: MESSAGE_RESPONSE });
    const content = [
      { type: 'text', text: 'Tell me ' },
      { type: 'text', text: 'a joke' },
    ];
    await invoke('chat', { messages: [{ role: 'user', content }] });
    await expectUpstreamCall(GENERATE_MESSAGE_PATH, {
      temperature: 0,
      candidateCount: 1,
      prompt: { messages: [{ content: 'Tell me a joke', author: 'user' }] },
    });
  });

  it('rejects an image part with 422 naming the message, calling no upstream', async () => {
    const content = [{ type: 'image_url', image_url: { url: 'https://example.com/cat.png' } }];
    const response = await invoke('chat', { messages: [{ role: 'user', content }] });
    expect(response).toEqual({
      status: 422,
      json: {
        detail:
          'Only text content is supported by the PaLM provider; messages.0.content has a image_url part.',
      },
    });
    expect(fake.requests).toHaveLength(0);
  });

  it('answers /v1/chat/completions through the openai SDK with the same mapping', async () => {
    pinClock(CHAT_CLOCK_SECONDS);
    fake.reply({ kind: 'json', body: MESSAGE_RESPONSE });
    const completion = await client.chat.completions.create({
      model: 'chat',
      messages: [{ role: 'user', content: 'Tell me a joke' }],
      temperature: 0.5,
    });
    await expectUpstreamCall(GENERATE_MESSAGE_PATH, {
      temperature: 0.25,
      candidateCount: 1,
      prompt: { messages: [{ content: 'Tell me a joke', author: 'user' }] },
    });
    expect(completion).toEqual(CHAT_GATEWAY_RESPONSE);
  });

  it.each([['max_tokens'], ['maxOutputTokens']])(
    'rejects %s with 422 Max tokens is not supported (test vector 4)',
    async (field) => {
      const response = await invoke('chat', {
        messages: [{ role: 'user', content: 'This should fail.' }],
        [field]: 5000,
      });
      expect(response).toEqual({
        status: 422,
        json: { detail: 'Max tokens is not supported for PaLM chat.' },
      });
      expect(fake.requests).toHaveLength(0);
    },
  );

  it.each([
    ['stopSequences', 'stop'],
    ['candidateCount', 'n'],
  ])('rejects the PaLM spelling %s with 422 naming %s', async (palmName, ours) => {
    const response = await invoke('chat', { messages: JOKE, [palmName]: 1 });
    expect(response).toEqual({
      status: 422,
      json: { detail: `Invalid parameter ${palmName}. Use ${ours} instead.` },
    });
    expect(fake.requests).toHaveLength(0);
  });

  it('rejects a model field on the invocations route with 422', async () => {
    const response = await invoke('chat', { messages: JOKE, model: 'chat-bison-001' });
    expect(response).toEqual({ status: 422, json: { detail: MODEL_NOT_PERMITTED } });
  });

  it('answers a streaming chat request with 501 (test vector 5) on both route families', async () => {
    const detail = 'The chat streaming route is not implemented for PaLM models.';
    expect(await invoke('chat', { messages: JOKE, stream: true })).toEqual({ status: 501, json: { detail } });
    const error = await sdkError(
      client.chat.completions.create({
        model: 'chat',
        messages: [{ role: 'user', content: 'x' }],
        stream: true,
      }),
    );
    expect(error.status).toBe(501);
    expect((error.error as { message: string }).message).toBe(detail);
    expect(fake.requests).toHaveLength(0);
  });
});

describe('palm embeddings (batchEmbedText)', () => {
  it('sends test vector 3 as texts and maps each embedding value', async () => {
    fake.reply({ kind: 'json', body: EMBEDDINGS_RESPONSE });
    const response = await invoke('embeddings', { input: ['this is a', 'batch test'] });
    await expectUpstreamCall(BATCH_EMBED_PATH, { texts: ['this is a', 'batch test'] });
    expect(response).toEqual({ status: 200, json: EMBEDDINGS_GATEWAY_RESPONSE });
  });

  it('sends a single string as a one-item list, as batchEmbedText requires', async () => {
    fake.reply({ kind: 'json', body: { embeddings: [{ value: [3.25, 0.7685547] }] } });
    await invoke('embeddings', { input: 'this is a' });
    await expectUpstreamCall(BATCH_EMBED_PATH, { texts: ['this is a'] });
  });

  it('answers /v1/embeddings through the openai SDK, encoding_format kept at the gateway', async () => {
    fake.reply({ kind: 'json', body: EMBEDDINGS_RESPONSE });
    const embeddings = await client.embeddings.create({
      model: 'embeddings',
      input: ['this is a', 'batch test'],
      encoding_format: 'float',
    });
    await expectUpstreamCall(BATCH_EMBED_PATH, {
      texts: ['this is a', 'batch test'],
    });
    expect(embeddings).toEqual(EMBEDDINGS_GATEWAY_RESPONSE);
  });

  it('rejects texts with 422 naming input', async () => {
    const response = await invoke('embeddings', { input: 'x', texts: ['x'] });
    expect(response).toEqual({
      status: 422,
      json: { detail: 'Invalid parameter texts. Use input instead.' },
    });
    expect(fake.requests).toHaveLength(0);
  });

  it('rejects a model field on the invocations route with 422', async () => {
    const response = await invoke('embeddings', { input: 'x', model: 'embedding-gecko-001' });
    expect(response).toEqual({ status: 422, json: { detail: MODEL_NOT_PERMITTED } });
  });
});

describe('palm upstream failures', () => {
  const failures: [string, FakeReply, number, string][] = [
    [
      '404 (test vector 6)',
      { kind: 'json', status: 404, body: MODEL_NOT_FOUND },
      404,
      'models/text-bison is not found for API version v1beta3',
    ],
    ['400', { kind: 'json', status: 400, body: INVALID_KEY }, 400, INVALID_KEY.error.message],
    ['429', { kind: 'json', status: 429, body: QUOTA_EXCEEDED }, 429, QUOTA_EXCEEDED.error.message],
    ['503', { kind: 'json', status: 503, body: SERVICE_UNAVAILABLE }, 503, SERVICE_UNAVAILABLE.error.message],
  ];

  it.each(failures)(
    'maps an upstream %s to the same status with error.message',
    async (_name, reply, status, detail) => {
      fake.reply(reply);
      const response = await invoke('completions', { prompt: 'x' });
      expect(response).toEqual({ status, json: { detail } });
      expect(JSON.stringify(response.json)).not.toContain(KEY);
    },
  );

  it.each(failures)('maps an upstream %s to the same status on /v1', async (_name, reply, status, detail) => {
    fake.reply(reply);
    const error = await sdkError(
      client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'x' }] }),
    );
    expect(error.status).toBe(status);
    expect((error.error as { message: string }).message).toBe(detail);
  });

  it.each([
    ['completions', { prompt: 'x' }, { candidates: [{ safetyRatings: [] }] }, 'missing candidates.0.output'],
    ['completions', { prompt: 'x' }, { candidates: 'none' }, 'invalid candidates'],
    ['chat', { messages: JOKE }, { candidates: [{ author: '1' }] }, 'missing candidates.0.content'],
    ['chat', { messages: JOKE }, [], 'invalid body'],
    ['embeddings', { input: 'x' }, {}, 'missing embeddings'],
    ['embeddings', { input: 'x' }, { embeddings: [{ values: [1] }] }, 'missing embeddings.0.value'],
  ])('answers a malformed 2xx %s body with 502 naming the field', async (endpoint, request, body, what) => {
    fake.reply({ kind: 'json', body });
    const response = await invoke(endpoint, request);
    expect(response).toEqual({ status: 502, json: { detail: `Malformed response from PaLM: ${what}` } });
  });

  it('answers a non-JSON 2xx body with 502 naming the content type', async () => {
    fake.reply({ kind: 'text', body: '<html>Bad gateway</html>', contentType: 'text/html' });
    const response = await invoke('chat', { messages: JOKE });
    expect(response).toEqual({
      status: 502,
      json: {
        detail:
          'The returned data type from the route service is not supported. Received content type: text/html',
      },
    });
  });

  it('answers 504 when PaLM does not answer within the configured timeout', async () => {
    const slowGateway = await startTestGateway(gatewayYaml(fake.url), { timeoutSeconds: 1 });
    try {
      fake.reply({ kind: 'hang' });
      const response = await invokeEndpoint(slowGateway.url, 'embeddings', { input: 'x' });
      expect(response.status).toBe(504);
      expect(await response.json()).toEqual({
        detail: 'The upstream provider did not respond within 1 seconds.',
      });
    } finally {
      await slowGateway.close();
    }
  });
});
