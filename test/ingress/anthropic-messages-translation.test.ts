import Anthropic, { type APIError } from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeUpstream, sseFrame } from '../fakes/fake-upstream.js';
import {
  chatChunks,
  chatCompletion,
  chatCompletionWithToolCall,
  chatStreamFrames,
  rateLimitError,
} from '../fakes/openai.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

// The Anthropic Messages ingress onto an OpenAI endpoint: translation through the chat adapter
// (ingress reference §5.1–5.3), driven by the official @anthropic-ai/sdk.

let fake: FakeUpstream;
let anthropicFake: FakeUpstream;
let gateway: TestGateway;
let client: Anthropic;

const CLIENT_KEY = 'sk-ant-client-key-for-the-gateway';

beforeAll(async () => {
  fake = await FakeUpstream.start();
  anthropicFake = await FakeUpstream.start();
  gateway = await startTestGateway(
    [
      'endpoints:',
      '  - name: claude',
      '    endpoint_type: llm/v1/chat',
      '    model:',
      '      provider: anthropic',
      '      name: claude-sonnet-4-5',
      '      config:',
      '        anthropic_api_key: sk-ant-configured-upstream-key',
      `        anthropic_api_base: ${anthropicFake.url}/v1`,
      '  - name: gpt',
      '    endpoint_type: llm/v1/chat',
      '    model:',
      '      provider: openai',
      '      name: gpt-4o-mini',
      '      config:',
      '        openai_api_key: sk-openai-upstream-key',
      `        openai_api_base: ${fake.url}/v1`,
      'routes:',
      '  - name: claude-then-gpt',
      '    task_type: llm/v1/chat',
      '    routing_strategy: FALLBACK',
      '    destinations:',
      '      - name: claude',
      '      - name: gpt',
      '    fallback_on: [429, 529]',
    ].join('\n'),
  );
  client = new Anthropic({ baseURL: gateway.url, apiKey: CLIENT_KEY, maxRetries: 0 });
});

afterAll(async () => {
  await gateway.close();
  await fake.close();
  await anthropicFake.close();
});

const HELLO = [{ role: 'user' as const, content: 'Hello' }];

/** An agent's tool: nested objects, arrays of objects, `anyOf`, `$schema` — kept whole. */
const EDIT_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object' as const,
  properties: {
    file_path: { type: 'string', description: 'Absolute path' },
    edits: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        properties: { old_string: { type: 'string' }, new_string: { type: 'string' } },
        required: ['old_string', 'new_string'],
        additionalProperties: false,
      },
    },
    mode: { anyOf: [{ type: 'string', enum: ['replace', 'append'] }, { type: 'null' }] },
  },
  required: ['file_path', 'edits'],
  additionalProperties: false,
};

function chunk(delta: Record<string, unknown>, finishReason: string | null = null): string {
  return sseFrame({
    id: 'chatcmpl-tools',
    object: 'chat.completion.chunk',
    created: 1694268190,
    model: 'gpt-4o-mini',
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
  });
}

describe('POST /v1/messages onto an OpenAI endpoint (translation)', () => {
  it('sends the system prompt, messages and sampling fields as a chat request and maps the answer back', async () => {
    fake.reply({ kind: 'json', body: chatCompletion });
    const message = await client.messages.create({
      model: 'gpt',
      max_tokens: 256,
      system: [{ type: 'text', text: 'Be brief.', cache_control: { type: 'ephemeral' } }],
      messages: HELLO,
      temperature: 0.5,
      top_p: 0.9,
      stop_sequences: ['END'],
      metadata: { user_id: 'user-1' },
      // The SDK's newest types leave out the sampling fields the API still takes.
    } as Anthropic.MessageCreateParamsNonStreaming);
    const upstream = await fake.nextRequest();
    expect(upstream.path).toBe('/v1/chat/completions');
    expect(upstream.body).toEqual({
      model: 'gpt-4o-mini',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hello' },
      ],
      temperature: 0.5,
      n: 1,
      max_tokens: 256,
      top_p: 0.9,
      stop: ['END'],
      user: 'user-1',
    });
    expect(upstream.headers.authorization).toBe('Bearer sk-openai-upstream-key');
    expect(JSON.stringify(upstream.headers)).not.toContain(CLIENT_KEY);
    expect(message).toEqual({
      id: `msg_${chatCompletion.id}`,
      type: 'message',
      role: 'assistant',
      model: 'gpt',
      content: [{ type: 'text', text: 'Hello! How can I assist you today?' }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: 19, output_tokens: 10 },
    });
  });

  it('round-trips a tool call: full tool schemas and tool choice out, tool_use back, tool_result in', async () => {
    fake.reply({ kind: 'json', body: chatCompletionWithToolCall });
    const tools = [{ name: 'edit_file', description: 'Edit a file', input_schema: EDIT_SCHEMA }];
    const first = await client.messages.create({
      model: 'gpt',
      max_tokens: 100,
      messages: HELLO,
      tools,
      tool_choice: { type: 'any', disable_parallel_tool_use: true },
    });
    expect((await fake.nextRequest()).body).toEqual({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Hello' }],
      temperature: 1,
      n: 1,
      max_tokens: 100,
      tools: [
        {
          type: 'function',
          function: { name: 'edit_file', description: 'Edit a file', parameters: EDIT_SCHEMA },
        },
      ],
      tool_choice: 'required',
      parallel_tool_calls: false,
    });
    expect(first.stop_reason).toBe('tool_use');
    expect(first.content).toEqual([
      { type: 'tool_use', id: 'call_abc123', name: 'get_current_weather', input: { location: 'Boston, MA' } },
    ]);

    fake.reply({ kind: 'json', body: chatCompletion });
    await client.messages.create({
      model: 'gpt',
      max_tokens: 100,
      tools,
      tool_choice: { type: 'tool', name: 'edit_file' },
      messages: [
        ...HELLO,
        { role: 'assistant', content: [{ type: 'text', text: 'Checking.' }, ...first.content] },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'call_abc123', content: [{ type: 'text', text: '22°C' }] },
            { type: 'text', text: 'Thanks' },
          ],
        },
      ],
    });
    const second = (await fake.nextRequest()).body as Record<string, unknown>;
    expect(second.messages).toEqual([
      { role: 'user', content: 'Hello' },
      {
        role: 'assistant',
        content: 'Checking.',
        tool_calls: [
          {
            id: 'call_abc123',
            type: 'function',
            function: { name: 'get_current_weather', arguments: '{"location":"Boston, MA"}' },
          },
        ],
      },
      { role: 'tool', tool_call_id: 'call_abc123', content: '22°C' },
      { role: 'user', content: 'Thanks' },
    ]);
    expect(second.tool_choice).toEqual({ type: 'function', function: { name: 'edit_file' } });
  });

  it('sends an image as an image_url part with a data URL', async () => {
    fake.reply({ kind: 'json', body: chatCompletion });
    await client.messages.create({
      model: 'gpt',
      max_tokens: 10,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
            { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
            { type: 'text', text: 'What is this?' },
          ],
        },
      ],
    });
    expect(((await fake.nextRequest()).body as Record<string, unknown>).messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
          { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } },
          { type: 'text', text: 'What is this?' },
        ],
      },
    ]);
  });

  it('streams Anthropic events in the API’s order, one chunk at a time', async () => {
    const frames = chatStreamFrames();
    const usage = { prompt_tokens: 9, completion_tokens: 2, total_tokens: 11 };
    frames.splice(-1, 0, sseFrame({ ...chatChunks[0], choices: [], usage }));
    fake.reply({ kind: 'sse', events: frames });
    const response = await fetch(`${gateway.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt', max_tokens: 10, messages: HELLO, stream: true }),
    });
    expect((await fake.nextRequest()).body).toEqual({
      model: 'gpt-4o-mini',
      messages: HELLO,
      temperature: 1,
      n: 1,
      max_tokens: 10,
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const frame = (data: Record<string, unknown>): string =>
      `event: ${String(data.type)}\ndata: ${JSON.stringify(data)}\n\n`;
    expect(await response.text()).toBe(
      [
        frame({
          type: 'message_start',
          message: {
            id: 'msg_chatcmpl-123',
            type: 'message',
            role: 'assistant',
            content: [],
            model: 'gpt',
            stop_reason: null,
            stop_sequence: null,
            usage: { input_tokens: 0, output_tokens: 0 },
          },
        }),
        frame({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }),
        frame({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hello' } }),
        frame({ type: 'content_block_stop', index: 0 }),
        frame({
          type: 'message_delta',
          delta: { stop_reason: 'end_turn', stop_sequence: null },
          usage: { input_tokens: 9, output_tokens: 2 },
        }),
        frame({ type: 'message_stop' }),
      ].join(''),
    );
  });

  it('streams text then tool calls, and the SDK’s stream helper builds the final message', async () => {
    fake.reply({
      kind: 'sse',
      events: [
        chunk({ role: 'assistant', content: '' }),
        chunk({ content: 'Editing.' }),
        chunk({
          tool_calls: [
            { index: 0, id: 'call_1', type: 'function', function: { name: 'edit_file', arguments: '' } },
          ],
        }),
        chunk({ tool_calls: [{ index: 0, function: { arguments: '{"file_path":' } }] }),
        chunk({ tool_calls: [{ index: 0, function: { arguments: ' "/a.ts", "edits": []}' } }] }),
        chunk({
          tool_calls: [
            { index: 1, id: 'call_2', type: 'function', function: { name: 'ls', arguments: '{}' } },
          ],
        }),
        chunk({}, 'tool_calls'),
        sseFrame('[DONE]'),
      ],
    });
    const final = await client.messages
      .stream({
        model: 'gpt',
        max_tokens: 10,
        messages: HELLO,
        tools: [{ name: 'edit_file', input_schema: EDIT_SCHEMA }],
      })
      .finalMessage();
    await fake.nextRequest();
    expect(final).toEqual({
      id: 'msg_chatcmpl-tools',
      type: 'message',
      role: 'assistant',
      content: [
        { type: 'text', text: 'Editing.' },
        { type: 'tool_use', id: 'call_1', name: 'edit_file', input: { file_path: '/a.ts', edits: [] } },
        { type: 'tool_use', id: 'call_2', name: 'ls', input: {} },
      ],
      model: 'gpt',
      stop_reason: 'tool_use',
      stop_sequence: null,
      usage: { input_tokens: 0, output_tokens: 0 },
      parsed_output: null,
    });
  });

  it('ends a translated stream that fails midway with an error event the SDK raises', async () => {
    fake.reply({ kind: 'sse-then-drop', events: [chunk({ role: 'assistant', content: 'Hel' })] });
    const stream = client.messages.stream({ model: 'gpt', max_tokens: 10, messages: HELLO });
    await expect(stream.finalMessage()).rejects.toMatchObject({
      error: {
        type: 'error',
        error: { type: 'api_error', message: 'The upstream provider closed the connection mid-stream.' },
      },
    });
    await fake.nextRequest();
  });

  it('maps a provider error to Anthropic’s shape with its status and message', async () => {
    fake.reply({ kind: 'json', status: 429, body: rateLimitError, headers: { 'retry-after': '7' } });
    const error = await client.messages
      .create({ model: 'gpt', max_tokens: 10, messages: HELLO })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.RateLimitError);
    expect((error as APIError).error).toEqual({
      type: 'error',
      error: { type: 'rate_limit_error', message: rateLimitError.error.message },
    });
    expect((error as APIError).headers?.get('retry-after')).toBe('7');
  });

  it.each([
    [
      'a server tool',
      { tools: [{ type: 'web_search_20250305', name: 'web_search' }] },
      "tools.0.type: server tool 'web_search_20250305' runs only on Anthropic, so this request cannot be translated.",
    ],
    [
      'a document block',
      {
        messages: [
          {
            role: 'user',
            content: [{ type: 'document', source: { type: 'url', url: 'https://example.com/a.pdf' } }],
          },
        ],
      },
      "messages.0.content.0.type: content blocks of type 'document' have no equivalent on this endpoint's provider, so this request cannot be translated.",
    ],
    [
      'top_k',
      { top_k: 5 },
      "top_k: 'top_k' has no equivalent on this endpoint's provider, so this request cannot be translated.",
    ],
  ])('refuses %s with 400 naming it and calls no upstream', async (_name, extra, message) => {
    const before = fake.requests.length;
    const error = await client.messages
      .create({ model: 'gpt', max_tokens: 10, messages: HELLO, ...extra } as never)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    expect((error as APIError).error).toEqual({
      type: 'error',
      error: { type: 'invalid_request_error', message },
    });
    expect(fake.requests.length).toBe(before);
  });

  it('refuses a body without max_tokens with 400', async () => {
    const response = await fetch(`${gateway.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt', messages: HELLO }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      type: 'error',
      error: { type: 'invalid_request_error', message: 'max_tokens: Field required' },
    });
  });
});

describe('POST /v1/messages on a route over an Anthropic and an OpenAI endpoint', () => {
  const overloaded = { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } };

  it('falls back from an overloaded Anthropic endpoint to translation onto OpenAI', async () => {
    anthropicFake.reply({ kind: 'json', status: 529, body: overloaded });
    fake.reply({ kind: 'json', body: chatCompletion });
    const { data, response } = await client.messages
      .create({ model: 'claude-then-gpt', max_tokens: 10, messages: HELLO })
      .withResponse();
    expect((await anthropicFake.nextRequest()).body).toEqual({
      model: 'claude-sonnet-4-5',
      max_tokens: 10,
      messages: HELLO,
    });
    expect(((await fake.nextRequest()).body as Record<string, unknown>).messages).toEqual(HELLO);
    expect(response.headers.get('x-llmgw-endpoint')).toBe('gpt');
    expect(data.content).toEqual([{ type: 'text', text: 'Hello! How can I assist you today?' }]);
  });

  it('falls back before a stream starts, and the stream comes translated', async () => {
    anthropicFake.reply({ kind: 'json', status: 529, body: overloaded });
    fake.reply({ kind: 'sse', events: chatStreamFrames() });
    const final = await client.messages
      .stream({ model: 'claude-then-gpt', max_tokens: 10, messages: HELLO })
      .finalMessage();
    await anthropicFake.nextRequest();
    await fake.nextRequest();
    expect(final.content).toEqual([{ type: 'text', text: 'Hello' }]);
    expect(final.model).toBe('claude-then-gpt');
  });
});

describe('POST /v1/messages/count_tokens onto an OpenAI endpoint', () => {
  it('answers an estimate of four characters a token, without calling the provider', async () => {
    const before = fake.requests.length;
    const count = await client.messages.countTokens({
      model: 'gpt',
      system: 'abcd',
      messages: [{ role: 'user', content: 'x'.repeat(40) }],
    });
    expect(count).toEqual({ input_tokens: 11 });
    expect(fake.requests.length).toBe(before);
  });
});
