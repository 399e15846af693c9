import OpenAI, { type APIError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeUpstream, sseFrame, type RecordedRequest } from '../fakes/fake-upstream.js';
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

  it('creates embeddings, with the base64 encoding the SDK asks for by default', async () => {
    const vectors = embeddingsList.data.map((item) => Float32Array.from(item.embedding));
    fake.reply((request: RecordedRequest) => {
      const asked = (request.body as { encoding_format?: string }).encoding_format;
      const data = vectors.map((vector, index) => ({
        object: 'embedding',
        embedding: asked === 'base64' ? Buffer.from(vector.buffer).toString('base64') : Array.from(vector),
        index,
      }));
      return { kind: 'json', body: { ...embeddingsList, data } };
    });
    const result = await client.embeddings.create({ model: 'embeddings', input: ['a', 'b'] });
    expect((await fake.nextRequest()).body).toEqual({
      model: 'text-embedding-ada-002',
      input: ['a', 'b'],
      encoding_format: 'base64',
    });
    expect(result).toEqual({
      object: 'list',
      data: vectors.map((vector, index) => ({ object: 'embedding', embedding: Array.from(vector), index })),
      model: 'text-embedding-ada-002',
      usage: { prompt_tokens: 8, total_tokens: 8 },
    });
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
