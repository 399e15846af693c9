import OpenAI, { type APIError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeUpstream, sseFrame } from '../fakes/fake-upstream.js';
import {
  chatChunks,
  chatCompletion,
  chatStreamFrames,
  embeddingsList,
  gatewayChatChunks,
  invalidApiKeyError,
  rateLimitError,
  textCompletion,
} from '../fakes/openai.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

let fake: FakeUpstream;
let gateway: TestGateway;
let client: OpenAI;

function openAiEndpoint(name: string, type: string, model: string): string {
  return [
    `  - name: ${name}`,
    `    endpoint_type: llm/v1/${type}`,
    '    model:',
    '      provider: openai',
    `      name: ${model}`,
    '      config:',
    '        openai_api_key: sk-upstream-key',
    `        openai_api_base: ${fake.url}/v1`,
  ].join('\n');
}

beforeAll(async () => {
  fake = await FakeUpstream.start();
  gateway = await startTestGateway(
    [
      'endpoints:',
      openAiEndpoint('chat', 'chat', 'gpt-4o-mini'),
      openAiEndpoint('completions', 'completions', 'gpt-3.5-turbo-instruct'),
      openAiEndpoint('embeddings', 'embeddings', 'text-embedding-ada-002'),
      '  - name: mock-embeddings',
      '    endpoint_type: llm/v1/embeddings',
      '    model: { provider: mock, name: mock-embedding, config: { dimensions: 8 } }',
      '  - name: mistral-embeddings',
      '    endpoint_type: llm/v1/embeddings',
      `    model: { provider: mistral, name: mistral-embed, config: { mistral_api_key: k, mistral_api_base: "${fake.url}/v1" } }`,
    ].join('\n'),
  );
  // The SDK retries 408/409/429/5xx twice by default, which would hide the error paths.
  client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'any-key-the-gateway-ignores', maxRetries: 0 });
});

afterAll(async () => {
  await gateway.close();
  await fake.close();
});

const HI = [{ role: 'user' as const, content: 'hi' }];

/** Mistral's embeddings answer (reference mistral.md §4's shape). */
const MISTRAL_EMBEDDINGS = {
  object: 'list',
  data: [
    { object: 'embedding', embedding: [3.25, 0.7685547], index: 0 },
    { object: 'embedding', embedding: [7.25, -0.1], index: 1 },
  ],
  model: 'mistral-embed',
  usage: { prompt_tokens: 9, total_tokens: 9 },
};

/** A vector at the precision base64 carries: float32. */
function float32(vector: readonly number[]): number[] {
  return vector.map((value) => Math.fround(value));
}

/** An embeddings answer without the SDK and without encoding_format: the provider's floats. */
async function invokeEmbeddings(
  endpoint: string,
  body: unknown,
): Promise<{ data: { embedding: number[] }[] } & Record<string, unknown>> {
  const response = await fetch(`${gateway.url}/endpoints/${endpoint}/invocations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as { data: { embedding: number[] }[] } & Record<string, unknown>;
}

describe('the official openai SDK against /v1 (reference §4.8)', () => {
  it('creates a chat completion', async () => {
    fake.reply({ kind: 'json', body: chatCompletion });
    const completion = await client.chat.completions.create({ model: 'chat', messages: HI });
    const request = await fake.nextRequest();
    expect(request.body).toEqual({ model: 'gpt-4o-mini', temperature: 0.0, n: 1, messages: HI });
    expect(request.headers.authorization).toBe('Bearer sk-upstream-key');
    expect(completion).toEqual({
      id: chatCompletion.id,
      object: 'chat.completion',
      created: chatCompletion.created,
      model: chatCompletion.model,
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

  it('creates a legacy completion', async () => {
    fake.reply({ kind: 'json', body: textCompletion });
    const completion = await client.completions.create({ model: 'completions', prompt: 'hi' });
    expect((await fake.nextRequest()).body).toEqual({
      model: 'gpt-3.5-turbo-instruct',
      temperature: 0.0,
      n: 1,
      prompt: 'hi',
    });
    expect(completion.choices).toEqual([
      { index: 0, text: '\n\nThis is indeed a test', finish_reason: 'length' },
    ]);
  });

  it('creates embeddings with the base64 encoding the SDK asks for by default, encoded at the gateway', async () => {
    fake.reply({ kind: 'json', body: embeddingsList });
    const result = await client.embeddings.create({ model: 'embeddings', input: ['a', 'b'] });
    expect((await fake.nextRequest()).body).toEqual({ model: 'text-embedding-ada-002', input: ['a', 'b'] });
    expect(result).toEqual({
      ...embeddingsList,
      data: embeddingsList.data.map((item) => ({ ...item, embedding: float32(item.embedding) })),
    });
  });

  it("decodes a mock endpoint's base64 vectors to the floats it answers without the SDK", async () => {
    const floats = await invokeEmbeddings('mock-embeddings', { input: ['a', 'b'] });
    const result = await client.embeddings.create({ model: 'mock-embeddings', input: ['a', 'b'] });
    expect(result).toEqual({
      ...floats,
      data: floats.data.map((item) => ({ ...item, embedding: float32(item.embedding) })),
    });
  });

  it("decodes a mistral endpoint's base64 vectors to Mistral's floats, never sending encoding_format", async () => {
    fake.reply({ kind: 'json', body: MISTRAL_EMBEDDINGS });
    const result = await client.embeddings.create({ model: 'mistral-embeddings', input: ['a', 'b'] });
    expect((await fake.nextRequest()).body).toEqual({ model: 'mistral-embed', input: ['a', 'b'] });
    expect(result.data).toEqual([
      { object: 'embedding', embedding: float32([3.25, 0.7685547]), index: 0 },
      { object: 'embedding', embedding: float32([7.25, -0.1]), index: 1 },
    ]);
  });

  it('answers floats to a client that asks for encoding_format float', async () => {
    fake.reply({ kind: 'json', body: MISTRAL_EMBEDDINGS });
    const result = await client.embeddings.create({
      model: 'mistral-embeddings',
      input: ['a', 'b'],
      encoding_format: 'float',
    });
    expect((await fake.nextRequest()).body).toEqual({ model: 'mistral-embed', input: ['a', 'b'] });
    expect(result.data).toEqual([
      { object: 'embedding', embedding: [3.25, 0.7685547], index: 0 },
      { object: 'embedding', embedding: [7.25, -0.1], index: 1 },
    ]);
  });

  it('streams a chat completion to its end without a [DONE] event', async () => {
    fake.reply({ kind: 'sse', events: chatStreamFrames() });
    const stream = await client.chat.completions.create({ model: 'chat', messages: HI, stream: true });
    const chunks: unknown[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect((await fake.nextRequest()).body).toEqual({
      model: 'gpt-4o-mini',
      temperature: 0.0,
      n: 1,
      messages: HI,
      stream: true,
      // The gateway always asks OpenAI for usage, for client token caps and budgets.
      stream_options: { include_usage: true },
    });
    expect(chunks).toEqual(gatewayChatChunks);
  });

  it('raises AuthenticationError with the upstream message on an upstream 401', async () => {
    fake.reply({ kind: 'json', status: 401, body: invalidApiKeyError });
    const error: unknown = await client.chat.completions
      .create({ model: 'chat', messages: HI })
      .catch((caught: unknown) => caught);
    await fake.nextRequest();
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(error).toMatchObject({
      status: 401,
      message: `401 ${invalidApiKeyError.error.message}`,
      type: 'authentication_error',
      code: 'upstream_error',
      param: null,
    });
  });

  it('raises AuthenticationError before any chunk when a stream is refused upstream', async () => {
    fake.reply({ kind: 'json', status: 401, body: invalidApiKeyError });
    const error: unknown = await client.chat.completions
      .create({ model: 'chat', messages: HI, stream: true })
      .catch((caught: unknown) => caught);
    await fake.nextRequest();
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((error as APIError).message).toBe(`401 ${invalidApiKeyError.error.message}`);
  });

  it('raises RateLimitError on an upstream 429', async () => {
    fake.reply({ kind: 'json', status: 429, body: rateLimitError });
    const error: unknown = await client.chat.completions
      .create({ model: 'chat', messages: HI })
      .catch((caught: unknown) => caught);
    await fake.nextRequest();
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect((error as APIError).message).toBe(`429 ${rateLimitError.error.message}`);
  });

  it('raises BadRequestError naming an unknown model', async () => {
    const error: unknown = await client.chat.completions
      .create({ model: 'nope', messages: HI })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error).toMatchObject({
      status: 400,
      message: '400 Route nope not found in the configuration.',
      param: 'model',
    });
  });

  it('raises an APIError from the error event when the upstream breaks mid-stream', async () => {
    fake.reply({ kind: 'sse-then-drop', events: [sseFrame(chatChunks[1])] });
    const stream = await client.chat.completions.create({ model: 'chat', messages: HI, stream: true });
    const chunks: unknown[] = [];
    const error: unknown = await (async () => {
      for await (const chunk of stream) chunks.push(chunk);
    })().catch((caught: unknown) => caught);
    await fake.nextRequest();
    expect(chunks).toEqual([gatewayChatChunks[1]]);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect(error).toMatchObject({
      message: 'The upstream provider closed the connection mid-stream.',
      type: 'UpstreamConnectionLostError',
    });
  });
});
