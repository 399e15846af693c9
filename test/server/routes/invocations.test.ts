import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseConfig } from '../../../src/config/load.js';
import { ProviderAdapter, type AdapterInit } from '../../../src/providers/base.js';
import { ProviderRegistry } from '../../../src/providers/registry.js';
import type { ChatRequest, ChatResponse } from '../../../src/schemas/chat.js';
import { createGateway, type Gateway } from '../../../src/server/start.js';
import { FakeUpstream } from '../../fakes/fake-upstream.js';
import { startTestGateway, type TestGateway } from '../../helpers/gateway.js';
import { BODY_LIMIT_BYTES, MAX_JSON_DEPTH } from '../../../src/server/json-body.js';
import { JSON_HEADERS, injectPost } from '../../helpers/http.js';
import { openAiChatYaml } from '../../helpers/openai-endpoint.js';

const GATEWAY_YAML = readFileSync(join(import.meta.dirname, '../../fixtures/gateway.yaml'), 'utf8');
const HI = [{ role: 'user', content: 'hi' }];
const MODEL_NOT_PERMITTED =
  "The parameter 'model' is not permitted to be passed. The route being queried already defines a model instance.";

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

/** `type` and `loc` of each 422 item (reference §6.2: tests pin these two). */
function issuesOf(body: string): { type: string; loc: unknown[] }[] {
  const { detail } = JSON.parse(body) as { detail: { type: string; loc: unknown[] }[] };
  return detail.map(({ type, loc }) => ({ type, loc }));
}

describe('POST /endpoints/{name}/invocations: answers', () => {
  it('answers a chat request with the whole chat response', async () => {
    const response = await post('/endpoints/chat/invocations', { messages: HI });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
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

  it('answers a completions request with the whole completions response', async () => {
    const response = await post('/endpoints/completions/invocations', { prompt: 'hi' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      id: expect.stringMatching(/^cmpl-mock-/),
      object: 'text_completion',
      created: expect.any(Number),
      model: 'mock-instruct',
      choices: [{ index: 0, text: 'This is a mock completion of: hi', finish_reason: 'stop' }],
      usage: { prompt_tokens: 1, completion_tokens: 7, total_tokens: 8 },
    });
  });

  it('answers an embeddings request with one vector per input', async () => {
    const response = await post('/endpoints/embeddings/invocations', { input: ['a', 'b'] });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      object: 'list',
      data: [
        { object: 'embedding', embedding: expect.any(Array), index: 0 },
        { object: 'embedding', embedding: expect.any(Array), index: 1 },
      ],
      model: 'mock-model',
      usage: { prompt_tokens: 2, total_tokens: 2 },
    });
  });

  it('serves the same endpoint at the legacy /gateway/{name}/invocations path', async () => {
    const response = await post('/gateway/completions/invocations', { prompt: 'hi' });
    expect(response.statusCode).toBe(200);
    expect(response.json().choices).toEqual([
      { index: 0, text: 'This is a mock completion of: hi', finish_reason: 'stop' },
    ]);
  });

  it('parses a body sent without a Content-Type as JSON', async () => {
    const response = await post('/endpoints/completions/invocations', '{"prompt":"hi"}', {});
    expect(response.statusCode).toBe(200);
  });

  it('accepts a JSON content type with a charset', async () => {
    const response = await post('/endpoints/completions/invocations', '{"prompt":"hi"}', {
      'content-type': 'application/json; charset=utf-8',
    });
    expect(response.statusCode).toBe(200);
  });
});

describe('POST /endpoints/{name}/invocations: errors', () => {
  it('answers 404 Not Found for an unknown endpoint (reference §13 item 45)', async () => {
    const response = await post('/endpoints/nope/invocations', { messages: HI });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({ detail: 'Not Found' });
  });

  it('answers GET with 405 and Allow: POST (item 46)', async () => {
    const response = await gateway.app.inject({ method: 'GET', url: '/endpoints/chat/invocations' });
    expect(response.statusCode).toBe(405);
    expect(response.headers.allow).toBe('POST');
    expect(response.json()).toEqual({ detail: 'Method Not Allowed' });
  });

  it('answers GET on an unknown endpoint with 404, not 405', async () => {
    const response = await gateway.app.inject({ method: 'GET', url: '/gateway/nope/invocations' });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({ detail: 'Not Found' });
  });

  it('redirects a trailing slash with 307 to the invocation path', async () => {
    const response = await post('/endpoints/chat/invocations/', { messages: HI });
    expect(response.statusCode).toBe(307);
    expect(response.headers.location).toBe('/endpoints/chat/invocations');
  });

  it('answers a completions body sent to a chat endpoint with 422 missing messages (item 47)', async () => {
    const response = await post('/endpoints/chat/invocations', { prompt: 'hi' });
    expect(response.statusCode).toBe(422);
    expect(response.json()).toEqual({
      detail: [
        { type: 'missing', loc: ['body', 'messages'], msg: 'Field required', input: { prompt: 'hi' } },
      ],
    });
  });

  it('answers an empty messages list with 422 too_short (item 48)', async () => {
    const response = await post('/endpoints/chat/invocations', { messages: [] });
    expect(response.statusCode).toBe(422);
    expect(response.json()).toEqual({
      detail: [
        {
          type: 'too_short',
          loc: ['body', 'messages'],
          msg: 'List should have at least 1 item after validation, not 0',
          input: [],
          ctx: { field_type: 'List', min_length: 1, actual_length: 0 },
        },
      ],
    });
  });

  it.each([
    ['temperature 2.5', { temperature: 2.5 }, 'less_than_equal', 'temperature'],
    ['n 0', { n: 0 }, 'greater_than_equal', 'n'],
    ['stop as a string', { stop: 'END' }, 'list_type', 'stop'],
    ['max_tokens 0', { max_tokens: 0 }, 'greater_than_equal', 'max_tokens'],
    ['stream as a list', { stream: [] }, 'bool_type', 'stream'],
    ['stream as a word pydantic does not know', { stream: 'maybe' }, 'bool_parsing', 'stream'],
    ['n above 128', { n: 1e9 }, 'less_than_equal', 'n'],
    ['n with a fraction', { n: 1.5 }, 'int_from_float', 'n'],
    ['n as a non-integer string', { n: '1.5' }, 'int_parsing', 'n'],
    ['temperature as a word', { temperature: 'warm' }, 'float_parsing', 'temperature'],
    ['temperature as a list', { temperature: [1] }, 'float_type', 'temperature'],
  ])('answers %s with 422 naming the field (items 49–50)', async (_case, extra, type, field) => {
    const response = await post('/endpoints/chat/invocations', { messages: HI, ...extra });
    expect(response.statusCode).toBe(422);
    expect(issuesOf(response.body)).toEqual([{ type, loc: ['body', field] }]);
  });

  it('answers a message without a role with 422 at its index', async () => {
    const response = await post('/endpoints/chat/invocations', { messages: [{ content: 'hi' }] });
    expect(response.statusCode).toBe(422);
    expect(issuesOf(response.body)).toEqual([{ type: 'missing', loc: ['body', 'messages', 0, 'role'] }]);
  });

  it('answers a prompt list on a completions endpoint with 422 string_type (item 51)', async () => {
    const response = await post('/endpoints/completions/invocations', { prompt: ['a'] });
    expect(response.statusCode).toBe(422);
    expect(response.json()).toEqual({
      detail: [
        { type: 'string_type', loc: ['body', 'prompt'], msg: 'Input should be a valid string', input: ['a'] },
      ],
    });
  });

  it('answers a numeric embeddings input with 422 at input (item 52)', async () => {
    const response = await post('/endpoints/embeddings/invocations', { input: 123 });
    expect(response.statusCode).toBe(422);
    expect(issuesOf(response.body)).toEqual([{ type: 'union_type', loc: ['body', 'input'] }]);
  });

  it('answers malformed JSON with 422 json_invalid at the character offset (item 53)', async () => {
    const response = await post('/endpoints/chat/invocations', '{bad');
    expect(response.statusCode).toBe(422);
    expect(response.json()).toEqual({
      detail: [
        {
          type: 'json_invalid',
          loc: ['body', 1],
          msg: 'JSON decode error',
          input: {},
          ctx: { error: "Expected property name or '}' in JSON at position 1" },
        },
      ],
    });
  });

  it('answers an empty body with 422 missing body', async () => {
    const response = await post('/endpoints/chat/invocations', '');
    expect(response.statusCode).toBe(422);
    expect(response.json()).toEqual({
      detail: [{ type: 'missing', loc: ['body'], msg: 'Field required', input: null }],
    });
  });

  it('answers a non-JSON content type with 415 naming the header', async () => {
    const response = await post('/endpoints/chat/invocations', JSON.stringify({ messages: HI }), {
      'content-type': 'text/plain',
    });
    expect(response.statusCode).toBe(415);
    expect(response.json()).toEqual({
      detail:
        "Unsupported Media Type 'text/plain': send the body as JSON with 'Content-Type: application/json'.",
    });
  });

  it('answers a model field with the reference 422 string detail (item 54)', async () => {
    const response = await post('/endpoints/chat/invocations', { messages: HI, model: 'x' });
    expect(response.statusCode).toBe(422);
    expect(response.json()).toEqual({ detail: MODEL_NOT_PERMITTED });
  });

  it('answers a model field with stream true as the same JSON 422, not a stream (item 55)', async () => {
    const response = await post('/endpoints/chat/invocations', { messages: HI, model: 'x', stream: true });
    expect(response.statusCode).toBe(422);
    expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(response.json()).toEqual({ detail: MODEL_NOT_PERMITTED });
  });

  it('answers a model field on an embeddings endpoint with the same 422', async () => {
    const response = await post('/endpoints/embeddings/invocations', { input: 'x', model: 'x' });
    expect(response.statusCode).toBe(422);
    expect(response.json()).toEqual({ detail: MODEL_NOT_PERMITTED });
  });
});

describe('POST /endpoints/{name}/invocations: request bounds', () => {
  /** A completions body of exactly `bytes` bytes. */
  function completionsBody(bytes: number): string {
    const shell = '{"prompt":""}';
    return `{"prompt":"${'x'.repeat(bytes - shell.length)}"}`;
  }

  it('accepts a body of exactly BODY_LIMIT_BYTES', async () => {
    const response = await post('/endpoints/completions/invocations', completionsBody(BODY_LIMIT_BYTES));
    expect(response.statusCode).toBe(200);
    expect(response.json().usage).toEqual({ prompt_tokens: 1, completion_tokens: 7, total_tokens: 8 });
  });

  it('answers a body one byte over the limit with 413 naming the limit', async () => {
    const response = await post('/endpoints/completions/invocations', completionsBody(BODY_LIMIT_BYTES + 1));
    expect(response.statusCode).toBe(413);
    expect(response.json()).toEqual({
      detail: `Request body is too large: the gateway accepts at most ${BODY_LIMIT_BYTES} bytes.`,
    });
  });

  const deep = `{"messages":[{"role":"user","content":"x"}],"stop":${'['.repeat(20_000)}${']'.repeat(20_000)}}`;
  const tooDeepAt = '{"messages":[{"role":"user","content":"x"}],"stop":'.length + MAX_JSON_DEPTH - 1;

  it.each([
    ['a body nested 20,000 levels deep', deep],
    ['the same body cut off mid-way', deep.slice(0, 30_000)],
  ])('answers %s with 422 json_invalid at the bracket past the limit', async (_case, body) => {
    const response = await post('/endpoints/chat/invocations', body);
    expect(response.statusCode).toBe(422);
    expect(response.json()).toEqual({
      detail: [
        {
          type: 'json_invalid',
          loc: ['body', tooDeepAt],
          msg: 'JSON decode error',
          input: {},
          ctx: { error: `nesting deeper than ${MAX_JSON_DEPTH} levels of arrays and objects` },
        },
      ],
    });
  });

  it('answers n = 1e9 with 422 less_than_equal naming n', async () => {
    const response = await post('/endpoints/chat/invocations', { messages: HI, n: 1e9 });
    expect(response.statusCode).toBe(422);
    expect(response.json()).toEqual({
      detail: [
        {
          type: 'less_than_equal',
          loc: ['body', 'n'],
          msg: 'Input should be less than or equal to 128',
          input: 1e9,
          ctx: { le: 128 },
        },
      ],
    });
  });

  it('answers 2049 embeddings inputs with 422 too_long at input', async () => {
    const response = await post('/endpoints/embeddings/invocations', { input: Array(2049).fill('x') });
    expect(response.statusCode).toBe(422);
    expect(issuesOf(response.body)).toEqual([{ type: 'too_long', loc: ['body', 'input'] }]);
  });

  it('answers a huge number with a 422 naming the field, not a 500', async () => {
    const response = await post(
      '/endpoints/chat/invocations',
      '{"messages":[{"role":"user","content":"x"}],"max_tokens":1e999}',
    );
    expect(response.statusCode).toBe(422);
    expect(issuesOf(response.body)).toEqual([{ type: 'finite_number', loc: ['body', 'max_tokens'] }]);
  });

  it('reads invalid UTF-8 as replacement characters', async () => {
    const payload = Buffer.concat([
      Buffer.from('{"prompt":"a'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('"}'),
    ]);
    const response = await gateway.app.inject({
      method: 'POST',
      url: '/endpoints/completions/invocations',
      headers: JSON_HEADERS,
      payload,
    });
    expect(response.statusCode).toBe(200);
    expect(response.json().choices[0].text).toBe('This is a mock completion of: a\ufffd\ufffd');
  });
});

describe('POST /endpoints/{name}/invocations: pydantic lax coercions (reference §5.1)', () => {
  it('accepts temperature, n and stream as strings, as MLflow does', async () => {
    const response = await post('/endpoints/chat/invocations', {
      messages: HI,
      temperature: '0.3',
      n: '2',
      stream: 'true',
    });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/event-stream; charset=utf-8');
  });

  it('answers n as a string with that many choices', async () => {
    const response = await post('/endpoints/completions/invocations', {
      prompt: 'hi',
      n: '2',
      temperature: '0.3',
    });
    expect(response.statusCode).toBe(200);
    expect(response.json().choices).toEqual([
      { index: 0, text: 'This is a mock completion of: hi', finish_reason: 'stop' },
      { index: 1, text: 'This is a mock completion of: hi', finish_reason: 'stop' },
    ]);
  });

  it('answers an unknown content part type with union_tag_invalid naming the allowed tags', async () => {
    const response = await post('/endpoints/chat/invocations', {
      messages: [{ role: 'user', content: [{ type: 'video' }] }],
    });
    expect(response.statusCode).toBe(422);
    expect(response.json()).toEqual({
      detail: [
        {
          type: 'union_tag_invalid',
          loc: ['body', 'messages', 0, 'content', 0],
          msg: "Input tag 'video' found using 'type' does not match any of the expected tags: 'text', 'image_url', 'input_audio'",
          input: { type: 'video' },
          ctx: { discriminator: "'type'", tag: 'video', expected_tags: "'text', 'image_url', 'input_audio'" },
        },
      ],
    });
  });

  it('answers an embeddings body without input with 422 missing at input', async () => {
    const response = await post('/endpoints/embeddings/invocations', {});
    expect(response.statusCode).toBe(422);
    expect(response.json()).toEqual({
      detail: [{ type: 'missing', loc: ['body', 'input'], msg: 'Field required', input: {} }],
    });
  });
});

/** A chat-only provider without a streaming method, registered as a plugin. */
class UnaryChatAdapter extends ProviderAdapter {
  static readonly provider = 'unary-chat';
  static readonly displayName = 'Unary Chat';
  static readonly configSchema = z.object({});
  static readonly supports = { chat: 'unary' } as const;

  constructor(init: AdapterInit<unknown>) {
    super(init, 'Unary Chat');
  }

  override chat(_request: ChatRequest): Promise<ChatResponse> {
    return Promise.resolve({
      id: 'u-1',
      object: 'chat.completion',
      created: 1,
      model: 'unary',
      choices: [],
      usage: { prompt_tokens: null, completion_tokens: null, total_tokens: null },
    });
  }
}

describe('a provider without streaming', () => {
  let unary: Gateway;

  beforeAll(async () => {
    const registry = new ProviderRegistry();
    registry.register(UnaryChatAdapter);
    const yaml =
      'endpoints:\n  - name: chat\n    endpoint_type: llm/v1/chat\n    model: {provider: unary-chat}\n';
    unary = await createGateway(parseConfig(yaml, registry, 'test.yaml'));
  });

  afterAll(async () => {
    await unary.app.close();
  });

  it('answers a streaming request with the reference 501 JSON (item 79)', async () => {
    const response = await unary.app.inject({
      method: 'POST',
      url: '/endpoints/chat/invocations',
      headers: JSON_HEADERS,
      payload: JSON.stringify({ messages: HI, stream: true }),
    });
    expect(response.statusCode).toBe(501);
    expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(response.json()).toEqual({
      detail: 'The chat streaming route is not implemented for Unary Chat models.',
    });
  });

  it('answers the same request without stream from the unary method', async () => {
    const response = await unary.app.inject({
      method: 'POST',
      url: '/endpoints/chat/invocations',
      headers: JSON_HEADERS,
      payload: JSON.stringify({ messages: HI }),
    });
    expect(response.statusCode).toBe(200);
    expect(response.json().id).toBe('u-1');
  });
});

describe('the request an adapter receives', () => {
  let fake: FakeUpstream;
  let openai: TestGateway;

  beforeAll(async () => {
    fake = await FakeUpstream.start();
    openai = await startTestGateway(
      openAiChatYaml(['openai_api_key: sk-test', `openai_api_base: ${fake.url}/v1`]),
    );
  });

  afterAll(async () => {
    await openai.close();
    await fake.close();
  });

  it('drops nulls and nested unknown keys, fills defaults and forwards extras (reference §5.1)', async () => {
    fake.reply({
      kind: 'json',
      body: {
        id: 'c',
        object: 'chat.completion',
        created: 1,
        model: 'gpt-4o-mini',
        choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
      },
    });
    const response = await openai.app.inject({
      method: 'POST',
      url: '/endpoints/chat/invocations',
      headers: JSON_HEADERS,
      payload: JSON.stringify({
        messages: [{ role: 'user', content: 'hi', name: 'bob', tool_calls: null }],
        top_p: 0.5,
        max_tokens: null,
        seed: 7,
      }),
    });
    expect(response.statusCode).toBe(200);
    const upstream = await fake.nextRequest();
    expect(upstream.body).toEqual({
      model: 'gpt-4o-mini',
      temperature: 0,
      n: 1,
      messages: [{ role: 'user', content: 'hi' }],
      top_p: 0.5,
      seed: 7,
    });
  });
});
