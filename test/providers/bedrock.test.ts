import OpenAI, { APIError } from 'openai';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { ConfigErrors } from '../../src/errors.js';
import { bedrockConfigSchema } from '../../src/providers/bedrock/index.js';
import { resolveFamily } from '../../src/providers/bedrock/family.js';
import { ProviderRegistry } from '../../src/providers/registry.js';
import {
  AI21_RESPONSE,
  CLAUDE_TEXT_RESPONSE,
  COHERE_RESPONSE,
  CONVERSE_RESPONSE,
  HI_STREAM_FRAMES,
  TITAN_RESPONSE,
  eventFrame,
  eventStream,
  sigV4Scope,
} from '../fakes/bedrock.js';
import { FakeUpstream, type RecordedRequest } from '../fakes/fake-upstream.js';
import { adapterChatChunks } from '../helpers/adapter-stream.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { invokeEndpoint } from '../helpers/http.js';
import { allEvents } from '../helpers/sse.js';

// Reference bedrock.md §10: region us-east-1 and the key pair below (unusual values, so finding
// one in a response proves a leak); clocks 1677858242 (completions) and 1700000000 (chat).
const ACCESS_KEY_ID = 'test-access-key-id';
const SECRET_ACCESS_KEY = 'test-secret-access-key';
const REGION = 'us-east-1';
const COMPLETIONS_CLOCK = 1677858242;
const CHAT_CLOCK = 1700000000;
const CLAUDE_V2 = 'anthropic.claude-v2';
const TITAN = 'amazon.titan-tg1-large';
const AI21 = 'ai21.j2-mid';
const COHERE = 'cohere.command-text-v14';
const LLAMA = 'meta.llama3-8b-instruct-v1:0';
const HAIKU = 'anthropic.claude-3-haiku-20240307-v1:0';
const HAIKU_PATH = 'anthropic.claude-3-haiku-20240307-v1%3A0';

const ENDPOINTS: readonly [name: string, type: string, model: string][] = [
  ['claude', 'llm/v1/completions', CLAUDE_V2],
  ['titan', 'llm/v1/completions', TITAN],
  ['ai21', 'llm/v1/completions', AI21],
  ['cohere', 'llm/v1/completions', COHERE],
  ['llama', 'llm/v1/completions', LLAMA],
  ['chat', 'llm/v1/chat', HAIKU],
];

function gatewayYaml(endpointUrl: string): string {
  const awsConfig = `{ aws_region: ${REGION}, aws_access_key_id: ${ACCESS_KEY_ID}, aws_secret_access_key: ${SECRET_ACCESS_KEY}, aws_endpoint_url: "${endpointUrl}" }`;
  const lines = ENDPOINTS.map(
    ([name, type, model]) => `  - name: ${name}
    endpoint_type: ${type}
    model: { provider: bedrock, name: "${model}", config: { aws_config: ${awsConfig} } }`,
  );
  return `endpoints:\n${lines.join('\n')}\n`;
}

/**
 * POST to the path, JSON, signed by SigV4 for bedrock in us-east-1 with the configured key.
 * InvokeModel sends `Accept: application/json`; Converse sends none.
 */
function expectBedrockCall(request: RecordedRequest, path: string, accept?: string): void {
  expect(request.method).toBe('POST');
  expect(request.path).toBe(path);
  expect(request.query).toEqual({});
  expect(request.headers['content-type']).toBe('application/json');
  expect(request.headers.accept).toBe(accept);
  expect(request.headers['x-amz-security-token']).toBeUndefined();
  const scope = sigV4Scope(request);
  expect(scope).toMatchObject({
    algorithm: 'AWS4-HMAC-SHA256',
    accessKeyId: ACCESS_KEY_ID,
    region: REGION,
    service: 'bedrock',
    terminator: 'aws4_request',
  });
  expect(scope.signedHeaders).toEqual(expect.arrayContaining(['host', 'x-amz-date', 'content-type']));
}

const NULL_USAGE = { prompt_tokens: null, completion_tokens: null, total_tokens: null };

function completionsReply(model: string, choices: unknown[]) {
  return {
    id: null,
    object: 'text_completion',
    created: COMPLETIONS_CLOCK,
    model,
    choices,
    usage: NULL_USAGE,
  };
}

/** Reference §6's chat request and the Converse body it becomes. */
const CHAT_REQUEST = {
  messages: [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'Hello' },
  ],
  temperature: 0.5,
  max_tokens: 100,
};
const CONVERSE_BODY = {
  messages: [{ role: 'user', content: [{ text: 'Hello' }] }],
  system: [{ text: 'Be brief.' }],
  inferenceConfig: { temperature: 0.5, maxTokens: 100 },
};
const CHAT_REPLY = {
  id: null,
  object: 'chat.completion',
  created: CHAT_CLOCK,
  model: HAIKU,
  choices: [
    {
      index: 0,
      message: { role: 'assistant', content: 'Hi! How can I help?', tool_calls: null, refusal: null },
      finish_reason: 'stop',
    },
  ],
  usage: { prompt_tokens: 12, completion_tokens: 7, total_tokens: 19 },
};

function chatChunk(content: string | null, finishReason: string | null) {
  const delta =
    content === null
      ? { role: null, content: null, tool_calls: null }
      : { role: 'assistant', content, tool_calls: null };
  return {
    id: null,
    object: 'chat.completion.chunk',
    created: CHAT_CLOCK,
    model: HAIKU,
    choices: [{ index: 0, finish_reason: finishReason, delta }],
  };
}

describe('bedrock config', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  const keys = { aws_access_key_id: 'AKIDEXAMPLE', aws_secret_access_key: 'secret' };

  it('takes the region from AWS_REGION when aws_region is unset', () => {
    vi.stubEnv('AWS_REGION', 'eu-west-3');
    vi.stubEnv('AWS_DEFAULT_REGION', 'ap-south-1');
    expect(bedrockConfigSchema.parse({ aws_config: keys }).aws_config.region).toBe('eu-west-3');
  });

  it('takes the region from AWS_DEFAULT_REGION when AWS_REGION is unset too', () => {
    vi.stubEnv('AWS_REGION', '');
    vi.stubEnv('AWS_DEFAULT_REGION', 'ap-south-1');
    expect(bedrockConfigSchema.parse({ aws_config: keys }).aws_config.region).toBe('ap-south-1');
  });

  it('resolves key fields like every secret: $ENV, and redacts them', () => {
    vi.stubEnv('BEDROCK_TEST_SECRET', 'from-env');
    const config = bedrockConfigSchema.parse({
      aws_config: {
        aws_region: REGION,
        aws_access_key_id: 'AKID',
        aws_secret_access_key: '$BEDROCK_TEST_SECRET',
      },
    }).aws_config;
    expect(config.auth.kind).toBe('keys');
    if (config.auth.kind !== 'keys') return;
    expect(config.auth.secretAccessKey.reveal()).toBe('from-env');
    expect(config.auth.secretAccessKey.source).toBe('$BEDROCK_TEST_SECRET');
    expect(JSON.stringify(config)).not.toContain('from-env');
  });

  it('defaults session_length_seconds to 900 for a role', () => {
    const config = bedrockConfigSchema.parse({
      aws_config: { aws_region: REGION, aws_role_arn: 'arn:aws:iam::1:role/r' },
    });
    expect(config.aws_config.auth).toEqual({
      kind: 'role',
      roleArn: 'arn:aws:iam::1:role/r',
      sessionLengthSeconds: 900,
    });
  });

  it('uses the default credential chain when neither keys nor a role are given', () => {
    expect(bedrockConfigSchema.parse({ aws_config: { aws_region: REGION } }).aws_config.auth).toEqual({
      kind: 'chain',
    });
  });

  it.each([
    ['no aws_config', {}, ['aws_config']],
    ['no region anywhere', { aws_config: keys }, ['aws_config', 'aws_region']],
    [
      'a key id without its secret',
      { aws_config: { aws_region: REGION, aws_access_key_id: 'AKID' } },
      ['aws_config', 'aws_secret_access_key'],
    ],
    [
      'a secret without its key id',
      { aws_config: { aws_region: REGION, aws_secret_access_key: 's' } },
      ['aws_config', 'aws_access_key_id'],
    ],
    [
      'both a role and keys',
      { aws_config: { aws_region: REGION, aws_role_arn: 'arn:aws:iam::1:role/r', ...keys } },
      ['aws_config', 'aws_role_arn'],
    ],
    [
      'a session shorter than STS allows',
      { aws_config: { aws_region: REGION, aws_role_arn: 'arn', session_length_seconds: 60 } },
      ['aws_config', 'session_length_seconds'],
    ],
    [
      'an unset $ENV key',
      {
        aws_config: {
          aws_region: REGION,
          aws_access_key_id: '$BEDROCK_UNSET_VAR',
          aws_secret_access_key: 's',
        },
      },
      ['aws_config', 'aws_access_key_id'],
    ],
    [
      'an endpoint URL that is not http(s)',
      { aws_config: { aws_region: REGION, aws_endpoint_url: 'ftp://x' } },
      ['aws_config', 'aws_endpoint_url'],
    ],
  ])('rejects %s', (_case, raw, path) => {
    vi.stubEnv('AWS_REGION', '');
    vi.stubEnv('AWS_DEFAULT_REGION', '');
    const result = bedrockConfigSchema.safeParse(raw);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(path);
  });

  it('rejects an endpoint without a model name at load time', () => {
    const yaml = `
endpoints:
  - name: chat
    endpoint_type: llm/v1/chat
    model: { provider: amazon-bedrock, config: { aws_config: { aws_region: ${REGION} } } }
`;
    expect(() => parseConfig(yaml, new ProviderRegistry())).toThrow(ConfigErrors);
    expect(() => parseConfig(yaml, new ProviderRegistry())).toThrow(
      /Amazon Bedrock endpoints must name a model/,
    );
  });

  it('is reached as bedrock and amazon-bedrock, any case', () => {
    const registry = new ProviderRegistry();
    expect(registry.resolve('Amazon_Bedrock')?.providerClass.provider).toBe('bedrock');
    expect(registry.resolve('BEDROCK')?.providerClass.provider).toBe('bedrock');
  });
});

describe('bedrock model families', () => {
  it.each([
    ['anthropic.claude-v2', 'anthropic'],
    ['us.anthropic.claude-3-sonnet', 'anthropic'],
    ['apac.anthropic.claude-3-haiku', 'anthropic'],
    ['amazon.titan-text-express-v1', 'amazon'],
    ['us.amazon.nova-premier-v1:0', 'amazon'],
    ['ai21.jamba-1-5-large-v1:0', 'ai21'],
    ['cohere.command-text-v14', 'cohere'],
    ['meta.llama3-8b-instruct-v1:0', null],
    ['mistral.mistral-7b-instruct-v0:2', null],
    ['anthropic-claude-without-a-dot', null],
  ])('resolves %s to %s', (modelId, family) => {
    expect(resolveFamily(modelId)?.name ?? null).toBe(family);
  });
});

describe('bedrock through the gateway', () => {
  let fake: FakeUpstream;
  let gateway: TestGateway;
  let sdk: OpenAI;

  beforeEach(async () => {
    fake = await FakeUpstream.start();
    gateway = await startTestGateway(gatewayYaml(fake.url));
    sdk = new OpenAI({ apiKey: 'anything', baseURL: `${gateway.url}/v1`, maxRetries: 0 });
  });

  afterEach(async () => {
    vi.restoreAllMocks();
    await gateway.close();
    await fake.close();
  });

  function pinClock(seconds: number): void {
    vi.spyOn(Date, 'now').mockReturnValue(seconds * 1000);
  }

  describe('completions (InvokeModel)', () => {
    it('sends and maps reference test vector 1 (Anthropic family)', async () => {
      pinClock(COMPLETIONS_CLOCK);
      fake.reply({ kind: 'json', body: CLAUDE_TEXT_RESPONSE });
      const response = await invokeEndpoint(gateway.url, 'claude', {
        prompt: 'How does a car work?',
        max_tokens: 200,
      });
      const upstream = await fake.nextRequest();
      expectBedrockCall(upstream, `/model/${CLAUDE_V2}/invoke`, 'application/json');
      expect(upstream.body).toEqual({
        max_tokens_to_sample: 200,
        prompt: '\n\nHuman: How does a car work?\n\nAssistant:',
        stop_sequences: ['\n\nHuman:'],
        anthropic_version: 'bedrock-2023-05-31',
      });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual(
        completionsReply(CLAUDE_V2, [
          {
            index: 0,
            text: 'Here is a basic overview of how a car works:\n\n1. The engine.',
            finish_reason: 'length',
          },
        ]),
      );
    });

    it('caps max_tokens_to_sample at 8191, keeps a given Human stop once, and halves the temperature', async () => {
      fake.reply({
        kind: 'json',
        body: { completion: ' Hi', stop_reason: 'stop_sequence', stop: '\n\nHuman:' },
      });
      const response = await invokeEndpoint(gateway.url, 'claude', {
        prompt: 'Human: Hi',
        temperature: 1,
        stop: ['\n\nHuman:', 'END'],
      });
      expect((await fake.nextRequest()).body).toEqual({
        max_tokens_to_sample: 8191,
        prompt: '\n\nHuman: Hi\n\nAssistant:',
        stop_sequences: ['\n\nHuman:', 'END'],
        temperature: 0.5,
        anthropic_version: 'bedrock-2023-05-31',
      });
      expect(((await response.json()) as { choices: unknown[] }).choices).toEqual([
        { index: 0, text: ' Hi', finish_reason: 'stop' },
      ]);
    });

    it('applies the Anthropic checks before any AWS call (top_p is a 422)', async () => {
      const response = await invokeEndpoint(gateway.url, 'claude', { prompt: 'x', top_p: 0.5 });
      expect(response.status).toBe(422);
      expect(await response.json()).toEqual({
        detail:
          "Cannot set both 'temperature' and 'top_p' parameters. Please use only the temperature parameter for your query.",
      });
      expect(fake.requests).toEqual([]);
    });

    it('sends and maps reference test vector 2 (Titan)', async () => {
      pinClock(COMPLETIONS_CLOCK);
      fake.reply({ kind: 'json', body: TITAN_RESPONSE });
      const response = await invokeEndpoint(gateway.url, 'titan', {
        prompt: 'This is a test',
        n: 1,
        temperature: 0.5,
        stop: ['foobar'],
        max_tokens: 1000,
      });
      const upstream = await fake.nextRequest();
      expectBedrockCall(upstream, `/model/${TITAN}/invoke`, 'application/json');
      expect(upstream.body).toEqual({
        inputText: 'This is a test',
        textGenerationConfig: { temperature: 0.25, stopSequences: ['foobar'], maxTokenCount: 1000 },
      });
      expect(await response.json()).toEqual(
        completionsReply(TITAN, [{ index: 0, text: '\nThis is a test', finish_reason: null }]),
      );
    });

    it('sends and maps reference test vector 3 (AI21 with n=2)', async () => {
      pinClock(COMPLETIONS_CLOCK);
      fake.reply({ kind: 'json', body: AI21_RESPONSE });
      const response = await invokeEndpoint(gateway.url, 'ai21', {
        prompt: 'This is a test',
        n: 2,
        max_tokens: 1000,
        stop: ['foobar'],
      });
      const upstream = await fake.nextRequest();
      expectBedrockCall(upstream, `/model/${AI21}/invoke`, 'application/json');
      expect(upstream.body).toEqual({
        prompt: 'This is a test',
        stopSequences: ['foobar'],
        maxTokens: 1000,
        numResults: 2,
      });
      expect(await response.json()).toEqual(
        completionsReply(AI21, [{ index: 0, text: '\nIt looks like', finish_reason: null }]),
      );
    });

    it('sends and maps the Cohere family (temperature × 2.5, v1 Generate names)', async () => {
      pinClock(COMPLETIONS_CLOCK);
      fake.reply({ kind: 'json', body: COHERE_RESPONSE });
      const response = await invokeEndpoint(gateway.url, 'cohere', {
        prompt: 'This is a test',
        temperature: 0.4,
        n: 2,
        stop: ['foobar'],
        max_tokens: 20,
      });
      const upstream = await fake.nextRequest();
      expectBedrockCall(upstream, `/model/${COHERE}/invoke`, 'application/json');
      expect(upstream.body).toEqual({
        prompt: 'This is a test',
        temperature: 1,
        num_generations: 2,
        stop_sequences: ['foobar'],
        max_tokens: 20,
      });
      expect(await response.json()).toEqual(
        completionsReply(COHERE, [{ index: 0, text: ' This is a test', finish_reason: null }]),
      );
    });

    it.each([
      ['stop_sequences', 'Invalid parameter stop_sequences. Use stop instead.'],
      ['num_generations', 'Invalid parameter num_generations. Use n instead.'],
    ])('rejects Cohere-named %s with 400', async (field, detail) => {
      const response = await invokeEndpoint(gateway.url, 'cohere', { prompt: 'x', [field]: 1 });
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({ detail });
    });

    it('answers reference test vector 4 before any AWS call: unknown family and Titan n=2', async () => {
      const unknown = await invokeEndpoint(gateway.url, 'llama', { prompt: 'x' });
      expect(unknown.status).toBe(422);
      expect(await unknown.json()).toEqual({ detail: 'Unknown Amazon Bedrock model type None' });
      const titan = await invokeEndpoint(gateway.url, 'titan', { prompt: 'x', n: 2 });
      expect(titan.status).toBe(422);
      expect(await titan.json()).toEqual({
        detail: "'n' must be '1' for AWS Titan models. Received value: '2'.",
      });
      expect(fake.requests).toEqual([]);
    });

    it('rejects a model field on /endpoints with the standard 422', async () => {
      const response = await invokeEndpoint(gateway.url, 'titan', { prompt: 'x', model: 'other' });
      expect(response.status).toBe(422);
      expect(await response.json()).toEqual({
        detail:
          "The parameter 'model' is not permitted to be passed. The route being queried already defines a model instance.",
      });
    });

    it('answers completions streaming with 501', async () => {
      const response = await invokeEndpoint(gateway.url, 'titan', { prompt: 'x', stream: true });
      expect(response.status).toBe(501);
      expect(await response.json()).toEqual({
        detail: 'The completions streaming route is not implemented for Amazon Bedrock models.',
      });
    });

    it('answers a Claude body without completion with 502 naming the field', async () => {
      fake.reply({ kind: 'json', body: { stop_reason: 'max_tokens' } });
      const response = await invokeEndpoint(gateway.url, 'claude', { prompt: 'x' });
      expect(response.status).toBe(502);
      expect(await response.json()).toEqual({
        detail: 'Malformed response from Amazon Bedrock: missing completion',
      });
    });

    it.each([
      ['titan', TITAN, TITAN_RESPONSE, '\nThis is a test'],
      ['ai21', AI21, AI21_RESPONSE, '\nIt looks like'],
      ['cohere', COHERE, COHERE_RESPONSE, ' This is a test'],
      ['claude', CLAUDE_V2, CLAUDE_TEXT_RESPONSE, CLAUDE_TEXT_RESPONSE.completion],
    ])(
      'serves the %s family on /v1/completions through the openai SDK',
      async (endpoint, model, body, text) => {
        fake.reply({ kind: 'json', body });
        const completion = await sdk.completions.create({ model: endpoint, prompt: 'This is a test' });
        expect((await fake.nextRequest()).path).toBe(`/model/${model}/invoke`);
        expect(completion.model).toBe(model);
        expect(completion.choices.map((choice) => choice.text)).toEqual([text]);
      },
    );
  });

  describe('chat (Converse)', () => {
    it('sends and maps reference test vector 6', async () => {
      pinClock(CHAT_CLOCK);
      fake.reply({ kind: 'json', body: CONVERSE_RESPONSE });
      const response = await invokeEndpoint(gateway.url, 'chat', CHAT_REQUEST);
      const upstream = await fake.nextRequest();
      expectBedrockCall(upstream, `/model/${HAIKU_PATH}/converse`);
      expect(upstream.body).toEqual(CONVERSE_BODY);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual(CHAT_REPLY);
    });

    it('sends content parts as text blocks, an absent content as empty text, and other fields not at all', async () => {
      fake.reply({ kind: 'json', body: CONVERSE_RESPONSE });
      await invokeEndpoint(gateway.url, 'chat', {
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'a' },
              { type: 'text', text: 'b' },
            ],
          },
          { role: 'assistant' },
          { role: 'user', content: 'c' },
        ],
        top_p: 0.9,
        stop: ['END'],
        max_completion_tokens: 50,
        presence_penalty: 1,
      });
      expect((await fake.nextRequest()).body).toEqual({
        messages: [
          { role: 'user', content: [{ text: 'a' }, { text: 'b' }] },
          { role: 'assistant', content: [{ text: '' }] },
          { role: 'user', content: [{ text: 'c' }] },
        ],
        inferenceConfig: { maxTokens: 50, topP: 0.9, stopSequences: ['END'] },
      });
    });

    it.each([
      ['max_tokens', 'length'],
      ['stop_sequence', 'stop'],
      ['content_filtered', 'content_filter'],
      ['guardrail_intervened', 'stop'],
      ['tool_use', 'stop'],
    ])('maps stopReason %s to finish_reason %s', async (stopReason, finishReason) => {
      fake.reply({ kind: 'json', body: { ...CONVERSE_RESPONSE, stopReason } });
      const response = await invokeEndpoint(gateway.url, 'chat', {
        messages: [{ role: 'user', content: 'x' }],
      });
      expect(
        ((await response.json()) as { choices: { finish_reason: string }[] }).choices[0]?.finish_reason,
      ).toBe(finishReason);
    });

    it.each([
      [{ n: 2 }, 'n', "'n' must be '1' for Bedrock Converse API. Received value: '2'."],
      [
        { tools: [{ type: 'function', function: { name: 'f' } }] },
        'tools',
        'Tool calling is not yet supported in Bedrock Converse API integration. This feature will be added in a future update.',
      ],
      [
        { tool_choice: 'auto' },
        'tool_choice',
        'tool_choice is not yet supported in Bedrock Converse API integration. This feature will be added in a future update.',
      ],
      [
        { messages: [{ role: 'tool', content: 'r', tool_call_id: 't' }] },
        'tool message',
        "Tool result messages (role='tool') are not yet supported in Bedrock Converse API integration. This feature will be added in a future update.",
      ],
      [
        {
          messages: [
            { role: 'assistant', tool_calls: [{ id: 't', function: { name: 'f', arguments: '{}' } }] },
          ],
        },
        'tool_calls',
        'Assistant messages with tool_calls are not yet supported in Bedrock Converse API integration. This feature will be added in a future update.',
      ],
      [
        { messages: [{ role: 'system', content: [{ type: 'text', text: 's' }] }] },
        'system parts',
        'System message content must be a string. Bedrock Converse API does not support content parts (e.g., images) in system messages.',
      ],
      [
        {
          messages: [
            { role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://x/y.png' } }] },
          ],
        },
        'image_url',
        'Image content is not yet supported in Bedrock Converse API integration',
      ],
      [
        {
          messages: [
            {
              role: 'user',
              content: [{ type: 'input_audio', input_audio: { data: 'AA==', format: 'wav' } }],
            },
          ],
        },
        'input_audio',
        "Unsupported content part type: 'input_audio'. Converse API currently only supports 'text' content parts.",
      ],
    ])('rejects %o (%s) with 422 before any AWS call', async (extra, _case, detail) => {
      const response = await invokeEndpoint(gateway.url, 'chat', {
        messages: [{ role: 'user', content: 'x' }],
        ...extra,
      });
      expect(response.status).toBe(422);
      expect(await response.json()).toEqual({ detail });
      expect(fake.requests).toEqual([]);
    });

    it('serves /v1/chat/completions through the openai SDK, max_completion_tokens as maxTokens', async () => {
      pinClock(CHAT_CLOCK);
      fake.reply({ kind: 'json', body: CONVERSE_RESPONSE });
      const completion = await sdk.chat.completions.create({
        model: 'chat',
        messages: CHAT_REQUEST.messages as OpenAI.ChatCompletionMessageParam[],
        temperature: 0.5,
        max_completion_tokens: 100,
      });
      expect((await fake.nextRequest()).body).toEqual(CONVERSE_BODY);
      expect(completion).toEqual(CHAT_REPLY);
    });
  });

  describe('chat streaming (ConverseStream)', () => {
    it('sends and maps reference test vector 7', async () => {
      pinClock(CHAT_CLOCK);
      fake.reply(eventStream(HI_STREAM_FRAMES));
      const response = await invokeEndpoint(gateway.url, 'chat', { ...CHAT_REQUEST, stream: true });
      const upstream = await fake.nextRequest();
      expectBedrockCall(upstream, `/model/${HAIKU_PATH}/converse-stream`);
      expect(upstream.body).toEqual(CONVERSE_BODY);
      expect(response.status).toBe(200);
      expect(await allEvents(response)).toEqual([
        chatChunk('Hi', null),
        chatChunk('!', null),
        chatChunk(null, 'length'),
      ]);
    });

    it("hands the metadata event's usage to the gateway's accounting as a chunk without choices", async () => {
      pinClock(CHAT_CLOCK);
      fake.reply(eventStream(HI_STREAM_FRAMES));
      const chunks = await adapterChatChunks(gateway, 'chat', { ...CHAT_REQUEST, stream: true });
      expect(chunks).toEqual([
        chatChunk('Hi', null),
        chatChunk('!', null),
        chatChunk(null, 'length'),
        {
          ...chatChunk(null, null),
          choices: [],
          usage: { prompt_tokens: 12, completion_tokens: 2, total_tokens: 14 },
        },
      ]);
    });

    it('drops tool-use and reasoning deltas', async () => {
      pinClock(CHAT_CLOCK);
      fake.reply(
        eventStream([
          eventFrame('messageStart', { role: 'assistant' }),
          eventFrame('contentBlockStart', {
            contentBlockIndex: 1,
            start: { toolUse: { toolUseId: 't1', name: 'f' } },
          }),
          eventFrame('contentBlockDelta', { contentBlockIndex: 1, delta: { toolUse: { input: '{"a"' } } }),
          eventFrame('contentBlockDelta', {
            contentBlockIndex: 2,
            delta: { reasoningContent: { text: 'hm' } },
          }),
          eventFrame('contentBlockDelta', { contentBlockIndex: 3, delta: { text: 'ok' } }),
          eventFrame('messageStop', { stopReason: 'end_turn' }),
        ]),
      );
      const response = await invokeEndpoint(gateway.url, 'chat', {
        messages: [{ role: 'user', content: 'x' }],
        stream: true,
      });
      expect(await allEvents(response)).toEqual([chatChunk('ok', null), chatChunk(null, 'stop')]);
    });

    it('rejects stream_options.include_usage with 422', async () => {
      const response = await invokeEndpoint(gateway.url, 'chat', {
        messages: [{ role: 'user', content: 'x' }],
        stream: true,
        stream_options: { include_usage: true },
      });
      expect(response.status).toBe(422);
      expect(await response.json()).toEqual({
        detail: 'stream_options.include_usage is not supported for Bedrock streaming',
      });
    });

    it('streams through the openai SDK on /v1', async () => {
      pinClock(CHAT_CLOCK);
      fake.reply(eventStream(HI_STREAM_FRAMES));
      const stream = await sdk.chat.completions.create({
        model: 'chat',
        messages: [{ role: 'user', content: 'Hello' }],
        stream: true,
      });
      const chunks: unknown[] = [];
      for await (const chunk of stream) chunks.push(chunk);
      expect(chunks).toEqual([chatChunk('Hi', null), chatChunk('!', null), chatChunk(null, 'length')]);
    });
  });

  describe('secrets', () => {
    it('never appear in /api/2.0/endpoints or in error responses', async () => {
      fake.reply({
        kind: 'json',
        status: 403,
        headers: { 'x-amzn-errortype': 'AccessDeniedException' },
        body: { message: 'denied' },
      });
      const texts = [
        await (
          await invokeEndpoint(gateway.url, 'chat', { messages: [{ role: 'user', content: 'x' }] })
        ).text(),
        await (await invokeEndpoint(gateway.url, 'llama', { prompt: 'x' })).text(),
        await (await fetch(`${gateway.url}/api/2.0/endpoints/`)).text(),
        await (await fetch(`${gateway.url}/api/2.0/endpoints/chat`)).text(),
        await (await fetch(`${gateway.url}/api/2.0/gateway/routes/`)).text(),
      ];
      expect(texts[2]).toContain('"bedrock"');
      for (const text of texts) {
        expect(text).not.toContain(SECRET_ACCESS_KEY);
        expect(text).not.toContain(ACCESS_KEY_ID);
      }
    });

    it('sends the secret key nowhere: only its signature travels', async () => {
      fake.reply({ kind: 'json', body: CONVERSE_RESPONSE });
      await invokeEndpoint(gateway.url, 'chat', { messages: [{ role: 'user', content: 'x' }] });
      const upstream = await fake.nextRequest();
      expect(JSON.stringify(upstream.headers)).not.toContain(SECRET_ACCESS_KEY);
      expect(upstream.rawBody).not.toContain(SECRET_ACCESS_KEY);
    });
  });
});

describe('the openai SDK sees Bedrock errors with their status', () => {
  it('reports a 422 from a Converse check as an APIError with the message', async () => {
    const fake = await FakeUpstream.start();
    const gateway = await startTestGateway(gatewayYaml(fake.url));
    try {
      const sdk = new OpenAI({ apiKey: 'anything', baseURL: `${gateway.url}/v1`, maxRetries: 0 });
      const error: unknown = await sdk.chat.completions
        .create({ model: 'chat', messages: [{ role: 'user', content: 'x' }], n: 2 })
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(APIError);
      expect((error as APIError).status).toBe(422);
      expect((error as APIError).message).toContain("'n' must be '1' for Bedrock Converse API");
    } finally {
      await gateway.close();
      await fake.close();
    }
  });
});
