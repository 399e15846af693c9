import { join } from 'node:path';
import OpenAI, { APIError } from 'openai';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadConfig, parseConfig } from '../../src/config/load.js';
import {
  MlflowModelServingAdapter,
  mlflowModelServingConfigSchema,
} from '../../src/providers/mlflow-model-serving.js';
import { ProviderRegistry } from '../../src/providers/registry.js';
import { PoolSet } from '../../src/upstream/pool.js';
import { Upstream } from '../../src/upstream/request.js';
import { FakeUpstream, type FakeReply } from '../fakes/fake-upstream.js';
import {
  BAD_REQUEST_ERROR,
  CHAT_PREDICTIONS,
  COMPLETIONS_PREDICTIONS,
  EMBEDDINGS_PREDICTIONS,
  INTERNAL_ERROR,
  predictions,
} from '../fakes/mlflow-model-serving.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { invokeEndpoint } from '../helpers/http.js';
import { expectJsonPost } from '../helpers/upstream-call.js';

// Reference mlflow-model-serving.md §7: models `text2text`, `chat-bot-9000`, `sentence-piece`.
const PROVIDER = 'mlflow-model-serving';
const COMPLETIONS_CLOCK_SECONDS = 1677858242;
const CHAT_CLOCK_SECONDS = 1700242674;
/** What the gateway sends a scoring server, and nothing else: no credential header of any kind. */
const UPSTREAM_HEADER_NAMES = ['connection', 'content-length', 'content-type', 'host'];
const QUERY = 'Is this a test?';
const ONE_MESSAGE = [{ role: 'user' as const, content: QUERY }];

function gatewayYaml(serverUrl: string): string {
  const config = `config: { model_server_url: "${serverUrl}" }`;
  return `
endpoints:
  - name: completions
    endpoint_type: llm/v1/completions
    model: { provider: ${PROVIDER}, name: text2text, ${config} }
  - name: chat
    endpoint_type: llm/v1/chat
    model: { provider: ${PROVIDER}, name: chat-bot-9000, ${config} }
  - name: embeddings
    endpoint_type: llm/v1/embeddings
    model: { provider: ${PROVIDER}, name: sentence-piece, ${config} }
`;
}

let fake: FakeUpstream;
let gateway: TestGateway;
let client: OpenAI;
/** Pools of adapters a test builds by hand, outside the gateway. */
let pools: PoolSet;

beforeEach(async () => {
  pools = new PoolSet({ connectTimeoutMs: 1000 });
  fake = await FakeUpstream.start();
  gateway = await startTestGateway(gatewayYaml(fake.url));
  client = new OpenAI({ apiKey: 'client-key', baseURL: `${gateway.url}/v1`, maxRetries: 0 });
});

afterEach(async () => {
  vi.restoreAllMocks();
  await gateway.close();
  await pools.close();
  await fake.close();
});

function pinClock(seconds: number): void {
  vi.spyOn(Date, 'now').mockReturnValue(seconds * 1000 + 900);
}

async function invoke(
  endpoint: string,
  body: unknown,
  url = gateway.url,
): Promise<{ status: number; json: unknown }> {
  const response = await invokeEndpoint(url, endpoint, body);
  return { status: response.status, json: await response.json() };
}

/** The one upstream call: method, path, query, exactly the JSON headers, and the whole body. */
async function expectInvocationsCall(body: unknown, path = '/invocations'): Promise<void> {
  const request = await fake.nextRequest();
  expectJsonPost(request, path, []);
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

const NO_USAGE = { prompt_tokens: null, completion_tokens: null, total_tokens: null };

function completionsResponse(texts: string[]) {
  return {
    id: null,
    object: 'text_completion',
    created: COMPLETIONS_CLOCK_SECONDS,
    model: 'text2text',
    choices: texts.map((text, index) => ({ index, text, finish_reason: null })),
    usage: NO_USAGE,
  };
}

/** Reference §4 chat answer. */
const CHAT_GATEWAY_RESPONSE = {
  id: null,
  object: 'chat.completion',
  created: CHAT_CLOCK_SECONDS,
  model: 'chat-bot-9000',
  choices: [
    {
      index: 0,
      message: { role: 'assistant', content: 'It is a test', tool_calls: null, refusal: null },
      finish_reason: null,
    },
  ],
  usage: NO_USAGE,
};

/** Reference §4 embeddings answer. */
const EMBEDDINGS_GATEWAY_RESPONSE = {
  object: 'list',
  data: [
    { object: 'embedding', embedding: [0.01, -0.1], index: 0 },
    { object: 'embedding', embedding: [0.03, -0.03], index: 1 },
  ],
  model: 'sentence-piece',
  usage: { prompt_tokens: null, total_tokens: null },
};

const TEXT_EXPECTED =
  'Expected {"predictions": ["<text>", ...]}, {"predictions": {"<key>": ["<text>", ...]}} ' +
  'or {"predictions": {"choices": ["<text>", ...], ...}}.';
const EMBEDDINGS_EXPECTED =
  'Expected {"predictions": [[<number>, ...], ...]} or {"predictions": [<number>, ...]}.';

function textShapeError(reason: string): string {
  return `1 validation error for ServingTextResponse\npredictions\n  ${reason}\n    ${TEXT_EXPECTED}`;
}

function embeddingsShapeError(reason: string): string {
  return `1 validation error for EmbeddingsResponse\npredictions\n  ${reason}\n    ${EMBEDDINGS_EXPECTED}`;
}

describe('mlflow-model-serving configuration', () => {
  it.each(['mlflow-model-serving', 'MLFLOW_MODEL_SERVING', 'mlflow_model_serving', 'MLflow-Model_Serving'])(
    'is registered under %s',
    (name) => {
      expect(new ProviderRegistry().resolve(name)?.providerClass).toBe(MlflowModelServingAdapter);
    },
  );

  it('loads examples/mlflow-model-serving.yaml', async () => {
    const path = join(import.meta.dirname, '../../examples/mlflow-model-serving.yaml');
    const config = await loadConfig(path, new ProviderRegistry());
    expect(
      config.endpoints.map((endpoint) => [
        endpoint.name,
        endpoint.endpointType,
        endpoint.providerName,
        endpoint.modelName,
        endpoint.config,
      ]),
    ).toEqual([
      [
        'my-chat-model',
        'llm/v1/chat',
        PROVIDER,
        'chat-bot-9000',
        { model_server_url: 'http://127.0.0.1:4000' },
      ],
      [
        'my-completions-model',
        'llm/v1/completions',
        PROVIDER,
        'text2text',
        { model_server_url: 'http://127.0.0.1:5000' },
      ],
      [
        'my-embeddings-model',
        'llm/v1/embeddings',
        PROVIDER,
        'sentence-piece',
        { model_server_url: 'http://127.0.0.1:2000' },
      ],
    ]);
  });

  it.each([
    ['a missing model_server_url', '{}', /model\.config\.model_server_url/],
    ['a null model_server_url', '{ model_server_url: null }', /model\.config\.model_server_url/],
    [
      'a model_server_url that is not a URL',
      '{ model_server_url: "127.0.0.1:5000" }',
      /model_server_url: must be an http\(s\) URL/,
    ],
    [
      'an environment reference (taken literally)',
      '{ model_server_url: $SERVER }',
      /model_server_url: must be an http\(s\) URL/,
    ],
  ])('rejects %s at load time', (_case, config, message) => {
    const yaml = `
endpoints:
  - name: chat
    endpoint_type: llm/v1/chat
    model: { provider: ${PROVIDER}, name: chat-bot-9000, config: ${config} }
`;
    expect(() => parseConfig(yaml, new ProviderRegistry(), 'test.yaml')).toThrow(message);
  });

  it.each([
    ['/', '/invocations'],
    ['/served/model/', '/served/model/invocations'],
    ['/served/model', '/served/model/invocations'],
  ])('joins model_server_url path %s and invocations with one slash', async (basePath, upstreamPath) => {
    const adapter = new MlflowModelServingAdapter({
      endpointName: 'embeddings',
      endpointType: 'llm/v1/embeddings',
      modelName: 'sentence-piece',
      config: mlflowModelServingConfigSchema.parse({ model_server_url: `${fake.url}${basePath}` }),
      upstream: new Upstream(pools, { timeoutSeconds: 5 }),
    });
    fake.reply({ kind: 'json', body: EMBEDDINGS_PREDICTIONS });
    const context = { signal: new AbortController().signal, log: { debug() {}, warn() {} } };
    await adapter.embeddings({ input: ['test1', 'test2'] }, context);
    await expectInvocationsCall({ inputs: ['test1', 'test2'] }, upstreamPath);
  });
});

describe('mlflow-model-serving completions', () => {
  it('sends test vector 1 as inputs + params, the defaults in params', async () => {
    fake.reply({ kind: 'json', body: COMPLETIONS_PREDICTIONS });
    await invoke('completions', { prompt: QUERY, temperature: 0.0 });
    await expectInvocationsCall({ inputs: [QUERY], params: { temperature: 0, n: 1 } });
  });

  it('answers test vector 1 with id null, null usage and the configured model', async () => {
    pinClock(COMPLETIONS_CLOCK_SECONDS);
    fake.reply({ kind: 'json', body: COMPLETIONS_PREDICTIONS });
    const response = await invoke('completions', { prompt: QUERY, temperature: 0.0 });
    expect(response).toEqual({ status: 200, json: completionsResponse(['This is a test!']) });
  });

  it('forwards stop, max_tokens, extras and a client model inside params', async () => {
    fake.reply({ kind: 'json', body: COMPLETIONS_PREDICTIONS });
    await invoke('completions', {
      prompt: QUERY,
      stop: ['\n'],
      max_tokens: 50,
      top_p: 0.5,
      model: 'client-model',
    });
    await expectInvocationsCall({
      inputs: [QUERY],
      params: { temperature: 0, n: 1, stop: ['\n'], max_tokens: 50, top_p: 0.5, model: 'client-model' },
    });
  });

  it.each([
    ['a list of strings', ['s1', 's2'], ['s1', 's2']],
    [
      'a dict with choices and another key (test vector 4)',
      { choices: ['string1', 'string2'], ignored: ['a', 'b'] },
      ['string1', 'string2'],
    ],
    [
      'a dict with one arbitrary key (test vector 4)',
      { arbitrary_key: ['s1', 's2', 's3'] },
      ['s1', 's2', 's3'],
    ],
    ['a dict with only choices', { choices: ['only'] }, ['only']],
  ])('accepts predictions as %s, one choice per text', async (_case, value, texts) => {
    pinClock(COMPLETIONS_CLOCK_SECONDS);
    fake.reply({ kind: 'json', body: predictions(value) });
    const response = await invoke('completions', { prompt: QUERY });
    expect(response).toEqual({ status: 200, json: completionsResponse(texts) });
  });

  it('completes a prompt on /v1/completions through the openai SDK', async () => {
    pinClock(COMPLETIONS_CLOCK_SECONDS);
    fake.reply({ kind: 'json', body: COMPLETIONS_PREDICTIONS });
    const completion = await client.completions.create({
      model: 'completions',
      prompt: QUERY,
      max_tokens: 20,
    });
    expect(completion).toEqual(completionsResponse(['This is a test!']));
    await expectInvocationsCall({ inputs: [QUERY], params: { temperature: 0, n: 1, max_tokens: 20 } });
  });

  it('answers a streaming request with 501 on the invocations route', async () => {
    const response = await invoke('completions', { prompt: QUERY, stream: true });
    expect(response).toEqual({
      status: 501,
      json: { detail: 'The completions streaming route is not implemented for MLflow Model Serving models.' },
    });
    expect(fake.requests).toHaveLength(0);
  });

  it('answers a streaming request with 501 on /v1/completions', async () => {
    const error = await sdkError(
      client.completions.create({ model: 'completions', prompt: QUERY, stream: true }),
    );
    expect(error.status).toBe(501);
    expect((error.error as { message: string }).message).toBe(
      'The completions streaming route is not implemented for MLflow Model Serving models.',
    );
  });
});

describe('mlflow-model-serving chat', () => {
  it('sends test vector 2 as the single message content with the defaults in params', async () => {
    fake.reply({ kind: 'json', body: CHAT_PREDICTIONS });
    await invoke('chat', { messages: ONE_MESSAGE });
    await expectInvocationsCall({ inputs: [QUERY], params: { temperature: 0, n: 1 } });
  });

  it('answers test vector 2 with an assistant message and null usage', async () => {
    pinClock(CHAT_CLOCK_SECONDS);
    fake.reply({ kind: 'json', body: CHAT_PREDICTIONS });
    const response = await invoke('chat', { messages: ONE_MESSAGE });
    expect(response).toEqual({ status: 200, json: CHAT_GATEWAY_RESPONSE });
  });

  it('sends the content whatever the role, with tools and extras in params', async () => {
    fake.reply({ kind: 'json', body: CHAT_PREDICTIONS });
    const tools = [{ type: 'function', function: { name: 'lookup' } }];
    await invoke('chat', { messages: [{ role: 'system', content: QUERY }], tools, top_k: 3 });
    await expectInvocationsCall({ inputs: [QUERY], params: { temperature: 0, n: 1, tools, top_k: 3 } });
  });

  it('sends content parts as they are', async () => {
    fake.reply({ kind: 'json', body: CHAT_PREDICTIONS });
    const content = [{ type: 'text', text: QUERY }];
    await invoke('chat', { messages: [{ role: 'user', content }] });
    await expectInvocationsCall({ inputs: [content], params: { temperature: 0, n: 1 } });
  });

  it('maps every text of the predictions to a choice', async () => {
    pinClock(CHAT_CLOCK_SECONDS);
    fake.reply({ kind: 'json', body: predictions({ choices: ['a', 'b'], scores: [1, 2] }) });
    const response = await invoke('chat', { messages: ONE_MESSAGE, n: 2 });
    expect((response.json as typeof CHAT_GATEWAY_RESPONSE).choices).toEqual([
      {
        index: 0,
        message: { role: 'assistant', content: 'a', tool_calls: null, refusal: null },
        finish_reason: null,
      },
      {
        index: 1,
        message: { role: 'assistant', content: 'b', tool_calls: null, refusal: null },
        finish_reason: null,
      },
    ]);
  });

  it('answers 422 for two messages without calling the server (test vector 5)', async () => {
    const response = await invoke('chat', {
      messages: [
        { role: 'user', content: 'a' },
        { role: 'user', content: 'b' },
      ],
    });
    expect(response).toEqual({
      status: 422,
      json: {
        detail:
          'MLflow chat models are only capable of processing a single query at a time. The request submitted consists of 2 queries.',
      },
    });
    expect(fake.requests).toHaveLength(0);
  });

  it('answers 422 naming messages.0.content for a message without content', async () => {
    const response = await invoke('chat', { messages: [{ role: 'user' }] });
    expect(response).toEqual({
      status: 422,
      json: { detail: 'MLflow chat models need the text of the query: messages.0.content is missing.' },
    });
    expect(fake.requests).toHaveLength(0);
  });

  it('chats on /v1/chat/completions through the openai SDK', async () => {
    pinClock(CHAT_CLOCK_SECONDS);
    fake.reply({ kind: 'json', body: CHAT_PREDICTIONS });
    const completion = await client.chat.completions.create({ model: 'chat', messages: ONE_MESSAGE });
    expect(completion).toEqual(CHAT_GATEWAY_RESPONSE);
    await expectInvocationsCall({ inputs: [QUERY], params: { temperature: 0, n: 1 } });
  });

  it('answers two messages on /v1 with 422 and the reference text', async () => {
    const error = await sdkError(
      client.chat.completions.create({
        model: 'chat',
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: QUERY },
        ],
      }),
    );
    expect(error.status).toBe(422);
    expect(error.error).toEqual({
      message:
        'MLflow chat models are only capable of processing a single query at a time. The request submitted consists of 2 queries.',
      type: 'invalid_request_error',
      param: 'messages',
      code: 'invalid_request',
    });
  });

  it('answers a streaming request with 501 on both route families', async () => {
    const detail = 'The chat streaming route is not implemented for MLflow Model Serving models.';
    expect(await invoke('chat', { messages: ONE_MESSAGE, stream: true })).toEqual({
      status: 501,
      json: { detail },
    });
    const error = await sdkError(
      client.chat.completions.create({ model: 'chat', messages: ONE_MESSAGE, stream: true }),
    );
    expect(error.status).toBe(501);
    expect((error.error as { message: string }).message).toBe(detail);
    expect(fake.requests).toHaveLength(0);
  });
});

describe('mlflow-model-serving embeddings', () => {
  it('sends test vector 3 as inputs only', async () => {
    fake.reply({ kind: 'json', body: EMBEDDINGS_PREDICTIONS });
    await invoke('embeddings', { input: ['test1', 'test2'] });
    await expectInvocationsCall({ inputs: ['test1', 'test2'] });
  });

  it('answers test vector 3 with one embedding per vector and null usage', async () => {
    fake.reply({ kind: 'json', body: EMBEDDINGS_PREDICTIONS });
    const response = await invoke('embeddings', { input: ['test1', 'test2'] });
    expect(response).toEqual({ status: 200, json: EMBEDDINGS_GATEWAY_RESPONSE });
  });

  it('wraps a single string input in a list and forwards extras as params', async () => {
    fake.reply({ kind: 'json', body: predictions([[0.5, 0.25]]) });
    await invoke('embeddings', { input: 'test1', dimensions: 2 });
    await expectInvocationsCall({ inputs: ['test1'], params: { dimensions: 2 } });
  });

  it('accepts a flat list of numbers as one vector, integers included', async () => {
    fake.reply({ kind: 'json', body: predictions([1, 0.5, -2]) });
    const response = await invoke('embeddings', { input: 'test1' });
    expect(response).toEqual({
      status: 200,
      json: {
        ...EMBEDDINGS_GATEWAY_RESPONSE,
        data: [{ object: 'embedding', embedding: [1, 0.5, -2], index: 0 }],
      },
    });
  });

  it('embeds on /v1/embeddings through the openai SDK with encoding_format float', async () => {
    fake.reply({ kind: 'json', body: EMBEDDINGS_PREDICTIONS });
    const embeddings = await client.embeddings.create({
      model: 'embeddings',
      input: ['test1', 'test2'],
      encoding_format: 'float',
    });
    expect(embeddings).toEqual(EMBEDDINGS_GATEWAY_RESPONSE);
    // The gateway keeps encoding_format: a scoring server only returns numbers.
    await expectInvocationsCall({ inputs: ['test1', 'test2'] });
  });

  it("answers the openai SDK's default base64 request with vectors the SDK decodes", async () => {
    fake.reply({
      kind: 'json',
      body: predictions([
        [0.5, -0.25],
        [1, 2],
      ]),
    });
    const embeddings = await client.embeddings.create({ model: 'embeddings', input: ['test1', 'test2'] });
    expect(embeddings.data.map((item) => item.embedding)).toEqual([
      [0.5, -0.25],
      [1, 2],
    ]);
    await expectInvocationsCall({ inputs: ['test1', 'test2'] });
  });

  it('answers base64 float32 strings on the invocations route when asked', async () => {
    fake.reply({ kind: 'json', body: predictions([[0.5, -0.25]]) });
    const response = await invoke('embeddings', { input: 'test1', encoding_format: 'base64' });
    expect(response.json).toEqual({
      ...EMBEDDINGS_GATEWAY_RESPONSE,
      data: [{ object: 'embedding', embedding: 'AAAAPwAAgL4=', index: 0 }],
    });
  });
});

describe('mlflow-model-serving response shapes', () => {
  it.each([
    ['no predictions key', { outputs: ['a'] }, 'Field required'],
    ['an empty list', predictions([]), 'The input list is empty'],
    ['an empty choices list', predictions({ choices: [] }), 'The input list is empty'],
    ['one key holding an empty list', predictions({ k: [] }), 'The input list is empty'],
    ['an empty dict', predictions({}), 'The input list is empty'],
    [
      'a dict of two keys without choices',
      predictions({ a: ['x'], b: ['y'] }),
      "The dict format is invalid for this route type. Ensure the served model returns a dict key containing 'choices'",
    ],
    [
      'numbers (test vector 5)',
      predictions([1, 2, 3]),
      'Input should be a valid string (item 0 is a number)',
    ],
    ['a null text', predictions(['a', null]), 'Input should be a valid string (item 1 is null)'],
    ['an object text', predictions(['a', {}]), 'Input should be a valid string (item 1 is an object)'],
    ['a bare string', predictions('text'), 'Input should be a valid list (got a string)'],
    ['one key holding a string', predictions({ k: 'text' }), 'Input should be a valid list (got a string)'],
    ['a JSON array body', [['a']], 'Field required'],
  ])(
    'answers completions predictions with %s with 502 and the reference detail',
    async (_case, body, reason) => {
      fake.reply({ kind: 'json', body });
      const response = await invoke('completions', { prompt: QUERY });
      expect(response).toEqual({ status: 502, json: { detail: textShapeError(reason) } });
    },
  );

  it('answers a malformed chat body with the same 502', async () => {
    fake.reply({ kind: 'json', body: predictions([1, 2, 3]) });
    const response = await invoke('chat', { messages: ONE_MESSAGE });
    expect(response).toEqual({
      status: 502,
      json: { detail: textShapeError('Input should be a valid string (item 0 is a number)') },
    });
  });

  it.each([
    ['no predictions key', { data: [[0.1]] }, 'Field required'],
    ['an empty list', predictions([]), 'The input list is empty'],
    [
      'empty vectors (test vector 5)',
      predictions([[], []]),
      'One or more lists in the returned prediction response are empty',
    ],
    [
      'one empty vector',
      predictions([[0.1], []]),
      'One or more lists in the returned prediction response are empty',
    ],
    [
      'strings in a vector',
      predictions([[0.1, '0.2']]),
      'Input should be a valid number (item 0.1 is a string)',
    ],
    ['strings as vectors', predictions(['a', 'b']), 'Input should be a valid list (item 0 is a string)'],
    [
      'vectors mixed with numbers',
      predictions([[0.1], 0.2]),
      'Input should be a valid list (item 1 is a number)',
    ],
    ['a bare string', predictions('text'), 'Input should be a valid list (got a string)'],
    ['an object', predictions({ embeddings: [[0.1]] }), 'Input should be a valid list (got an object)'],
  ])(
    'answers embeddings predictions with %s with 502 and the reference detail',
    async (_case, body, reason) => {
      fake.reply({ kind: 'json', body });
      const response = await invoke('embeddings', { input: 'x' });
      expect(response).toEqual({ status: 502, json: { detail: embeddingsShapeError(reason) } });
    },
  );

  it('answers a malformed body on /v1 with 502 and the detail as message', async () => {
    fake.reply({ kind: 'json', body: predictions([]) });
    const error = await sdkError(client.completions.create({ model: 'completions', prompt: QUERY }));
    expect(error.status).toBe(502);
    expect(error.error).toEqual({
      message: textShapeError('The input list is empty'),
      type: 'api_error',
      param: null,
      code: 'upstream_protocol',
    });
  });
});

describe('mlflow-model-serving upstream failures', () => {
  const failures: [string, FakeReply, number, unknown][] = [
    ['400', { kind: 'json', status: 400, body: BAD_REQUEST_ERROR }, 400, BAD_REQUEST_ERROR],
    ['500', { kind: 'json', status: 500, body: INTERNAL_ERROR }, 500, INTERNAL_ERROR],
  ];

  it.each(failures)(
    'maps a scoring-server %s to the same status with the whole body as detail',
    async (_name, reply, status, detail) => {
      fake.reply(reply);
      expect(await invoke('completions', { prompt: QUERY })).toEqual({ status, json: { detail } });
    },
  );

  it.each(failures)(
    'maps a scoring-server %s to the same status on /v1 with the body as message',
    async (_name, reply, status, detail) => {
      fake.reply(reply);
      const error = await sdkError(client.chat.completions.create({ model: 'chat', messages: ONE_MESSAGE }));
      expect(error.status).toBe(status);
      expect((error.error as { message: string }).message).toBe(JSON.stringify(detail));
    },
  );

  it('answers a non-JSON 2xx body with 502 naming the content type', async () => {
    fake.reply({ kind: 'text', body: '<html>Bad gateway</html>', contentType: 'text/html' });
    expect(await invoke('embeddings', { input: 'x' })).toEqual({
      status: 502,
      json: {
        detail:
          'The returned data type from the route service is not supported. Received content type: text/html',
      },
    });
  });

  it('answers 504 when the scoring server does not answer within the configured timeout', async () => {
    const slowGateway = await startTestGateway(gatewayYaml(fake.url), { timeoutSeconds: 1 });
    try {
      fake.reply({ kind: 'hang' });
      expect(await invoke('chat', { messages: ONE_MESSAGE }, slowGateway.url)).toEqual({
        status: 504,
        json: { detail: 'The upstream provider did not respond within 1 seconds.' },
      });
    } finally {
      await slowGateway.close();
    }
  });
});
