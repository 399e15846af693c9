import Anthropic, { APIError } from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  anthropicError,
  anthropicMessage,
  messageStart,
  textBlockStart,
  textDelta,
  textStream,
} from '../fakes/anthropic.js';
import { FakeUpstream, ManualStream } from '../fakes/fake-upstream.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

// The Anthropic Messages ingress onto an Anthropic endpoint: passthrough (ingress reference §1,
// §2, §6), driven by the official @anthropic-ai/sdk.

let fake: FakeUpstream;
let embeddingsFake: FakeUpstream;
let gateway: TestGateway;
let client: Anthropic;

const CLIENT_KEY = 'sk-ant-client-key-for-the-gateway';
const CONFIGURED_KEY = 'sk-ant-configured-upstream-key';

beforeAll(async () => {
  fake = await FakeUpstream.start();
  embeddingsFake = await FakeUpstream.start();
  gateway = await startTestGateway(
    [
      'endpoints:',
      '  - name: claude',
      '    endpoint_type: llm/v1/chat',
      '    model:',
      '      provider: anthropic',
      '      name: claude-sonnet-4-5',
      '      config:',
      `        anthropic_api_key: ${CONFIGURED_KEY}`,
      `        anthropic_api_base: ${fake.url}/v1`,
      '  - name: embed',
      '    endpoint_type: llm/v1/embeddings',
      '    model:',
      '      provider: openai',
      '      name: text-embedding-3-small',
      '      config:',
      '        openai_api_key: sk-openai-upstream-key',
      `        openai_api_base: ${embeddingsFake.url}/v1`,
    ].join('\n'),
  );
  client = new Anthropic({ baseURL: gateway.url, apiKey: CLIENT_KEY, maxRetries: 0 });
});

afterAll(async () => {
  await gateway.close();
  await fake.close();
  await embeddingsFake.close();
});

const HELLO = [{ role: 'user' as const, content: 'Hello' }];

/** The client's credential never reaches the provider: only the configured key does. */
function expectConfiguredCredentialsOnly(headers: Record<string, string | string[] | undefined>): void {
  expect(headers['x-api-key']).toBe(CONFIGURED_KEY);
  expect(headers.authorization).toBeUndefined();
  expect(JSON.stringify(headers)).not.toContain(CLIENT_KEY);
}

describe('POST /v1/messages onto an Anthropic endpoint (passthrough)', () => {
  it('sends the body as the client sent it with only the model replaced, and relays the answer', async () => {
    const message = anthropicMessage({ id: 'msg_01', model: 'claude-sonnet-4-5' });
    fake.reply({ kind: 'json', body: message, headers: { 'request-id': 'req_upstream_1' } });
    const { data, response } = await client.messages
      .create({
        model: 'claude',
        max_tokens: 1024,
        system: [{ type: 'text', text: 'Be brief.', cache_control: { type: 'ephemeral' } }],
        messages: HELLO,
        metadata: { user_id: 'user-1' },
        thinking: { type: 'enabled', budget_tokens: 1024 },
      })
      .withResponse();
    const upstream = await fake.nextRequest();
    expect(upstream.path).toBe('/v1/messages');
    expect(upstream.body).toEqual({
      model: 'claude-sonnet-4-5',
      max_tokens: 1024,
      system: [{ type: 'text', text: 'Be brief.', cache_control: { type: 'ephemeral' } }],
      messages: HELLO,
      metadata: { user_id: 'user-1' },
      thinking: { type: 'enabled', budget_tokens: 1024 },
    });
    expectConfiguredCredentialsOnly(upstream.headers);
    expect(data).toEqual(message);
    expect(response.headers.get('request-id')).toBe('req_upstream_1');
  });

  it('passes unknown fields and the beta headers through, and drops a bearer token', async () => {
    fake.reply({ kind: 'json', body: anthropicMessage() });
    const bearer = new Anthropic({
      baseURL: gateway.url,
      authToken: CLIENT_KEY,
      apiKey: null,
      maxRetries: 0,
    });
    await bearer.messages.create(
      { model: 'claude', max_tokens: 10, messages: HELLO, context_management: { edits: [] } } as never,
      { headers: { 'anthropic-beta': 'claude-code-20250219,interleaved-thinking-2025-05-14' } },
    );
    const upstream = await fake.nextRequest();
    expect(upstream.body).toEqual({
      model: 'claude-sonnet-4-5',
      max_tokens: 10,
      messages: HELLO,
      context_management: { edits: [] },
    });
    expect(upstream.headers['anthropic-beta']).toBe('claude-code-20250219,interleaved-thinking-2025-05-14');
    expectConfiguredCredentialsOnly(upstream.headers);
  });

  it.each([
    ['the configured version when the client sends none', {}, '2023-06-01'],
    ['the client’s version when it sends one', { 'anthropic-version': '2099-01-01' }, '2099-01-01'],
  ])('sends %s', async (_name, headers: Record<string, string>, expected) => {
    fake.reply({ kind: 'json', body: anthropicMessage() });
    await fetch(`${gateway.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ model: 'claude', max_tokens: 10, messages: HELLO }),
    });
    expect((await fake.nextRequest()).headers['anthropic-version']).toBe(expected);
  });

  it('moves system-role messages into the system prompt, as Anthropic has no such role', async () => {
    fake.reply({ kind: 'json', body: anthropicMessage() });
    await fetch(`${gateway.url}/v1/messages?beta=true`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': CLIENT_KEY },
      body: JSON.stringify({
        model: 'claude',
        max_tokens: 10,
        system: 'You are Claude Code.',
        messages: [{ role: 'system', content: 'Tools are ready.' }, ...HELLO],
      }),
    });
    const upstream = await fake.nextRequest();
    expect(upstream.body).toEqual({
      model: 'claude-sonnet-4-5',
      max_tokens: 10,
      system: [
        { type: 'text', text: 'You are Claude Code.' },
        { type: 'text', text: 'Tools are ready.' },
      ],
      messages: HELLO,
    });
  });

  it('relays a stream byte for byte, and the SDK builds the final message from it', async () => {
    const frames = textStream('msg_stream_1');
    fake.reply({ kind: 'sse', events: frames });
    const raw = await fetch(`${gateway.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': CLIENT_KEY },
      body: JSON.stringify({ model: 'claude', max_tokens: 10, messages: HELLO, stream: true }),
    });
    expect(raw.headers.get('content-type')).toBe('text/event-stream');
    expect(await raw.text()).toBe(frames.join(''));
    const upstream = await fake.nextRequest();
    expect(upstream.body).toEqual({
      model: 'claude-sonnet-4-5',
      max_tokens: 10,
      messages: HELLO,
      stream: true,
    });

    fake.reply({ kind: 'sse', events: frames });
    const final = await client.messages
      .stream({ model: 'claude', max_tokens: 10, messages: HELLO })
      .finalMessage();
    await fake.nextRequest();
    expect(final).toEqual({
      id: 'msg_stream_1',
      type: 'message',
      role: 'assistant',
      content: [{ type: 'text', text: 'Hello!' }],
      model: 'claude-2.1',
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: 25, output_tokens: 15 },
      // The SDK's own addition for structured outputs.
      parsed_output: null,
    });
  });

  it('ends a stream cut by the upstream with an error the SDK raises', async () => {
    fake.reply({
      kind: 'sse-then-drop',
      events: [messageStart('msg_cut'), textBlockStart(0), textDelta(0, 'Hel')],
    });
    const stream = client.messages.stream({ model: 'claude', max_tokens: 10, messages: HELLO });
    await expect(stream.finalMessage()).rejects.toMatchObject({
      error: {
        type: 'error',
        error: { type: 'api_error', message: 'The upstream provider closed the connection mid-stream.' },
      },
    });
    await fake.nextRequest();
  });

  it('aborts the upstream stream when the client goes away', async () => {
    const stream = new ManualStream();
    fake.reply({ kind: 'sse-manual', stream });
    const controller = new AbortController();
    const response = await fetch(`${gateway.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'claude', max_tokens: 10, messages: HELLO, stream: true }),
      signal: controller.signal,
    });
    await stream.started();
    stream.send(messageStart('msg_gone'));
    const reader = response.body?.getReader();
    await reader?.read();
    controller.abort();
    await fake.aborted();
    await fake.nextRequest();
  });

  it('relays the provider error body and status unchanged', async () => {
    const body = anthropicError('overloaded_error', 'Overloaded');
    fake.reply({ kind: 'json', status: 529, body });
    const error = await client.messages
      .create({ model: 'claude', max_tokens: 10, messages: HELLO })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(APIError);
    expect((error as APIError).status).toBe(529);
    expect((error as APIError).error).toEqual(body);
    await fake.nextRequest();
  });

  it('serves the same under MLflow’s /gateway/anthropic base URL', async () => {
    fake.reply({ kind: 'json', body: anthropicMessage({ id: 'msg_mlflow' }) });
    const mlflow = new Anthropic({
      baseURL: `${gateway.url}/gateway/anthropic`,
      apiKey: CLIENT_KEY,
      maxRetries: 0,
    });
    const message = await mlflow.messages.create({ model: 'claude', max_tokens: 10, messages: HELLO });
    expect(message.id).toBe('msg_mlflow');
    expect((await fake.nextRequest()).path).toBe('/v1/messages');
  });
});

describe('POST /v1/messages/count_tokens onto an Anthropic endpoint', () => {
  it('passes the count through with the model replaced', async () => {
    fake.reply({ kind: 'json', body: { input_tokens: 2095 } });
    const count = await client.messages.countTokens({
      model: 'claude',
      system: 'Be brief.',
      messages: HELLO,
    });
    expect(count).toEqual({ input_tokens: 2095 });
    const upstream = await fake.nextRequest();
    expect(upstream.path).toBe('/v1/messages/count_tokens');
    expect(upstream.body).toEqual({ model: 'claude-sonnet-4-5', system: 'Be brief.', messages: HELLO });
    expectConfiguredCredentialsOnly(upstream.headers);
  });
});

describe('errors in Anthropic’s shape', () => {
  it('answers an unknown model with 404 not_found_error and calls no upstream', async () => {
    const before = fake.requests.length;
    const error = await client.messages
      .create({ model: 'nope', max_tokens: 10, messages: HELLO })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.NotFoundError);
    expect((error as APIError).error).toEqual({
      type: 'error',
      error: {
        type: 'not_found_error',
        message: "model: 'nope' is not an endpoint or route of this gateway.",
      },
    });
    expect(fake.requests.length).toBe(before);
  });

  it('answers a non-chat endpoint with 400 invalid_request_error', async () => {
    const error = await client.messages
      .create({ model: 'embed', max_tokens: 10, messages: HELLO })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    expect((error as APIError).error).toEqual({
      type: 'error',
      error: { type: 'invalid_request_error', message: "model: 'embed' is not a chat endpoint." },
    });
  });

  it('answers a body without a model with 400 naming the field', async () => {
    const response = await fetch(`${gateway.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ max_tokens: 10, messages: HELLO }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      type: 'error',
      error: { type: 'invalid_request_error', message: 'model: Field required' },
    });
  });

  it('answers a body that is not JSON with 400', async () => {
    const response = await fetch(`${gateway.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"model":',
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      type: 'error',
      error: { type: 'invalid_request_error', message: 'body: JSON decode error' },
    });
  });
});
