import OpenAI, { APIError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  anthropicError,
  anthropicMessage,
  blockStop,
  inputJsonDelta,
  MESSAGE_STOP,
  messageDelta,
  messageStart,
  textStream,
  toolUseBlockStart,
} from '../fakes/anthropic.js';
import { FakeUpstream, sseFrame, type RecordedRequest } from '../fakes/fake-upstream.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

// The OpenAI Responses API ingress (ingress.md §3, §5.4, §6) with openai-node as the client:
// passthrough to OpenAI and Azure OpenAI, translation onto Anthropic.

const CLIENT_KEY = 'sk-client-key-for-the-gateway';
const IMAGE = 'data:image/png;base64,iVBORw0KGgo=';

let fake: FakeUpstream;
let gateway: TestGateway;
let client: OpenAI;

function endpoint(name: string, provider: string, model: string, config: string[], type = 'chat'): string[] {
  return [
    `  - name: ${name}`,
    `    endpoint_type: llm/v1/${type}`,
    '    model:',
    `      provider: ${provider}`,
    `      name: ${model}`,
    '      config:',
    ...config.map((line) => `        ${line}`),
  ];
}

beforeAll(async () => {
  fake = await FakeUpstream.start();
  const openAi = ['openai_api_key: sk-upstream', `openai_api_base: ${fake.url}/v1`];
  gateway = await startTestGateway(
    [
      'endpoints:',
      ...endpoint('codex-openai', 'openai', 'gpt-4.1', openAi),
      ...endpoint('codex-azure', 'azure', 'gpt-4.1', [
        'openai_api_key: azure-upstream',
        `openai_api_base: ${fake.url}`,
        'openai_deployment_name: gpt41-deploy',
        'openai_api_version: 2024-10-21',
      ]),
      ...endpoint('codex-claude', 'anthropic', 'claude-sonnet-4-5', [
        'anthropic_api_key: sk-ant-upstream',
        `anthropic_api_base: ${fake.url}/v1`,
      ]),
      ...endpoint('embed', 'openai', 'text-embedding-3-small', openAi, 'embeddings'),
      '',
    ].join('\n'),
  );
  client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: CLIENT_KEY, maxRetries: 0 });
});

afterAll(async () => {
  await gateway.close();
  await fake.close();
});

function expectNoClientKey(request: RecordedRequest): void {
  expect(JSON.stringify(request.headers)).not.toContain(CLIENT_KEY);
}

/** A `Response` as OpenAI returns it (API reference, "The response object"). */
const OPENAI_RESPONSE = {
  id: 'resp_67ccd2bed1ec8190b14f964abc0542670bb6a6b452d3795b',
  object: 'response',
  created_at: 1741476542,
  status: 'completed',
  error: null,
  incomplete_details: null,
  instructions: null,
  max_output_tokens: null,
  model: 'gpt-4.1-2025-04-14',
  output: [
    {
      type: 'message',
      id: 'msg_67ccd2bf17f0819081ff3bb2cf6508e60bb6a6b452d3795b',
      status: 'completed',
      role: 'assistant',
      content: [{ type: 'output_text', text: 'A red square.', annotations: [] }],
    },
  ],
  parallel_tool_calls: true,
  previous_response_id: null,
  store: false,
  temperature: 1,
  text: { format: { type: 'text' } },
  tool_choice: 'auto',
  tools: [],
  top_p: 1,
  truncation: 'disabled',
  usage: {
    input_tokens: 36,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: 87,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: 123,
  },
  metadata: {},
};

const CALL_ITEM = {
  type: 'function_call',
  id: 'fc_67ca09c6bedc8190a7abfec07b1a1332',
  call_id: 'call_unLAR8MvFNptuiZK6K6HCy5k',
  name: 'get_weather',
  arguments: '{"location":"Paris"}',
  status: 'completed',
};

/** OpenAI's stream for a function call (API reference, "Streaming events"). */
const OPENAI_STREAM_EVENTS = [
  {
    type: 'response.created',
    sequence_number: 0,
    response: { ...OPENAI_RESPONSE, status: 'in_progress', output: [], usage: null },
  },
  {
    type: 'response.in_progress',
    sequence_number: 1,
    response: { ...OPENAI_RESPONSE, status: 'in_progress', output: [], usage: null },
  },
  {
    type: 'response.output_item.added',
    sequence_number: 2,
    output_index: 0,
    item: { ...CALL_ITEM, arguments: '', status: 'in_progress' },
  },
  {
    type: 'response.function_call_arguments.delta',
    sequence_number: 3,
    item_id: CALL_ITEM.id,
    output_index: 0,
    delta: '{"location":',
  },
  {
    type: 'response.function_call_arguments.delta',
    sequence_number: 4,
    item_id: CALL_ITEM.id,
    output_index: 0,
    delta: '"Paris"}',
  },
  {
    type: 'response.function_call_arguments.done',
    sequence_number: 5,
    item_id: CALL_ITEM.id,
    output_index: 0,
    name: 'get_weather',
    arguments: CALL_ITEM.arguments,
  },
  { type: 'response.output_item.done', sequence_number: 6, output_index: 0, item: CALL_ITEM },
  { type: 'response.completed', sequence_number: 7, response: { ...OPENAI_RESPONSE, output: [CALL_ITEM] } },
];
const OPENAI_STREAM_FRAMES = OPENAI_STREAM_EVENTS.map((event) => sseFrame(event, event.type));

const WEATHER_TOOL = {
  type: 'function' as const,
  name: 'get_weather',
  description: 'Current weather for a city',
  strict: true,
  parameters: {
    type: 'object',
    properties: {
      location: { type: 'string' },
      units: { anyOf: [{ type: 'string', enum: ['c', 'f'] }, { type: 'null' }] },
    },
    required: ['location', 'units'],
    additionalProperties: false,
  },
};

const IMAGE_QUESTION = {
  role: 'user' as const,
  content: [
    { type: 'input_text' as const, text: 'What is in this image?' },
    { type: 'input_image' as const, image_url: IMAGE, detail: 'auto' as const },
  ],
};

describe('passthrough to an OpenAI endpoint', () => {
  it('sends the body as given with only model and key replaced, and relays the answer', async () => {
    fake.reply({ kind: 'json', body: OPENAI_RESPONSE });
    const params = {
      model: 'codex-openai',
      input: [IMAGE_QUESTION],
      store: false,
      include: ['reasoning.encrypted_content'],
      prompt_cache_key: 'session-1',
      reasoning: { effort: 'low', summary: 'auto' },
      client_metadata: { originator: 'codex_cli_rs' },
    };
    const response = await client.responses.create(params as never);
    const request = await fake.nextRequest();
    expect(request.path).toBe('/v1/responses');
    expect(request.body).toEqual({ ...params, model: 'gpt-4.1' });
    expect(request.headers.authorization).toBe('Bearer sk-upstream');
    expectNoClientKey(request);
    expect(response).toEqual({ ...OPENAI_RESPONSE, output_text: 'A red square.' });
  });

  it('passes a tool-call round trip through unchanged', async () => {
    fake.reply({ kind: 'json', body: OPENAI_RESPONSE });
    const { status: _status, ...call } = CALL_ITEM;
    const input = [
      { role: 'user', content: 'Weather in Paris?' },
      call,
      { type: 'function_call_output', call_id: CALL_ITEM.call_id, output: '{"temp":21}' },
    ];
    await client.responses.create({ model: 'codex-openai', input, tools: [WEATHER_TOOL] } as never);
    const request = await fake.nextRequest();
    expect(request.body).toEqual({ model: 'gpt-4.1', input, tools: [WEATHER_TOOL] });
  });

  it('relays each stream event as it was sent, and the SDK assembles the final response', async () => {
    fake.reply({ kind: 'sse', events: OPENAI_STREAM_FRAMES });
    const stream = client.responses.stream({
      model: 'codex-openai',
      input: 'Weather in Paris?',
      tools: [WEATHER_TOOL],
    });
    const events: unknown[] = [];
    for await (const event of stream) events.push(event);
    const final = await stream.finalResponse();
    const request = await fake.nextRequest();
    expect(request.body).toEqual({
      model: 'gpt-4.1',
      input: 'Weather in Paris?',
      tools: [WEATHER_TOOL],
      stream: true,
    });
    expectNoClientKey(request);
    expect(events.map((event) => (event as { type: string }).type)).toEqual(
      OPENAI_STREAM_EVENTS.map((event) => event.type),
    );
    // openai-node adds `parsed_arguments` for strict tools.
    expect(final.output).toEqual([{ ...CALL_ITEM, parsed_arguments: { location: 'Paris' } }]);
    expect(final.usage).toEqual(OPENAI_RESPONSE.usage);
  });

  it('relays the stream bytes unchanged', async () => {
    fake.reply({ kind: 'sse', events: OPENAI_STREAM_FRAMES });
    const response = await fetch(`${gateway.url}/gateway/openai/v1/responses`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${CLIENT_KEY}` },
      body: JSON.stringify({ model: 'codex-openai', input: 'hi', stream: true }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    expect(await response.text()).toBe(OPENAI_STREAM_FRAMES.join(''));
    expectNoClientKey(await fake.nextRequest());
  });

  it('posts to Azure OpenAI v1 Responses with the deployment as the model and api-key auth', async () => {
    fake.reply({ kind: 'json', body: OPENAI_RESPONSE });
    await client.responses.create({ model: 'codex-azure', input: 'hi' });
    const request = await fake.nextRequest();
    expect(request.path).toBe('/openai/v1/responses');
    expect(request.query).toEqual({});
    expect(request.body).toEqual({ model: 'gpt41-deploy', input: 'hi' });
    expect(request.headers['api-key']).toBe('azure-upstream');
    expect(request.headers.authorization).toBeUndefined();
  });

  it('passes previous_response_id on to OpenAI, which keeps the state', async () => {
    fake.reply({ kind: 'json', body: OPENAI_RESPONSE });
    await client.responses.create({
      model: 'codex-openai',
      input: 'and tomorrow?',
      previous_response_id: 'resp_1',
    });
    expect((await fake.nextRequest()).body).toEqual({
      model: 'gpt-4.1',
      input: 'and tomorrow?',
      previous_response_id: 'resp_1',
    });
  });

  it("relays OpenAI's own error body and status", async () => {
    const body = {
      error: {
        message: 'Rate limit reached for gpt-4.1',
        type: 'requests',
        param: null,
        code: 'rate_limit_exceeded',
      },
    };
    fake.reply({ kind: 'json', status: 429, body });
    const error = await client.responses
      .create({ model: 'codex-openai', input: 'hi' })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect((error as APIError).error).toEqual(body.error);
    await fake.nextRequest();
  });
});

const CLAUDE = 'claude-sonnet-4-5';

describe('translation onto an Anthropic endpoint', () => {
  it('maps instructions, text, an image and a tool onto Messages, and the tool_use back to a function_call', async () => {
    fake.reply({
      kind: 'json',
      body: anthropicMessage({
        stopReason: 'tool_use',
        content: [
          { type: 'text', text: 'Let me check.' },
          { type: 'tool_use', id: 'toolu_01', name: 'get_weather', input: { location: 'Paris', units: 'c' } },
        ],
      }),
    });
    const response = await client.responses.create({
      model: 'codex-claude',
      instructions: 'Be brief.',
      input: [IMAGE_QUESTION],
      tools: [WEATHER_TOOL],
      tool_choice: 'required',
      max_output_tokens: 1000,
      store: false,
      reasoning: { effort: 'low' },
    });
    const request = await fake.nextRequest();
    expect(request.path).toBe('/v1/messages');
    expect(request.headers['x-api-key']).toBe('sk-ant-upstream');
    expectNoClientKey(request);
    expect(request.body).toEqual({
      model: CLAUDE,
      max_tokens: 1000,
      temperature: 0.5,
      system: 'Be brief.',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is in this image?' },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
          ],
        },
      ],
      tools: [
        { name: 'get_weather', description: WEATHER_TOOL.description, input_schema: WEATHER_TOOL.parameters },
      ],
      tool_choice: { type: 'any' },
    });
    expect(response).toEqual({
      id: expect.stringMatching(/^resp_[0-9a-f]{48}$/),
      object: 'response',
      created_at: expect.any(Number),
      status: 'completed',
      error: null,
      incomplete_details: null,
      instructions: 'Be brief.',
      max_output_tokens: 1000,
      model: 'codex-claude',
      output: [
        {
          type: 'message',
          id: expect.stringMatching(/^msg_/),
          status: 'completed',
          role: 'assistant',
          content: [{ type: 'output_text', text: 'Let me check.', annotations: [] }],
        },
        {
          type: 'function_call',
          id: expect.stringMatching(/^fc_/),
          call_id: 'toolu_01',
          name: 'get_weather',
          // The Anthropic adapter writes JSON with Python's spacing, as MLflow does.
          arguments: '{"location": "Paris", "units": "c"}',
          status: 'completed',
        },
      ],
      output_text: 'Let me check.',
      parallel_tool_calls: true,
      previous_response_id: null,
      store: false,
      temperature: null,
      text: { format: { type: 'text' } },
      tool_choice: 'required',
      tools: [WEATHER_TOOL],
      top_p: null,
      truncation: 'disabled',
      metadata: {},
      usage: {
        input_tokens: 10,
        input_tokens_details: { cached_tokens: 0 },
        output_tokens: 25,
        output_tokens_details: { reasoning_tokens: 0 },
        total_tokens: 35,
      },
    });
  });

  it('sends function_call and function_call_output items as tool_use and tool_result', async () => {
    fake.reply({
      kind: 'json',
      body: anthropicMessage({ content: [{ type: 'text', text: '21°C in Paris.' }] }),
    });
    const response = await client.responses.create({
      model: 'codex-claude',
      input: [
        { role: 'user', content: 'Weather in Paris?' },
        { type: 'reasoning', id: 'rs_1', summary: [], encrypted_content: 'opaque' },
        {
          type: 'function_call',
          call_id: 'toolu_01',
          name: 'get_weather',
          arguments: '{"location":"Paris"}',
        },
        { type: 'function_call_output', call_id: 'toolu_01', output: '{"temp":21}' },
      ],
      tools: [WEATHER_TOOL],
    });
    expect((await fake.nextRequest()).body).toEqual({
      model: CLAUDE,
      max_tokens: 8192,
      temperature: 0.5,
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        {
          role: 'assistant',
          content: [{ type: 'tool_use', id: 'toolu_01', name: 'get_weather', input: { location: 'Paris' } }],
        },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_01', content: '{"temp":21}' }] },
      ],
      tools: [
        { name: 'get_weather', description: WEATHER_TOOL.description, input_schema: WEATHER_TOOL.parameters },
      ],
    });
    expect(response.output_text).toBe('21°C in Paris.');
  });

  it("maps Codex's custom and local_shell tools onto function tools, and their calls back", async () => {
    fake.reply({
      kind: 'json',
      body: anthropicMessage({
        stopReason: 'tool_use',
        content: [
          {
            type: 'tool_use',
            id: 'toolu_p',
            name: 'apply_patch',
            input: { input: '*** Begin Patch\n*** End Patch' },
          },
          {
            type: 'tool_use',
            id: 'toolu_s',
            name: 'local_shell',
            input: { command: ['ls', '-la'], workdir: '/repo' },
          },
        ],
      }),
    });
    const response = await client.responses.create({
      model: 'codex-claude',
      input: [
        { role: 'user', content: 'Fix it.' },
        { type: 'custom_tool_call', call_id: 'toolu_0', name: 'apply_patch', input: '*** Begin Patch' },
        { type: 'custom_tool_call_output', call_id: 'toolu_0', output: 'Done!' },
      ],
      tools: [
        { type: 'custom', name: 'apply_patch', description: 'Edit files.' },
        { type: 'local_shell' },
        { type: 'namespace', name: 'multi_agent_v1', tools: [{ ...WEATHER_TOOL, name: 'spawn_agent' }] },
      ] as never,
    });
    const body = (await fake.nextRequest()).body as Record<string, unknown>;
    expect(body.messages).toEqual([
      { role: 'user', content: 'Fix it.' },
      {
        role: 'assistant',
        content: [
          { type: 'tool_use', id: 'toolu_0', name: 'apply_patch', input: { input: '*** Begin Patch' } },
        ],
      },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_0', content: 'Done!' }] },
    ]);
    expect((body.tools as { name: string }[]).map((tool) => tool.name)).toEqual([
      'apply_patch',
      'local_shell',
      'spawn_agent',
    ]);
    expect((body.tools as unknown[])[0]).toEqual({
      name: 'apply_patch',
      description: 'Edit files.',
      input_schema: {
        type: 'object',
        properties: { input: { type: 'string', description: 'The raw input for the tool.' } },
        required: ['input'],
        additionalProperties: false,
      },
    });
    expect(response.output).toEqual([
      {
        type: 'custom_tool_call',
        id: expect.stringMatching(/^ctc_/),
        call_id: 'toolu_p',
        name: 'apply_patch',
        input: '*** Begin Patch\n*** End Patch',
        status: 'completed',
      },
      {
        type: 'local_shell_call',
        id: expect.stringMatching(/^lsh_/),
        call_id: 'toolu_s',
        action: { type: 'exec', command: ['ls', '-la'], env: {}, working_directory: '/repo' },
        status: 'completed',
      },
    ]);
  });

  it('reports a max_tokens stop as an incomplete response', async () => {
    fake.reply({ kind: 'json', body: anthropicMessage({ stopReason: 'max_tokens' }) });
    const response = await client.responses.create({
      model: 'codex-claude',
      input: 'hi',
      max_output_tokens: 5,
    });
    await fake.nextRequest();
    expect(response.status).toBe('incomplete');
    expect(response.incomplete_details).toEqual({ reason: 'max_output_tokens' });
  });

  it('streams text as Responses events in order, and the SDK assembles the final response', async () => {
    fake.reply({ kind: 'sse', events: textStream('msg_1') });
    const stream = client.responses.stream({ model: 'codex-claude', input: 'hi' });
    const events: { type: string; sequence_number: number }[] = [];
    for await (const event of stream) events.push(event);
    const final = await stream.finalResponse();
    expect((await fake.nextRequest()).body).toEqual({
      model: CLAUDE,
      max_tokens: 8192,
      temperature: 0.5,
      stream: true,
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(events.map((event) => event.type)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(events.map((event) => event.sequence_number)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(final.status).toBe('completed');
    expect(final.output_text).toBe('Hello!');
  });

  it('streams a tool call as function_call argument events', async () => {
    fake.reply({
      kind: 'sse',
      events: [
        messageStart('msg_t'),
        toolUseBlockStart(0, 'toolu_01', 'get_weather'),
        inputJsonDelta(0, '{"location": '),
        inputJsonDelta(0, '"Paris"}'),
        blockStop(0),
        messageDelta('tool_use'),
        MESSAGE_STOP,
      ],
    });
    const stream = client.responses.stream({
      model: 'codex-claude',
      input: 'Weather?',
      tools: [WEATHER_TOOL],
    });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    const final = await stream.finalResponse();
    await fake.nextRequest();
    expect(types).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(final.output).toEqual([
      {
        type: 'function_call',
        id: expect.stringMatching(/^fc_/),
        call_id: 'toolu_01',
        name: 'get_weather',
        arguments: '{"location": "Paris"}',
        status: 'completed',
        parsed_arguments: { location: 'Paris' },
      },
    ]);
  });

  it('ends a stream that fails midway with response.failed', async () => {
    fake.reply({
      kind: 'sse',
      events: [messageStart('msg_e'), sseFrame(anthropicError('overloaded_error', 'Overloaded'), 'error')],
    });
    const stream = client.responses.stream({ model: 'codex-claude', input: 'hi' });
    const events: { type: string; response?: unknown }[] = [];
    for await (const event of stream) events.push(event);
    await fake.nextRequest();
    expect(events.map((event) => event.type)).toEqual([
      'response.created',
      'response.in_progress',
      'response.failed',
    ]);
    expect((events[2]?.response as { error: unknown }).error).toEqual({
      code: 'server_error',
      message: 'Overloaded',
    });
  });
});

describe('errors in OpenAI’s shape', () => {
  async function failure(promise: Promise<unknown>): Promise<APIError> {
    const error = await promise.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(APIError);
    return error as APIError;
  }

  it('answers an unknown model with 404 model_not_found', async () => {
    const error = await failure(client.responses.create({ model: 'nope', input: 'hi' }));
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    expect(error.error).toEqual({
      message: "The model 'nope' does not exist: no endpoint or route has that name.",
      type: 'not_found_error',
      param: 'model',
      code: 'model_not_found',
    });
  });

  it('refuses an embeddings endpoint with 400', async () => {
    const error = await failure(client.responses.create({ model: 'embed', input: 'hi' }));
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error.error).toEqual({
      message: "The model 'embed' is not a chat endpoint.",
      type: 'invalid_request_error',
      param: 'model',
      code: 'invalid_request',
    });
  });

  it("maps a translated provider's error to its status with the provider's message", async () => {
    fake.reply({ kind: 'json', status: 529, body: anthropicError('overloaded_error', 'Overloaded') });
    const error = await failure(client.responses.create({ model: 'codex-claude', input: 'hi' }));
    await fake.nextRequest();
    expect(error.status).toBe(529);
    expect(error.error).toEqual({
      message: 'Overloaded',
      type: 'api_error',
      param: null,
      code: 'upstream_error',
    });
  });

  it('refuses a hosted tool it cannot translate with 400 naming it', async () => {
    const error = await failure(
      client.responses.create({ model: 'codex-claude', input: 'hi', tools: [{ type: 'web_search' }] }),
    );
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error.error).toEqual({
      message:
        "tools.0: Input tag 'web_search' found using 'type' does not match any of the expected tags: 'function', 'custom', 'local_shell', 'namespace'",
      type: 'invalid_request_error',
      param: 'tools.0',
      code: 'request_validation',
    });
  });

  it.each(['previous_response_id', 'conversation'])(
    'refuses %s on a translated endpoint with 400',
    async (field) => {
      const error = await failure(
        client.responses.create({ model: 'codex-claude', input: 'hi', [field]: 'resp_1' }),
      );
      expect(error).toBeInstanceOf(OpenAI.BadRequestError);
      expect(error.error).toMatchObject({ param: field, type: 'invalid_request_error' });
      expect(error.message).toContain(`${field}: The gateway does not store responses`);
      expect(fake.requests.at(-1)?.body).not.toHaveProperty(field);
    },
  );

  it('refuses to retrieve a stored response with 400', async () => {
    const error = await failure(client.responses.retrieve('resp_1'));
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error.error).toMatchObject({ param: 'response_id', type: 'invalid_request_error' });
  });
});
