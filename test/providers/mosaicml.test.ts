import { join } from 'node:path';
import OpenAI, { APIError } from 'openai';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadConfig, parseConfig } from '../../src/config/load.js';
import { MODEL_NOT_PERMITTED } from '../../src/providers/base.js';
import {
  MOSAICML_API_BASE,
  MosaicMlAdapter,
  mosaicMlConfigSchema,
  toLlama2Prompt,
} from '../../src/providers/mosaicml.js';
import { ProviderRegistry } from '../../src/providers/registry.js';
import { chatRequestSchema } from '../../src/schemas/chat.js';
import { PoolSet } from '../../src/upstream/pool.js';
import { Upstream } from '../../src/upstream/request.js';
import { FakeUpstream, type FakeReply } from '../fakes/fake-upstream.js';
import {
  EMBEDDING_OUTPUTS,
  INTERNAL_ERROR,
  MAX_OUTPUT_TOKEN_LIMIT,
  PROMPT_TOKEN_LIMIT,
  RATE_LIMITED,
  TEXT_OUTPUTS,
  UNAUTHORIZED,
} from '../fakes/mosaicml.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { invokeEndpoint } from '../helpers/http.js';
import { expectJsonPost } from '../helpers/upstream-call.js';

// Reference mosaicml.md §8: models mpt-7b-instruct / llama2-70b-chat; clocks per vector.
const KEY = 'mosaic-test-key-41d7';
const KEY_VARIABLE = 'MOSAICML_TEST_API_KEY';
const COMPLETIONS_CLOCK_SECONDS = 1677858242;
const CHAT_CLOCK_SECONDS = 1700242674;
/** The key is the raw Authorization value; no other header carries a credential. */
const UPSTREAM_HEADER_NAMES = ['authorization', 'connection', 'content-length', 'content-type', 'host'];
const COMPLETIONS_PATH = '/mpt-7b-instruct/v1/predict';
const CHAT_PATH = '/llama2-70b-chat/v1/predict';
const EMBEDDINGS_PATH = '/instructor-xl/v1/predict';
const JOKE = [{ role: 'user', content: 'Tell me a joke' }];

function gatewayYaml(apiBase: string): string {
  const config = `config: { mosaicml_api_key: $${KEY_VARIABLE}, mosaicml_api_base: "${apiBase}" }`;
  return `
endpoints:
  - name: completions
    endpoint_type: llm/v1/completions
    model: { provider: mosaicml, name: mpt-7b-instruct, ${config} }
  - name: chat
    endpoint_type: llm/v1/chat
    model: { provider: mosaicml, name: llama2-70b-chat, ${config} }
  - name: embeddings
    endpoint_type: llm/v1/embeddings
    model: { provider: mosaicml, name: instructor-xl, ${config} }
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

async function expectUpstreamCall(path: string, body: unknown): Promise<void> {
  const request = await fake.nextRequest();
  expectJsonPost(request, path, []);
  expect(request.headers.authorization).toBe(KEY);
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

function render(messages: { role: string; content: string }[]): string {
  return toLlama2Prompt(chatRequestSchema.parse({ messages }).messages);
}

function chatYaml(modelName: string): string {
  return `
endpoints:
  - name: chat
    endpoint_type: llm/v1/chat
    model: { provider: mosaicml, name: ${modelName}, config: { mosaicml_api_key: k } }
`;
}

const NULL_USAGE = { prompt_tokens: null, completion_tokens: null, total_tokens: null };

/** Reference §3 gateway answer. */
const COMPLETIONS_GATEWAY_RESPONSE = {
  id: null,
  object: 'text_completion',
  created: COMPLETIONS_CLOCK_SECONDS,
  model: 'mpt-7b-instruct',
  choices: [{ index: 0, text: 'This is a test', finish_reason: null }],
  usage: NULL_USAGE,
};

/** Reference test vector 2's gateway answer. */
const CHAT_GATEWAY_RESPONSE = {
  id: null,
  object: 'chat.completion',
  created: CHAT_CLOCK_SECONDS,
  model: 'llama2-70b-chat',
  choices: [
    {
      index: 0,
      message: { role: 'assistant', content: 'This is a test', tool_calls: null, refusal: null },
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
  model: 'instructor-xl',
  usage: { prompt_tokens: null, total_tokens: null },
};

describe('mosaicml configuration', () => {
  it('is registered under the provider key mosaicml, case ignored', () => {
    expect(new ProviderRegistry().resolve('MosaicML')?.providerClass).toBe(MosaicMlAdapter);
  });

  it('loads examples/mosaicml.yaml with MOSAICML_API_KEY set', async () => {
    vi.stubEnv('MOSAICML_API_KEY', 'example-key');
    const config = await loadConfig(
      join(import.meta.dirname, '../../examples/mosaicml.yaml'),
      new ProviderRegistry(),
    );
    expect(
      config.endpoints.map((endpoint) => [endpoint.name, endpoint.endpointType, endpoint.modelName]),
    ).toEqual([
      ['mosaicml-chat', 'llm/v1/chat', 'llama2-70b-chat'],
      ['mosaicml-completions', 'llm/v1/completions', 'mpt-7b-instruct'],
      ['mosaicml-embeddings', 'llm/v1/embeddings', 'instructor-xl'],
    ]);
  });

  it('posts to {model}/v1/predict on the hosted API by default', async () => {
    const pools = new PoolSet({ connectTimeoutMs: 1000 });
    const upstream = new Upstream(pools, { timeoutSeconds: 5 });
    const target = vi.spyOn(upstream, 'target');
    new MosaicMlAdapter({
      endpointName: 'completions',
      endpointType: 'llm/v1/completions',
      modelName: 'mpt-7b-instruct',
      config: mosaicMlConfigSchema.parse({ mosaicml_api_key: KEY }),
      upstream,
    });
    expect(MOSAICML_API_BASE).toBe('https://models.hosted-on.mosaicml.hosting');
    expect(target.mock.calls).toEqual([
      ['https://models.hosted-on.mosaicml.hosting/mpt-7b-instruct/v1/predict'],
    ]);
    await pools.close();
  });

  it('joins mosaicml_api_base and the model path with one slash, keeping the base path', async () => {
    const proxied = await startTestGateway(gatewayYaml(`${fake.url}/serving/`));
    try {
      fake.reply({ kind: 'json', body: EMBEDDING_OUTPUTS });
      await invokeEndpoint(proxied.url, 'embeddings', { input: ['a', 'b'] });
      await expectUpstreamCall(`/serving${EMBEDDINGS_PATH}`, { inputs: ['a', 'b'] });
    } finally {
      await proxied.close();
    }
  });

  it.each(['LLaMA2-13b-chat', 'llama2-70b-chat'])(
    'accepts the Llama 2 model %s on a chat endpoint',
    (name) => {
      expect(parseConfig(chatYaml(name), new ProviderRegistry(), 'test.yaml').endpoints).toHaveLength(1);
    },
  );

  it('rejects a chat endpoint whose model is not Llama 2 at load time (test vector 4)', () => {
    expect(() => parseConfig(chatYaml('unsupported'), new ProviderRegistry(), 'test.yaml')).toThrow(
      "model.name: An invalid model has been specified for the chat route. 'unsupported'. Ensure the model selected starts with one of: ['llama2']",
    );
  });

  it.each([
    ['a missing mosaicml_api_key', '{}', /mosaicml_api_key: The api key provided is not a string/],
    [
      'an unset key variable',
      '{ mosaicml_api_key: $MOSAICML_UNSET_VARIABLE }',
      /mosaicml_api_key: Environment variable 'MOSAICML_UNSET_VARIABLE' is not set/,
    ],
    [
      'a mosaicml_api_base that is not a URL',
      '{ mosaicml_api_key: k, mosaicml_api_base: "mosaic" }',
      /mosaicml_api_base/,
    ],
  ])('rejects %s at load time', (_case, config, message) => {
    const yaml = `
endpoints:
  - name: completions
    endpoint_type: llm/v1/completions
    model: { provider: mosaicml, name: mpt-7b-instruct, config: ${config} }
`;
    expect(() => parseConfig(yaml, new ProviderRegistry(), 'test.yaml')).toThrow(message);
  });

  it('rejects an endpoint without a model name at load time', () => {
    const yaml = `
endpoints:
  - name: completions
    endpoint_type: llm/v1/completions
    model: { provider: mosaicml, config: { mosaicml_api_key: k } }
`;
    expect(() => parseConfig(yaml, new ProviderRegistry(), 'test.yaml')).toThrow(
      /model\.name: MosaicML endpoints must name a model/,
    );
  });

  it('keeps the key out of /api/2.0/endpoints', async () => {
    const response = await fetch(`${gateway.url}/api/2.0/endpoints/`);
    const text = await response.text();
    expect(text).toContain('"provider":"mosaicml"');
    expect(text).not.toContain(KEY);
  });
});

describe('mosaicml Llama 2 prompt template', () => {
  it.each([
    [[{ role: 'user', content: 'Tell me a joke' }], '<s>[INST] Tell me a joke [/INST]'],
    [
      [
        { role: 'system', content: "You're funny" },
        { role: 'user', content: 'Tell me a joke' },
      ],
      "<s>[INST] <<SYS>> You're funny <</SYS>> Tell me a joke [/INST]",
    ],
    [
      [
        { role: 'system', content: "You're funny" },
        { role: 'user', content: 'Tell me a joke' },
        { role: 'assistant', content: 'Haha' },
        { role: 'user', content: 'That was a bad joke' },
      ],
      "<s>[INST] <<SYS>> You're funny <</SYS>> Tell me a joke [/INST] Haha </s><s>[INST] That was a bad joke [/INST]",
    ],
    [
      [
        { role: 'user', content: 'Test' },
        { role: 'user', content: 'Test' },
      ],
      '<s>[INST] Test Test [/INST]',
    ],
    [
      [
        { role: 'system', content: 'Test' },
        { role: 'system', content: 'Test' },
      ],
      '<s>[INST] <<SYS>> Test <</SYS>> <<SYS>> Test <</SYS>> [/INST]',
    ],
    [
      [
        { role: 'system', content: 'Test' },
        { role: 'user', content: 'Test' },
        { role: 'assistant', content: 'Test' },
        { role: 'assistant', content: 'Test' },
      ],
      '<s>[INST] <<SYS>> Test <</SYS>> Test [/INST] Test </s><s> Test ',
    ],
    [[{ role: 'assistant', content: 'Test' }], '<s> Test '],
    [
      [
        { role: 'assistant', content: 'Test' },
        { role: 'system', content: 'Test' },
      ],
      '<s> Test </s><s>[INST] <<SYS>> Test <</SYS>> [/INST]',
    ],
  ])('renders reference §4 row %# exactly', (messages, rendered) => {
    expect(render(messages)).toBe(rendered);
  });
});

describe('mosaicml completions', () => {
  it('sends test vector 1: the prompt as inputs, max_tokens as max_new_tokens, no scaling', async () => {
    fake.reply({ kind: 'json', body: TEXT_OUTPUTS });
    await invoke('completions', { prompt: 'This is a test', max_tokens: 1000 });
    await expectUpstreamCall(COMPLETIONS_PATH, {
      inputs: ['This is a test'],
      parameters: { temperature: 0, n: 1, max_new_tokens: 1000 },
    });
  });

  it('answers test vector 1 with id null, the gateway clock and the configured model', async () => {
    pinClock(COMPLETIONS_CLOCK_SECONDS);
    fake.reply({ kind: 'json', body: TEXT_OUTPUTS });
    const response = await invoke('completions', { prompt: 'This is a test', max_tokens: 1000 });
    expect(response).toEqual({ status: 200, json: COMPLETIONS_GATEWAY_RESPONSE });
  });

  it('sends stop, the temperature unscaled and extras as parameters', async () => {
    fake.reply({ kind: 'json', body: TEXT_OUTPUTS });
    await invoke('completions', { prompt: 'x', temperature: 0.7, stop: ['\n'], top_p: 0.9, top_k: 50 });
    await expectUpstreamCall(COMPLETIONS_PATH, {
      inputs: ['x'],
      parameters: { temperature: 0.7, n: 1, stop: ['\n'], top_p: 0.9, top_k: 50 },
    });
  });

  it('answers /v1/completions through the openai SDK with the same mapping', async () => {
    pinClock(COMPLETIONS_CLOCK_SECONDS);
    fake.reply({ kind: 'json', body: TEXT_OUTPUTS });
    const completion = await client.completions.create({
      model: 'completions',
      prompt: 'This is a test',
      max_tokens: 1000,
    });
    await expectUpstreamCall(COMPLETIONS_PATH, {
      inputs: ['This is a test'],
      parameters: { temperature: 0, n: 1, max_new_tokens: 1000 },
    });
    expect(completion).toEqual(COMPLETIONS_GATEWAY_RESPONSE);
  });

  it('rejects max_new_tokens with 422 naming max_tokens', async () => {
    const response = await invoke('completions', { prompt: 'x', max_new_tokens: 10 });
    expect(response).toEqual({
      status: 422,
      json: { detail: 'Invalid parameter max_new_tokens. Use max_tokens instead.' },
    });
    expect(fake.requests).toHaveLength(0);
  });

  it('rejects a model field on the invocations route with 422', async () => {
    const response = await invoke('completions', { prompt: 'x', model: 'mpt-30b-instruct' });
    expect(response).toEqual({ status: 422, json: { detail: MODEL_NOT_PERMITTED } });
    expect(fake.requests).toHaveLength(0);
  });

  it('answers a streaming completions request with 501 on both route families', async () => {
    const detail = 'The completions streaming route is not implemented for MosaicML models.';
    expect(await invoke('completions', { prompt: 'x', stream: true })).toEqual({
      status: 501,
      json: { detail },
    });
    const error = await sdkError(
      client.completions.create({ model: 'completions', prompt: 'x', stream: true }),
    );
    expect(error.status).toBe(501);
    expect((error.error as { message: string }).message).toBe(detail);
  });
});

describe('mosaicml chat', () => {
  it('sends test vector 2: the rendered prompt and the parameters', async () => {
    fake.reply({ kind: 'json', body: TEXT_OUTPUTS });
    await invoke('chat', { messages: JOKE, temperature: 0.5, max_tokens: 1000 });
    await expectUpstreamCall(CHAT_PATH, {
      inputs: ['<s>[INST] Tell me a joke [/INST]'],
      parameters: { temperature: 0.5, n: 1, max_new_tokens: 1000 },
    });
  });

  it('answers test vector 2 as an assistant message with the configured model', async () => {
    pinClock(CHAT_CLOCK_SECONDS);
    fake.reply({ kind: 'json', body: TEXT_OUTPUTS });
    const response = await invoke('chat', { messages: JOKE, temperature: 0.5, max_tokens: 1000 });
    expect(response).toEqual({ status: 200, json: CHAT_GATEWAY_RESPONSE });
  });

  it('sends the reference §4 upstream body for a system and a user message', async () => {
    fake.reply({ kind: 'json', body: TEXT_OUTPUTS });
    await invoke('chat', { messages: [{ role: 'system', content: "You're funny" }, ...JOKE] });
    await expectUpstreamCall(CHAT_PATH, {
      inputs: ["<s>[INST] <<SYS>> You're funny <</SYS>> Tell me a joke [/INST]"],
      parameters: { temperature: 0, n: 1 },
    });
  });

  it('joins text parts and renders absent assistant content as empty', async () => {
    fake.reply({ kind: 'json', body: TEXT_OUTPUTS });
    const messages = [
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Tell me ' },
          { type: 'text', text: 'a joke' },
        ],
      },
      { role: 'assistant' },
      { role: 'user', content: 'Another' },
    ];
    await invoke('chat', { messages });
    await expectUpstreamCall(CHAT_PATH, {
      inputs: ['<s>[INST] Tell me a joke [/INST]  </s><s>[INST] Another [/INST]'],
      parameters: { temperature: 0, n: 1 },
    });
  });

  it('rejects an audio part with 422 naming the message', async () => {
    const content = [{ type: 'input_audio', input_audio: { data: 'AAAA', format: 'wav' } }];
    const response = await invoke('chat', { messages: [{ role: 'user', content }] });
    expect(response).toEqual({
      status: 422,
      json: {
        detail:
          'Only text content is supported by the MosaicML provider; messages.0.content has a input_audio part.',
      },
    });
    expect(fake.requests).toHaveLength(0);
  });

  it('rejects a tool message with the reference 422 (test vector 5)', async () => {
    const response = await invoke('chat', {
      messages: [...JOKE, { role: 'tool', content: 'x', tool_call_id: '1' }],
    });
    expect(response).toEqual({
      status: 422,
      json: {
        detail:
          "An invalid request structure was submitted. Invalid role tool inputted. Must be one of 'system', 'user', or 'assistant'.",
      },
    });
    expect(fake.requests).toHaveLength(0);
  });

  it('answers /v1/chat/completions through the openai SDK with the same mapping', async () => {
    pinClock(CHAT_CLOCK_SECONDS);
    fake.reply({ kind: 'json', body: TEXT_OUTPUTS });
    const completion = await client.chat.completions.create({
      model: 'chat',
      messages: [{ role: 'user', content: 'Tell me a joke' }],
      temperature: 0.5,
    });
    await expectUpstreamCall(CHAT_PATH, {
      inputs: ['<s>[INST] Tell me a joke [/INST]'],
      parameters: { temperature: 0.5, n: 1 },
    });
    expect(completion).toEqual(CHAT_GATEWAY_RESPONSE);
  });

  it('rejects max_new_tokens and a model field with 422', async () => {
    expect(await invoke('chat', { messages: JOKE, max_new_tokens: 5 })).toEqual({
      status: 422,
      json: { detail: 'Invalid parameter max_new_tokens. Use max_tokens instead.' },
    });
    expect(await invoke('chat', { messages: JOKE, model: 'llama2-13b-chat' })).toEqual({
      status: 422,
      json: { detail: MODEL_NOT_PERMITTED },
    });
    expect(fake.requests).toHaveLength(0);
  });

  it('answers a streaming chat request with 501', async () => {
    expect(await invoke('chat', { messages: JOKE, stream: true })).toEqual({
      status: 501,
      json: { detail: 'The chat streaming route is not implemented for MosaicML models.' },
    });
  });
});

describe('mosaicml embeddings', () => {
  it('sends input as inputs and maps each output vector', async () => {
    fake.reply({ kind: 'json', body: EMBEDDING_OUTPUTS });
    const response = await invoke('embeddings', { input: ['This is a', 'batch test'] });
    await expectUpstreamCall(EMBEDDINGS_PATH, { inputs: ['This is a', 'batch test'] });
    expect(response).toEqual({ status: 200, json: EMBEDDINGS_GATEWAY_RESPONSE });
  });

  it('sends a single string as a one-item list and keeps other keys at the top level', async () => {
    fake.reply({ kind: 'json', body: { outputs: [[3.25, 0.7685547]] } });
    await invoke('embeddings', { input: 'This is a', instruction: 'Represent the sentence:' });
    await expectUpstreamCall(EMBEDDINGS_PATH, {
      inputs: ['This is a'],
      instruction: 'Represent the sentence:',
    });
  });

  it('answers /v1/embeddings through the openai SDK, encoding_format kept at the gateway', async () => {
    fake.reply({ kind: 'json', body: EMBEDDING_OUTPUTS });
    const embeddings = await client.embeddings.create({
      model: 'embeddings',
      input: ['This is a', 'batch test'],
      encoding_format: 'float',
    });
    await expectUpstreamCall(EMBEDDINGS_PATH, {
      inputs: ['This is a', 'batch test'],
    });
    expect(embeddings).toEqual(EMBEDDINGS_GATEWAY_RESPONSE);
  });

  it('rejects inputs with 422 naming input', async () => {
    const response = await invoke('embeddings', { input: 'x', inputs: ['x'] });
    expect(response).toEqual({
      status: 422,
      json: { detail: 'Invalid parameter inputs. Use input instead.' },
    });
    expect(fake.requests).toHaveLength(0);
  });

  it('keeps a token-limit 500 a 500: only generation calls are rewritten', async () => {
    fake.reply({ kind: 'json', status: 500, body: PROMPT_TOKEN_LIMIT });
    expect(await invoke('embeddings', { input: 'x' })).toEqual({
      status: 500,
      json: { detail: PROMPT_TOKEN_LIMIT },
    });
  });
});

describe('mosaicml upstream failures', () => {
  it('rewrites the prompt token-count 500 to 422 with the body unchanged (test vector 3)', async () => {
    fake.reply({ kind: 'json', status: 500, body: PROMPT_TOKEN_LIMIT });
    const response = await invoke('completions', {
      prompt: 'How many puffins are there in the world?',
      max_tokens: 4080,
    });
    expect(response).toEqual({ status: 422, json: { detail: PROMPT_TOKEN_LIMIT } });
  });

  it('rewrites the max-output-tokens 500 on chat to 422, also on /v1', async () => {
    fake.reply({ kind: 'json', status: 500, body: MAX_OUTPUT_TOKEN_LIMIT });
    const error = await sdkError(
      client.chat.completions.create({
        model: 'chat',
        messages: [{ role: 'user', content: 'x' }],
      }),
    );
    expect(error.status).toBe(422);
    expect((error.error as { message: string }).message).toBe(JSON.stringify(MAX_OUTPUT_TOKEN_LIMIT));
  });

  const failures: [string, FakeReply, number, unknown][] = [
    ['500', { kind: 'json', status: 500, body: INTERNAL_ERROR }, 500, INTERNAL_ERROR],
    ['401', { kind: 'json', status: 401, body: UNAUTHORIZED }, 401, UNAUTHORIZED],
    ['429', { kind: 'json', status: 429, body: RATE_LIMITED }, 429, RATE_LIMITED],
  ];

  it.each(failures)(
    'maps an upstream %s to the same status with the whole body',
    async (_name, reply, status, detail) => {
      fake.reply(reply);
      const response = await invoke('chat', { messages: JOKE });
      expect(response).toEqual({ status, json: { detail } });
      expect(JSON.stringify(response.json)).not.toContain(KEY);
    },
  );

  it.each([
    ['completions', { prompt: 'x' }, {}, 'missing outputs'],
    ['chat', { messages: JOKE }, { outputs: [42] }, 'invalid outputs.0'],
    ['embeddings', { input: 'x' }, { outputs: ['not a vector'] }, 'invalid outputs.0'],
  ])('answers a malformed 2xx %s body with 502 naming the field', async (endpoint, request, body, what) => {
    fake.reply({ kind: 'json', body });
    const response = await invoke(endpoint, request);
    expect(response).toEqual({ status: 502, json: { detail: `Malformed response from MosaicML: ${what}` } });
  });

  it('answers a non-JSON 2xx body with 502 naming the content type', async () => {
    fake.reply({ kind: 'text', body: '<html>Bad gateway</html>', contentType: 'text/html' });
    const response = await invoke('completions', { prompt: 'x' });
    expect(response).toEqual({
      status: 502,
      json: {
        detail:
          'The returned data type from the route service is not supported. Received content type: text/html',
      },
    });
  });

  it('answers 504 when MosaicML does not answer within the configured timeout', async () => {
    const slowGateway = await startTestGateway(gatewayYaml(fake.url), { timeoutSeconds: 1 });
    try {
      fake.reply({ kind: 'hang' });
      const response = await invokeEndpoint(slowGateway.url, 'completions', { prompt: 'x' });
      expect(response.status).toBe(504);
      expect(await response.json()).toEqual({
        detail: 'The upstream provider did not respond within 1 seconds.',
      });
    } finally {
      await slowGateway.close();
    }
  });
});
