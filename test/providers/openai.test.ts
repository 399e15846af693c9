import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { Secret } from '../../src/config/secrets.js';
import { OpenAiAdapter, openAiConfigSchema } from '../../src/providers/openai.js';
import { PoolSet } from '../../src/upstream/pool.js';
import { Upstream } from '../../src/upstream/request.js';
import { FakeUpstream, sseFrame } from '../fakes/fake-upstream.js';
import {
  chatChunks,
  chatCompletion,
  chatCompletionWithToolCall,
  chatStreamFrames,
  completionsChunks,
  embeddingsList,
  gatewayChatChunks,
  invalidApiKeyError,
  rateLimitError,
  streamServerError,
  textCompletion,
} from '../fakes/openai.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { postJson } from '../helpers/http.js';
import { freePort } from '../helpers/port.js';

const KEY = 'sk-test-0123456789';
const HI = [{ role: 'user', content: 'hi' }];

function endpoint(name: string, type: string, model: string | null, config: Record<string, string>): string {
  const lines = Object.entries({ openai_api_key: KEY, ...config }).map(
    ([key, value]) => `        ${key}: '${value}'`,
  );
  return [
    `  - name: ${name}`,
    `    endpoint_type: llm/v1/${type}`,
    '    model:',
    '      provider: openai',
    ...(model === null ? [] : [`      name: ${model}`]),
    '      config:',
    ...lines,
  ].join('\n');
}

/** The reference §13 OpenAI endpoints plus Azure, AzureAD, organization and api-version variants. */
function gatewayYaml(upstreamUrl: string): string {
  const base = `${upstreamUrl}/v1`;
  const azure = {
    openai_api_base: `${upstreamUrl}/`,
    openai_deployment_name: 'd',
    openai_api_version: '2023-05-15',
  };
  return [
    'endpoints:',
    endpoint('chat', 'chat', 'gpt-4o-mini', { openai_api_base: base }),
    endpoint('completions', 'completions', 'gpt-3.5-turbo-instruct', { openai_api_base: base }),
    endpoint('embeddings', 'embeddings', 'text-embedding-ada-002', { openai_api_base: base }),
    endpoint('org-chat', 'chat', 'gpt-4o-mini', { openai_api_base: base, openai_organization: 'org-1' }),
    endpoint('versioned-chat', 'chat', 'gpt-4o-mini', { openai_api_base: base, openai_api_version: 'v1x' }),
    endpoint('azure-completions', 'completions', 'gpt-35-turbo', { ...azure, openai_api_type: 'azure' }),
    endpoint('azure-chat', 'chat', null, { ...azure, openai_api_type: 'azure' }),
    endpoint('azure-embeddings', 'embeddings', null, { ...azure, openai_api_type: 'azure' }),
    endpoint('azuread-completions', 'completions', 'gpt-35-turbo', { ...azure, openai_api_type: 'AzureAD' }),
  ].join('\n');
}

let fake: FakeUpstream;
let gateway: TestGateway;

beforeAll(async () => {
  fake = await FakeUpstream.start();
  gateway = await startTestGateway(gatewayYaml(fake.url));
});

afterAll(async () => {
  await gateway.close();
  await fake.close();
});

afterEach(() => {
  // Every test takes the requests it caused; none may leak into the next.
  expect(fake.requests.length).toBe(requestsTaken);
});
let requestsTaken = 0;

async function upstreamRequest() {
  requestsTaken += 1;
  return fake.nextRequest();
}

function invoke(name: string, body: unknown) {
  return gateway.app.inject({
    method: 'POST',
    url: `/endpoints/${name}/invocations`,
    payload: body as object,
  });
}

/** Posts over a real socket and reads the whole response as text. */
async function postStream(
  path: string,
  body: unknown,
): Promise<{ status: number; type: string | null; text: string }> {
  const response = await postJson(`${gateway.url}${path}`, body);
  return { status: response.status, type: response.headers.get('content-type'), text: await response.text() };
}

function events(chunks: readonly unknown[]): string {
  return chunks.map((chunk) => `data: ${JSON.stringify(chunk)}\n\n`).join('');
}

describe('OpenAI requests (reference §9.1–9.3)', () => {
  it('sends the validated chat body with model first, defaults filled and extras kept (item 56)', async () => {
    fake.reply({ kind: 'json', body: chatCompletion });
    await invoke('chat', { messages: [{ role: 'user', content: 'hi', name: 'bob' }], top_p: 0.5 });
    const request = await upstreamRequest();
    expect(request.body).toEqual({
      model: 'gpt-4o-mini',
      temperature: 0.0,
      n: 1,
      messages: [{ role: 'user', content: 'hi' }],
      top_p: 0.5,
    });
    expect(Object.keys(request.body as object)[0]).toBe('model');
  });

  it('posts chat to /v1/chat/completions with the bearer key and no other credential', async () => {
    fake.reply({ kind: 'json', body: chatCompletion });
    await invoke('chat', { messages: HI });
    const request = await upstreamRequest();
    expect({ method: request.method, path: request.path, query: request.query }).toEqual({
      method: 'POST',
      path: '/v1/chat/completions',
      query: {},
    });
    expect(request.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.headers['api-key']).toBeUndefined();
    expect(request.headers['openai-organization']).toBeUndefined();
  });

  it('forwards no header of the client request', async () => {
    fake.reply({ kind: 'json', body: chatCompletion });
    await gateway.app.inject({
      method: 'POST',
      url: '/endpoints/chat/invocations',
      headers: { authorization: 'Bearer client-key', cookie: 'session=1', 'x-custom': 'yes' },
      payload: { messages: HI },
    });
    const request = await upstreamRequest();
    expect(request.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(request.headers.cookie).toBeUndefined();
    expect(request.headers['x-custom']).toBeUndefined();
  });

  it('posts completions to /v1/completions with the legacy body (item 58)', async () => {
    fake.reply({ kind: 'json', body: textCompletion });
    await invoke('completions', { prompt: 'hi' });
    const request = await upstreamRequest();
    expect({ path: request.path, body: request.body }).toEqual({
      path: '/v1/completions',
      body: { model: 'gpt-3.5-turbo-instruct', temperature: 0.0, n: 1, prompt: 'hi' },
    });
  });

  it('posts embeddings to /v1/embeddings without temperature or n (item 59)', async () => {
    fake.reply({ kind: 'json', body: embeddingsList });
    await invoke('embeddings', { input: ['a', 'b'], dimensions: 3 });
    const request = await upstreamRequest();
    expect({ path: request.path, body: request.body }).toEqual({
      path: '/v1/embeddings',
      body: { model: 'text-embedding-ada-002', input: ['a', 'b'], dimensions: 3 },
    });
  });

  it('sends OpenAI-Organization when the config sets it (item 60)', async () => {
    fake.reply({ kind: 'json', body: chatCompletion });
    await invoke('org-chat', { messages: HI });
    expect((await upstreamRequest()).headers['openai-organization']).toBe('org-1');
  });

  it('adds api-version to an OpenAI URL when the config sets it (item 63)', async () => {
    fake.reply({ kind: 'json', body: chatCompletion });
    await invoke('versioned-chat', { messages: HI });
    const request = await upstreamRequest();
    expect({ path: request.path, query: request.query }).toEqual({
      path: '/v1/chat/completions',
      query: { 'api-version': 'v1x' },
    });
  });

  it('calls Azure at the deployment path with api-key and no model (item 61)', async () => {
    fake.reply({ kind: 'json', body: textCompletion });
    await invoke('azure-completions', { prompt: 'This is a test' });
    const request = await upstreamRequest();
    expect({ path: request.path, query: request.query, body: request.body }).toEqual({
      path: '/openai/deployments/d/completions',
      query: { 'api-version': '2023-05-15' },
      body: { temperature: 0.0, n: 1, prompt: 'This is a test' },
    });
    expect(request.headers['api-key']).toBe(KEY);
    expect(request.headers.authorization).toBeUndefined();
  });

  it('calls Azure chat at the deployment chat/completions path', async () => {
    fake.reply({ kind: 'json', body: chatCompletion });
    await invoke('azure-chat', { messages: HI });
    const request = await upstreamRequest();
    expect({ path: request.path, query: request.query, body: request.body }).toEqual({
      path: '/openai/deployments/d/chat/completions',
      query: { 'api-version': '2023-05-15' },
      body: { temperature: 0.0, n: 1, messages: HI },
    });
  });

  it('calls Azure embeddings at the deployment embeddings path', async () => {
    fake.reply({ kind: 'json', body: embeddingsList });
    await invoke('azure-embeddings', { input: 'hi' });
    const request = await upstreamRequest();
    expect({ path: request.path, query: request.query, body: request.body }).toEqual({
      path: '/openai/deployments/d/embeddings',
      query: { 'api-version': '2023-05-15' },
      body: { input: 'hi' },
    });
  });

  it('sends an AzureAD token as a bearer header and no api-key (item 62)', async () => {
    fake.reply({ kind: 'json', body: textCompletion });
    await invoke('azuread-completions', { prompt: 'This is a test' });
    const request = await upstreamRequest();
    expect(request.path).toBe('/openai/deployments/d/completions');
    expect(request.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(request.headers['api-key']).toBeUndefined();
  });

  it('rejects a model field with 422 and calls no upstream (item 54)', async () => {
    const response = await invoke('chat', { messages: HI, model: 'gpt-4o' });
    expect(response.statusCode).toBe(422);
    expect(response.json()).toEqual({
      detail:
        "The parameter 'model' is not permitted to be passed. The route being queried already defines a model instance.",
    });
  });
});

describe('OpenAI responses (reference §9.5)', () => {
  it('maps a chat completion to the gateway chat response (item 57)', async () => {
    fake.reply({ kind: 'json', body: chatCompletion });
    const response = await invoke('chat', { messages: HI });
    await upstreamRequest();
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      id: 'chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG',
      object: 'chat.completion',
      created: 1741570283,
      model: 'gpt-4o-mini-2024-07-18',
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: 'Hello! How can I assist you today?',
            tool_calls: null,
            refusal: null,
          },
          finish_reason: 'stop',
        },
      ],
      usage: { prompt_tokens: 19, completion_tokens: 10, total_tokens: 29 },
    });
  });

  it('maps tool calls of the assistant message', async () => {
    fake.reply({ kind: 'json', body: chatCompletionWithToolCall });
    const response = await invoke('chat', { messages: HI });
    await upstreamRequest();
    expect(response.json().choices).toEqual([
      {
        index: 0,
        message: {
          role: 'assistant',
          content: null,
          tool_calls: [
            {
              id: 'call_abc123',
              type: 'function',
              function: { name: 'get_current_weather', arguments: '{\n"location": "Boston, MA"\n}' },
            },
          ],
          refusal: null,
        },
        finish_reason: 'tool_calls',
      },
    ]);
  });

  it('numbers choices by position, not by the upstream index', async () => {
    const second = { ...chatCompletion.choices[0], index: 7 };
    fake.reply({ kind: 'json', body: { ...chatCompletion, choices: [second, second] } });
    const response = await invoke('chat', { messages: HI, n: 2 });
    await upstreamRequest();
    expect(response.json().choices.map((choice: { index: number }) => choice.index)).toEqual([0, 1]);
  });

  it('maps a text completion to the gateway completions response (item 58)', async () => {
    fake.reply({ kind: 'json', body: textCompletion });
    const response = await invoke('completions', { prompt: 'hi' });
    await upstreamRequest();
    expect(response.json()).toEqual({
      id: 'cmpl-uqkvlQyYK7bGYrRHQ0eXlWi7',
      object: 'text_completion',
      created: 1589478378,
      model: 'gpt-3.5-turbo-instruct',
      choices: [{ index: 0, text: '\n\nThis is indeed a test', finish_reason: 'length' }],
      usage: { prompt_tokens: 5, completion_tokens: 7, total_tokens: 12 },
    });
  });

  it('maps an embeddings list, numbering items by position (item 59)', async () => {
    fake.reply({ kind: 'json', body: embeddingsList });
    const response = await invoke('embeddings', { input: ['a', 'b'] });
    await upstreamRequest();
    expect(response.json()).toEqual({
      object: 'list',
      data: [
        { object: 'embedding', embedding: [0.0023064255, -0.009327292, -0.0028842222], index: 0 },
        { object: 'embedding', embedding: [-0.0069292834, 0.0068945703, 0.0040140655], index: 1 },
      ],
      model: 'text-embedding-ada-002',
      usage: { prompt_tokens: 8, total_tokens: 8 },
    });
  });

  it('asks OpenAI for floats and answers base64 itself when the client asks for base64', async () => {
    const floats = { ...embeddingsList, data: [{ object: 'embedding', embedding: [0.5, -0.25], index: 0 }] };
    fake.reply({ kind: 'json', body: floats });
    const response = await invoke('embeddings', { input: 'a', encoding_format: 'base64' });
    expect((await upstreamRequest()).body).toEqual({ model: 'text-embedding-ada-002', input: 'a' });
    // 0.5 and -0.25 as float32 little-endian: 00 00 00 3f, 00 00 80 be.
    expect(response.json().data).toEqual([{ object: 'embedding', embedding: 'AAAAPwAAgL4=', index: 0 }]);
  });

  it('passes a base64 string from OpenAI through unchanged', async () => {
    const base64 = { ...embeddingsList, data: [{ object: 'embedding', embedding: 'AAAAAA==', index: 0 }] };
    fake.reply({ kind: 'json', body: base64 });
    const response = await invoke('embeddings', { input: 'a', encoding_format: 'base64' });
    await upstreamRequest();
    expect(response.json().data).toEqual([{ object: 'embedding', embedding: 'AAAAAA==', index: 0 }]);
  });

  it('answers 422 naming encoding_format for an encoding OpenAI does not define', async () => {
    const response = await invoke('embeddings', { input: 'a', encoding_format: 'int8' });
    expect(response.statusCode).toBe(422);
    expect(JSON.stringify(response.json())).toContain('encoding_format');
  });

  it('answers 502 naming the missing field when a 2xx body lacks usage [D7]', async () => {
    const { usage: _usage, ...withoutUsage } = chatCompletion;
    fake.reply({ kind: 'json', body: withoutUsage });
    const response = await invoke('chat', { messages: HI });
    await upstreamRequest();
    expect(response.statusCode).toBe(502);
    expect(response.json()).toEqual({ detail: 'Malformed response from OpenAI: missing usage' });
  });
});

describe('OpenAI upstream errors (reference §6.6)', () => {
  it('maps 401 with an error object to 401 with its message (item 65)', async () => {
    fake.reply({ kind: 'json', status: 401, body: { error: { message: 'bad key' } } });
    const response = await invoke('chat', { messages: HI });
    await upstreamRequest();
    expect({ status: response.statusCode, body: response.json() }).toEqual({
      status: 401,
      body: { detail: 'bad key' },
    });
  });

  it("maps OpenAI's real invalid-key body to 401 with its message", async () => {
    fake.reply({ kind: 'json', status: 401, body: invalidApiKeyError });
    const response = await invoke('chat', { messages: HI });
    await upstreamRequest();
    expect({ status: response.statusCode, body: response.json() }).toEqual({
      status: 401,
      body: { detail: invalidApiKeyError.error.message },
    });
  });

  it('maps 400 without an error key to 400 with the whole body (item 66)', async () => {
    fake.reply({ kind: 'json', status: 400, body: { foo: 'bar' } });
    const response = await invoke('chat', { messages: HI });
    await upstreamRequest();
    expect({ status: response.statusCode, body: response.json() }).toEqual({
      status: 400,
      body: { detail: { foo: 'bar' } },
    });
  });

  it('maps 503 text/plain to 503 with {"message": text} (item 67)', async () => {
    fake.reply({ kind: 'text', status: 503, body: 'down' });
    const response = await invoke('chat', { messages: HI });
    await upstreamRequest();
    expect({ status: response.statusCode, body: response.json() }).toEqual({
      status: 503,
      body: { detail: { message: 'down' } },
    });
  });

  it('keeps the status of a 500 text/html answer, with its text (hardening item 8)', async () => {
    fake.reply({ kind: 'text', status: 500, body: '<html>oops</html>', contentType: 'text/html' });
    const response = await invoke('chat', { messages: HI });
    await upstreamRequest();
    expect({ status: response.statusCode, body: response.json() }).toEqual({
      status: 500,
      body: { detail: '<html>oops</html>' },
    });
  });

  it('maps a body without content type to 502 naming None (item 68)', async () => {
    fake.reply({ kind: 'text', status: 200, body: '{}', contentType: null });
    const response = await invoke('chat', { messages: HI });
    await upstreamRequest();
    expect({ status: response.statusCode, body: response.json() }).toEqual({
      status: 502,
      body: {
        detail: 'The returned data type from the route service is not supported. Received content type: None',
      },
    });
  });

  it('maps 429 to 429 with a detail body and no Retry-After (item 69)', async () => {
    fake.reply({ kind: 'json', status: 429, body: rateLimitError, headers: { 'retry-after': '20' } });
    const response = await invoke('chat', { messages: HI });
    await upstreamRequest();
    expect({ status: response.statusCode, body: response.json() }).toEqual({
      status: 429,
      body: { detail: rateLimitError.error.message },
    });
    expect(response.headers['retry-after']).toBeUndefined();
  });

  it('maps 400 with a string error to 400 with that string (item 70)', async () => {
    fake.reply({ kind: 'json', status: 400, body: { error: 'bad' } });
    const response = await invoke('chat', { messages: HI });
    await upstreamRequest();
    expect({ status: response.statusCode, body: response.json() }).toEqual({
      status: 400,
      body: { detail: 'bad' },
    });
  });

  it('maps a JSON content type with a body that is not JSON to 502 [D7]', async () => {
    fake.reply({ kind: 'text', status: 200, body: '{"id": "chatcmpl', contentType: 'application/json' });
    const response = await invoke('chat', { messages: HI });
    await upstreamRequest();
    expect({ status: response.statusCode, body: response.json() }).toEqual({
      status: 502,
      body: { detail: 'The upstream provider returned a body that is not valid JSON.' },
    });
  });
});

describe('OpenAI streaming (reference §9.6, §5.5)', () => {
  it('streams chat chunks as data events without [DONE] (item 73)', async () => {
    fake.reply({ kind: 'sse', events: chatStreamFrames() });
    const response = await postStream('/endpoints/chat/invocations', { messages: HI, stream: true });
    expect((await upstreamRequest()).body).toEqual({
      model: 'gpt-4o-mini',
      temperature: 0.0,
      n: 1,
      messages: HI,
      stream: true,
      // Always asked, so client token caps and budgets count streams.
      stream_options: { include_usage: true },
    });
    expect(response).toEqual({
      status: 200,
      type: 'text/event-stream; charset=utf-8',
      text: events(gatewayChatChunks),
    });
  });

  it('yields the same events when the upstream splits the stream at every byte (item 74)', async () => {
    const bytes = Buffer.from(chatStreamFrames().join(''), 'utf8');
    const chunks = [...bytes].map((byte) => Uint8Array.of(byte));
    fake.reply({ kind: 'bytes', contentType: 'text/event-stream', chunks });
    const response = await postStream('/endpoints/chat/invocations', { messages: HI, stream: true });
    await upstreamRequest();
    expect(response.text).toBe(events(gatewayChatChunks));
  });

  it('fills absent delta fields with null (item 75)', async () => {
    const chunk = {
      id: 'i',
      object: 'chat.completion.chunk',
      created: 1,
      model: 'm',
      choices: [{ index: 0, finish_reason: null, delta: { content: 't' } }],
    };
    fake.reply({ kind: 'sse', events: [sseFrame(chunk), sseFrame('[DONE]')] });
    const response = await postStream('/endpoints/chat/invocations', { messages: HI, stream: true });
    await upstreamRequest();
    expect(response.text).toBe(
      'data: {"id":"i","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"finish_reason":null,"delta":{"role":null,"content":"t","tool_calls":null}}]}\n\n',
    );
  });

  it('ignores everything after [DONE] (item 76)', async () => {
    fake.reply({
      kind: 'sse',
      events: [sseFrame(chatChunks[1]), sseFrame('[DONE]'), sseFrame(chatChunks[2])],
    });
    const response = await postStream('/endpoints/chat/invocations', { messages: HI, stream: true });
    await upstreamRequest();
    expect(response.text).toBe(events([gatewayChatChunks[1]]));
  });

  it('skips keep-alive comments (item 77)', async () => {
    fake.reply({
      kind: 'sse',
      events: [': keep-alive\n\n', sseFrame(chatChunks[1]), ': keep-alive\n\n', sseFrame('[DONE]')],
    });
    const response = await postStream('/endpoints/chat/invocations', { messages: HI, stream: true });
    await upstreamRequest();
    expect(response.text).toBe(events([gatewayChatChunks[1]]));
  });

  it('maps tool-call deltas with their index, id and function parts', async () => {
    const chunk = {
      id: 'chatcmpl-9',
      object: 'chat.completion.chunk',
      created: 2,
      model: 'gpt-4o-mini',
      choices: [
        {
          index: 0,
          delta: {
            tool_calls: [
              { index: 0, id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '' } },
            ],
          },
          finish_reason: null,
        },
      ],
    };
    fake.reply({ kind: 'sse', events: [sseFrame(chunk), sseFrame('[DONE]')] });
    const response = await postStream('/endpoints/chat/invocations', { messages: HI, stream: true });
    await upstreamRequest();
    expect(response.text).toBe(
      events([
        {
          id: 'chatcmpl-9',
          object: 'chat.completion.chunk',
          created: 2,
          model: 'gpt-4o-mini',
          choices: [
            {
              index: 0,
              finish_reason: null,
              delta: {
                role: null,
                content: null,
                tool_calls: [
                  {
                    index: 0,
                    id: 'call_1',
                    type: 'function',
                    function: { name: 'get_weather', arguments: '' },
                  },
                ],
              },
            },
          ],
        },
      ]),
    );
  });

  it('drops the usage-only chunk for a client that did not ask for it', async () => {
    const usageChunk = {
      ...chatChunks[0],
      choices: [],
      usage: { prompt_tokens: 9, completion_tokens: 2, total_tokens: 11 },
    };
    fake.reply({
      kind: 'sse',
      events: [...chatStreamFrames().slice(0, -1), sseFrame(usageChunk), sseFrame('[DONE]')],
    });
    const response = await postStream('/endpoints/chat/invocations', { messages: HI, stream: true });
    await upstreamRequest();
    expect(response.text).toBe(events(gatewayChatChunks));
  });

  it('passes the usage-only chunk with its usage to a client that asked for it', async () => {
    const usageChunk = {
      ...chatChunks[0],
      choices: [],
      usage: { prompt_tokens: 9, completion_tokens: 2, total_tokens: 11 },
    };
    fake.reply({ kind: 'sse', events: [sseFrame(usageChunk), sseFrame('[DONE]')] });
    const response = await postStream('/endpoints/chat/invocations', {
      messages: HI,
      stream: true,
      stream_options: { include_usage: true },
    });
    expect((await upstreamRequest()).body).toEqual({
      model: 'gpt-4o-mini',
      temperature: 0.0,
      n: 1,
      messages: HI,
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(response.text).toBe(
      events([
        {
          id: 'chatcmpl-123',
          object: 'chat.completion.chunk',
          created: 1694268190,
          model: 'gpt-4o-mini-2024-07-18',
          choices: [],
          usage: { prompt_tokens: 9, completion_tokens: 2, total_tokens: 11 },
        },
      ]),
    );
  });

  it('maps Completions-API stream chunks from their text (item 78)', async () => {
    fake.reply({
      kind: 'sse',
      events: [...completionsChunks.map((chunk) => sseFrame(chunk)), sseFrame('[DONE]')],
    });
    const response = await postStream('/endpoints/completions/invocations', { prompt: 'hi', stream: true });
    expect((await upstreamRequest()).body).toEqual({
      model: 'gpt-3.5-turbo-instruct',
      temperature: 0.0,
      n: 1,
      prompt: 'hi',
      stream: true,
      stream_options: { include_usage: true },
    });
    const base = {
      id: 'cmpl-7iA7iJjj8V2zOkCGvWF2hAkDWBQZe',
      object: 'text_completion_chunk',
      created: 1690759702,
      model: 'gpt-3.5-turbo-instruct',
    };
    expect(response.text).toBe(
      events([
        { ...base, choices: [{ index: 0, finish_reason: null, text: 'This' }] },
        { ...base, choices: [{ index: 0, finish_reason: 'length', text: '' }] },
      ]),
    );
  });

  it('maps chat-shaped completions chunks from delta.content [D9]', async () => {
    const chunk = {
      id: 'c',
      object: 'text_completion',
      created: 1,
      model: 'm',
      choices: [{ index: 0, finish_reason: null, delta: { content: 't' } }],
    };
    fake.reply({ kind: 'sse', events: [sseFrame(chunk), sseFrame('[DONE]')] });
    const response = await postStream('/endpoints/completions/invocations', { prompt: 'hi', stream: true });
    await upstreamRequest();
    expect(response.text).toBe(
      events([
        {
          id: 'c',
          object: 'text_completion_chunk',
          created: 1,
          model: 'm',
          choices: [{ index: 0, finish_reason: null, text: 't' }],
        },
      ]),
    );
  });

  const completionsChunk = {
    id: 'cmpl-7iA7iJjj8V2zOkCGvWF2hAkDWBQZe',
    object: 'text_completion_chunk',
    created: 1690759702,
    model: 'gpt-3.5-turbo-instruct',
    choices: [{ index: 0, finish_reason: null, text: 'This' }],
  };

  it.each([
    ['chat', { messages: HI, stream: true }, chatChunks[1], gatewayChatChunks[1]],
    ['completions', { prompt: 'x', stream: true }, completionsChunks[0], completionsChunk],
  ])(
    'ends a %s stream with the message of an error OpenAI sends mid-stream',
    async (name, body, chunk, mapped) => {
      fake.reply({ kind: 'sse', events: [sseFrame(chunk), sseFrame(streamServerError)] });
      const response = await postStream(`/endpoints/${name}/invocations`, body);
      await upstreamRequest();
      const message = JSON.stringify(streamServerError.error.message);
      expect(response.text).toBe(
        `${events([mapped])}data: {"error": {"message": ${message}, "type": "UpstreamError"}}\n\n`,
      );
    },
  );

  it('answers an upstream 401 with a JSON error before any event (item 80)', async () => {
    fake.reply({ kind: 'json', status: 401, body: { error: { message: 'bad key' } } });
    const response = await postStream('/endpoints/chat/invocations', { messages: HI, stream: true });
    await upstreamRequest();
    expect(response).toEqual({
      status: 401,
      type: 'application/json; charset=utf-8',
      text: '{"detail":"bad key"}',
    });
  });

  it('streams /v1/chat/completions with the configured model upstream (item 89)', async () => {
    fake.reply({ kind: 'sse', events: chatStreamFrames() });
    const response = await postStream('/v1/chat/completions', { model: 'chat', messages: HI, stream: true });
    expect((await upstreamRequest()).body).toEqual({
      model: 'gpt-4o-mini',
      temperature: 0.0,
      n: 1,
      messages: HI,
      stream: true,
      // Always asked, so client token caps and budgets count streams.
      stream_options: { include_usage: true },
    });
    expect(response).toEqual({
      status: 200,
      type: 'text/event-stream; charset=utf-8',
      // OpenAI's own end marker, on /v1 only (hardening item 7).
      text: `${events(gatewayChatChunks)}data: [DONE]\n\n`,
    });
  });

  it('streams Azure chat from the deployment path with api-key', async () => {
    fake.reply({ kind: 'sse', events: chatStreamFrames() });
    const response = await postStream('/endpoints/azure-chat/invocations', { messages: HI, stream: true });
    const request = await upstreamRequest();
    expect({ path: request.path, query: request.query, body: request.body }).toEqual({
      path: '/openai/deployments/d/chat/completions',
      query: { 'api-version': '2023-05-15' },
      body: { temperature: 0.0, n: 1, messages: HI, stream: true },
    });
    expect(request.headers['api-key']).toBe(KEY);
    expect(request.headers.authorization).toBeUndefined();
    expect(response.text).toBe(events(gatewayChatChunks));
  });
});

describe('OpenAI timeouts and transport failures (reference [D6])', () => {
  it('answers 504 when the upstream does not answer within the timeout (item 71)', async () => {
    const slow = await FakeUpstream.start();
    slow.replyAlways({ kind: 'hang' });
    const timed = await startTestGateway(gatewayYaml(slow.url), { timeoutSeconds: 0.3 });
    try {
      const response = await timed.app.inject({
        method: 'POST',
        url: '/endpoints/chat/invocations',
        payload: { messages: HI },
      });
      expect({ status: response.statusCode, body: response.json() }).toEqual({
        status: 504,
        body: { detail: 'The upstream provider did not respond within 0.3 seconds.' },
      });
    } finally {
      await timed.close();
      await slow.close();
    }
  });

  it('answers 502 when the upstream refuses the connection (item 72)', async () => {
    const port = await freePort();
    const refused = await startTestGateway(gatewayYaml(`http://127.0.0.1:${port}`));
    try {
      const response = await refused.app.inject({
        method: 'POST',
        url: '/endpoints/chat/invocations',
        payload: { messages: HI },
      });
      expect({ status: response.statusCode, body: response.json() }).toEqual({
        status: 502,
        body: { detail: 'Could not reach the upstream provider: ECONNREFUSED' },
      });
    } finally {
      await refused.close();
    }
  });
});

describe('OpenAiAdapter construction', () => {
  function build(config: Record<string, unknown>): { urls: string[]; adapter: OpenAiAdapter } {
    const upstream = new Upstream(new PoolSet({ connectTimeoutMs: 1000 }), { timeoutSeconds: 1 });
    const target = vi.spyOn(upstream, 'target');
    const parsed = openAiConfigSchema.parse({ openai_api_key: 'sk-x', ...config });
    const adapter = new OpenAiAdapter({
      endpointName: 'e',
      endpointType: 'llm/v1/chat',
      modelName: 'gpt-4o-mini',
      config: parsed,
      upstream,
    });
    return { urls: target.mock.calls.map(([url]) => url), adapter };
  }

  it('targets https://api.openai.com/v1 by default', () => {
    expect(build({}).urls).toEqual([
      'https://api.openai.com/v1/chat/completions',
      'https://api.openai.com/v1/completions',
      'https://api.openai.com/v1/embeddings',
      // The Responses API, for the Responses ingress's passthrough.
      'https://api.openai.com/v1/responses',
    ]);
  });

  it('targets the Azure deployment with api-version, not doubling a trailing slash', () => {
    const { urls } = build({
      openai_api_type: 'azure',
      openai_api_base: 'https://test-azureopenai.openai.azure.com/',
      openai_deployment_name: 'test-gpt35',
      openai_api_version: '2023-05-15',
    });
    expect(urls).toEqual([
      'https://test-azureopenai.openai.azure.com/openai/deployments/test-gpt35/chat/completions?api-version=2023-05-15',
      'https://test-azureopenai.openai.azure.com/openai/deployments/test-gpt35/completions?api-version=2023-05-15',
      'https://test-azureopenai.openai.azure.com/openai/deployments/test-gpt35/embeddings?api-version=2023-05-15',
      // Azure serves the Responses API on its v1 surface only, without api-version.
      'https://test-azureopenai.openai.azure.com/openai/v1/responses',
    ]);
  });

  it('reveals the key into its headers at construction only', () => {
    const reveal = vi.spyOn(Secret.prototype, 'reveal');
    build({});
    expect(reveal).toHaveBeenCalledTimes(1);
    reveal.mockRestore();
  });
});

describe('per config load, not per request', () => {
  it('resolves no URL or pool while serving requests', async () => {
    const target = vi.spyOn(gateway.upstream, 'target');
    fake.reply({ kind: 'json', body: chatCompletion });
    fake.reply({ kind: 'sse', events: chatStreamFrames() });
    await invoke('chat', { messages: HI });
    await upstreamRequest();
    await postStream('/endpoints/chat/invocations', { messages: HI, stream: true });
    await upstreamRequest();
    expect(target).not.toHaveBeenCalled();
    target.mockRestore();
  });
});
