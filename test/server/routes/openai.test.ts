import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../../helpers/gateway.js';
import { JSON_HEADERS, injectPost } from '../../helpers/http.js';

const GATEWAY_YAML = readFileSync(join(import.meta.dirname, '../../fixtures/gateway.yaml'), 'utf8');
const HI = [{ role: 'user', content: 'hi' }];

let gateway: TestGateway;

beforeAll(async () => {
  gateway = await startTestGateway(GATEWAY_YAML);
});

afterAll(async () => {
  await gateway.close();
});

function post(url: string, body: unknown, headers: Record<string, string> = JSON_HEADERS) {
  return injectPost(gateway.app, url, body, headers);
}

function openAiError(message: string, type: string, param: string | null, code: string) {
  return { error: { message, type, param, code } };
}

describe('OpenAI-compatible routes: model names the endpoint (reference §4.8)', () => {
  it('answers /v1/chat/completions like the endpoint the model names (item 82)', async () => {
    const response = await post('/v1/chat/completions', { model: 'chat', messages: HI });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      id: expect.stringMatching(/^chatcmpl-mock-/),
      object: 'chat.completion',
      created: expect.any(Number),
      model: 'mock-chat',
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: 'This is a mock response to: hi',
            tool_calls: null,
            refusal: null,
          },
          finish_reason: 'stop',
        },
      ],
      usage: { prompt_tokens: 1, completion_tokens: 7, total_tokens: 8 },
    });
  });

  it('answers /v1/completions from a completions endpoint', async () => {
    const response = await post('/v1/completions', { model: 'completions', prompt: 'hi' });
    expect(response.statusCode).toBe(200);
    expect(response.json().choices).toEqual([
      { index: 0, text: 'This is a mock completion of: hi', finish_reason: 'stop' },
    ]);
  });

  it('answers /v1/embeddings from an embeddings endpoint', async () => {
    const response = await post('/v1/embeddings', { model: 'embeddings', input: 'x' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      object: 'list',
      data: [{ object: 'embedding', embedding: expect.any(Array), index: 0 }],
      model: 'mock-model',
      usage: { prompt_tokens: 1, total_tokens: 1 },
    });
  });

  it.each([
    [
      '/v1/chat/completions',
      { model: 'completions', messages: HI },
      "Endpoint 'completions' is not a chat endpoint.",
    ],
    ['/v1/completions', { model: 'chat', prompt: 'x' }, "Endpoint 'chat' is not a completions endpoint."],
    ['/v1/embeddings', { model: 'chat', input: 'x' }, "Endpoint 'chat' is not an embeddings endpoint."],
  ])('answers %s with an endpoint of another type with 400 (items 83–85)', async (url, body, message) => {
    const response = await post(url, body);
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual(
      openAiError(message, 'invalid_request_error', 'model', 'invalid_request'),
    );
  });

  it('answers an unknown model with 400 naming it (item 86)', async () => {
    const response = await post('/v1/chat/completions', { model: 'nope', messages: HI });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual(
      openAiError(
        'Route nope not found in the configuration.',
        'invalid_request_error',
        'model',
        'endpoint_not_found',
      ),
    );
  });

  it.each([
    ['/v1/chat/completions', { messages: HI }],
    ['/v1/completions', { prompt: 'x' }],
    ['/v1/embeddings', { input: 'x' }],
  ])('answers %s without a model with 400 Route None (items 86–87)', async (url, body) => {
    const response = await post(url, body);
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual(
      openAiError(
        'Route None not found in the configuration.',
        'invalid_request_error',
        'model',
        'endpoint_not_found',
      ),
    );
  });

  it('validates the body before looking up the model, naming the field', async () => {
    const response = await post('/v1/chat/completions', { model: 'nope' });
    expect(response.statusCode).toBe(422);
    expect(response.json()).toEqual(
      openAiError('messages: Field required', 'invalid_request_error', 'messages', 'request_validation'),
    );
  });

  it('names a nested field path in param', async () => {
    const response = await post('/v1/chat/completions', { model: 'chat', messages: [{ content: 'hi' }] });
    expect(response.statusCode).toBe(422);
    expect(response.json()).toEqual(
      openAiError(
        'messages.0.role: Field required',
        'invalid_request_error',
        'messages.0.role',
        'request_validation',
      ),
    );
  });

  it('answers malformed JSON with 422 naming the body, not the offset', async () => {
    const response = await post('/v1/chat/completions', '{bad');
    expect(response.statusCode).toBe(422);
    expect(response.json()).toEqual(
      openAiError(
        "body: JSON decode error: Expected property name or '}' in JSON at position 1",
        'invalid_request_error',
        null,
        'request_validation',
      ),
    );
  });

  it('answers a non-JSON content type with 415 in the OpenAI shape', async () => {
    const response = await post('/v1/chat/completions', 'hi', { 'content-type': 'text/plain' });
    expect(response.statusCode).toBe(415);
    expect(response.json()).toEqual(
      openAiError(
        "Unsupported Media Type 'text/plain': send the body as JSON with 'Content-Type: application/json'.",
        'invalid_request_error',
        'content-type',
        'unsupported_media_type',
      ),
    );
  });

  it('answers GET with 405, Allow: POST and the OpenAI shape', async () => {
    const response = await gateway.app.inject({ method: 'GET', url: '/v1/embeddings' });
    expect(response.statusCode).toBe(405);
    expect(response.headers.allow).toBe('POST');
    expect(response.json()).toEqual(
      openAiError('Method Not Allowed', 'invalid_request_error', null, 'method_not_allowed'),
    );
  });

  it('answers an unknown /v1 path with 404 in the OpenAI shape', async () => {
    const response = await gateway.app.inject({ method: 'GET', url: '/v1/models' });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual(openAiError('Not Found', 'not_found_error', null, 'not_found'));
  });

  it('removes model before the adapter sees the request, so the model check never fires', async () => {
    const response = await post('/v1/embeddings', { model: 'embeddings', input: ['a'] });
    expect(response.statusCode).toBe(200);
  });

  it('answers n = 1e9 with 422 naming n in param', async () => {
    const response = await post('/v1/chat/completions', { model: 'chat', messages: HI, n: 1e9 });
    expect(response.statusCode).toBe(422);
    expect(response.json()).toEqual(
      openAiError(
        'n: Input should be less than or equal to 128',
        'invalid_request_error',
        'n',
        'request_validation',
      ),
    );
  });

  it('answers max_tokens above the mock model’s limit with 400 naming max_tokens', async () => {
    const response = await post('/v1/completions', { model: 'completions', prompt: 'hi', max_tokens: 1e9 });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual(
      openAiError(
        'max_tokens is too large: 1000000000. The mock model supports at most 16384 completion tokens.',
        'invalid_request_error',
        'max_tokens',
        'invalid_request',
      ),
    );
  });

  it('accepts stream and n as strings, as MLflow does', async () => {
    const response = await post('/v1/completions', {
      model: 'completions',
      prompt: 'hi',
      n: '1',
      stream: 'false',
    });
    expect(response.statusCode).toBe(200);
    expect(response.json().choices).toEqual([
      { index: 0, text: 'This is a mock completion of: hi', finish_reason: 'stop' },
    ]);
  });
});
