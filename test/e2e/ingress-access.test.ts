import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { anthropicMessage, textStream } from '../fakes/anthropic.js';
import { FakeUpstream, sseFrame, type FakeReply } from '../fakes/fake-upstream.js';
import { AB_STREAM, jokeResponse } from '../fakes/gemini.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

// Access control and telemetry on the native agent APIs (Anthropic Messages, OpenAI Responses,
// Gemini): each refuses in its own error shape, takes the key where its SDK sends it, and
// counts its answers' tokens against the client's cap and in /metrics.

const KEY = 'sk-agent-client-1';
const MISSING_KEY =
  "An API key is required: send it as 'Authorization: Bearer <key>' (or in 'x-api-key', 'api-key', 'x-goog-api-key').";

const RESPONSE_USAGE = {
  input_tokens: 36,
  input_tokens_details: { cached_tokens: 0 },
  output_tokens: 87,
  output_tokens_details: { reasoning_tokens: 0 },
  total_tokens: 123,
};
const OPENAI_RESPONSE = {
  id: 'resp_67ccd2bed1ec8190b14f964abc0542670bb6a6b452d3795b',
  object: 'response',
  created_at: 1741476542,
  status: 'completed',
  model: 'gpt-4.1-2025-04-14',
  output: [
    {
      type: 'message',
      id: 'msg_67ccd2bf17f0819081ff3bb2cf6508e60bb6a6b452d3795b',
      status: 'completed',
      role: 'assistant',
      content: [{ type: 'output_text', text: 'Hi.', annotations: [] }],
    },
  ],
  usage: RESPONSE_USAGE,
};
const RESPONSES_STREAM = [
  {
    type: 'response.created',
    sequence_number: 0,
    response: { ...OPENAI_RESPONSE, status: 'in_progress', usage: null },
  },
  { type: 'response.completed', sequence_number: 1, response: OPENAI_RESPONSE },
].map((event) => sseFrame(event, event.type));

interface NativeApi {
  api: string;
  endpoint: string;
  /** The header its SDK sends the key in. */
  keyHeader: (key: string) => Record<string, string>;
  path: (name: string, isStream: boolean) => string;
  body: (name: string, isStream: boolean) => object;
  errorBody: (status: number, message: string) => object;
  unary: FakeReply;
  unaryTokens: number;
  stream: FakeReply;
  streamTokens: number;
}

const ANTHROPIC_TYPES: Record<number, string> = {
  401: 'authentication_error',
  403: 'permission_error',
  429: 'rate_limit_error',
};
const GOOGLE_STATUSES: Record<number, string> = {
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  429: 'RESOURCE_EXHAUSTED',
};
const OPENAI_ERRORS: Record<number, { type: string; code: string }> = {
  401: { type: 'authentication_error', code: 'invalid_api_key' },
  403: { type: 'permission_error', code: 'permission_denied' },
  429: { type: 'rate_limit_error', code: 'rate_limited' },
};
const HELLO = [{ role: 'user', content: 'Hello' }];

const APIS: NativeApi[] = [
  {
    api: 'Anthropic Messages',
    endpoint: 'claude',
    keyHeader: (key) => ({ 'x-api-key': key, 'anthropic-version': '2023-06-01' }),
    path: () => '/v1/messages',
    body: (name, isStream) => ({ model: name, max_tokens: 64, messages: HELLO, stream: isStream }),
    errorBody: (status, message) => ({ type: 'error', error: { type: ANTHROPIC_TYPES[status], message } }),
    unary: { kind: 'json', body: anthropicMessage() },
    unaryTokens: 10 + 25,
    // message_start says 25 in, 1 out; message_delta's cumulative 15 out replaces the 1.
    stream: { kind: 'sse', events: textStream('msg_1') },
    streamTokens: 25 + 15,
  },
  {
    api: 'OpenAI Responses',
    endpoint: 'gpt',
    keyHeader: (key) => ({ authorization: `Bearer ${key}` }),
    path: () => '/v1/responses',
    body: (name, isStream) => ({ model: name, input: 'Hello', stream: isStream }),
    errorBody: (status, message) => ({
      error: { message, param: null, ...OPENAI_ERRORS[status] },
    }),
    unary: { kind: 'json', body: OPENAI_RESPONSE },
    unaryTokens: 36 + 87,
    stream: { kind: 'sse', events: RESPONSES_STREAM },
    streamTokens: 36 + 87,
  },
  {
    api: 'Gemini',
    endpoint: 'gem',
    keyHeader: (key) => ({ 'x-goog-api-key': key }),
    path: (name, isStream) =>
      `/v1beta/models/${name}:${isStream ? 'streamGenerateContent?alt=sse' : 'generateContent'}`,
    body: () => ({ contents: [{ role: 'user', parts: [{ text: 'Hello' }] }] }),
    errorBody: (status, message) => ({ error: { code: status, message, status: GOOGLE_STATUSES[status] } }),
    unary: { kind: 'json', body: jokeResponse() },
    unaryTokens: 6 + 12,
    stream: { kind: 'sse', events: AB_STREAM },
    streamTokens: 4 + 2,
  },
];

let fake: FakeUpstream;
let gateway: TestGateway;

beforeEach(async () => {
  fake = await FakeUpstream.start();
  gateway = await startTestGateway(`
endpoints:
  - name: claude
    endpoint_type: llm/v1/chat
    model: {provider: anthropic, name: claude-sonnet-4-5, config: {anthropic_api_key: sk-ant-upstream, anthropic_api_base: ${fake.url}/v1}}
  - name: gpt
    endpoint_type: llm/v1/chat
    model: {provider: openai, name: gpt-4.1, config: {openai_api_key: sk-upstream, openai_api_base: ${fake.url}/v1}}
  - name: gem
    endpoint_type: llm/v1/chat
    model: {provider: gemini, name: gemini-2.5-flash, config: {gemini_api_key: g-upstream, gemini_api_base: ${fake.url}}}
  - name: hidden
    endpoint_type: llm/v1/chat
    model: {provider: mock, config: {}}
clients:
  - name: agent
    key: ${KEY}
    endpoints: [claude, gpt, gem]
    token_limit: {tokens: 15, renewal_period: hour}
`);
});

afterEach(async () => {
  await gateway.close();
  await fake.close();
});

function call(
  api: NativeApi,
  name: string,
  isStream: boolean,
  headers: Record<string, string>,
): Promise<Response> {
  return fetch(`${gateway.url}${api.path(name, isStream)}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(api.body(name, isStream)),
  });
}

async function tokensUsed(): Promise<unknown> {
  const response = await fetch(`${gateway.url}/api/2.0/llmgw/usage`, { headers: { 'x-api-key': KEY } });
  const body = (await response.json()) as { tokens: { used: number } };
  return body.tokens.used;
}

describe.each(APIS)('$api', (api) => {
  it('refuses a request without a key with 401 in its own error shape', async () => {
    const response = await call(api, api.endpoint, false, {});
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual(api.errorBody(401, MISSING_KEY));
    expect(fake.requests).toHaveLength(0);
  });

  it.each(['hidden', 'nope'])(
    'refuses the endpoint %s the key may not call with 403 in its own shape',
    async (name) => {
      const response = await call(api, name, false, api.keyHeader(KEY));
      expect(response.status).toBe(403);
      expect(await response.json()).toEqual(api.errorBody(403, `This API key may not call '${name}'.`));
    },
  );

  it("takes the key from its SDK's header and counts the answer's tokens against the client's cap", async () => {
    fake.reply(api.unary);
    const response = await call(api, api.endpoint, false, api.keyHeader(KEY));
    expect(response.status).toBe(200);
    expect(response.headers.get('x-mlflow-gateway-duration-ms')).toMatch(/^\d+(\.\d+)?$/);
    expect(response.headers.get('x-mlflow-gateway-overhead-duration-ms')).toMatch(/^\d+(\.\d+)?$/);
    await response.arrayBuffer();
    expect(await tokensUsed()).toBe(api.unaryTokens);
    const refused = await call(api, api.endpoint, false, api.keyHeader(KEY));
    expect(refused.status).toBe(429);
    const message = expect.stringMatching(
      /^Token limit exceeded for client 'agent': 15 tokens per 1 hour; renews in \d+ s$/,
    ) as unknown as string;
    expect(await refused.json()).toEqual(api.errorBody(429, message));
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(fake.requests).toHaveLength(1);
  });

  it("counts a streamed answer's tokens once the stream has ended", async () => {
    fake.reply(api.stream);
    const response = await call(api, api.endpoint, true, api.keyHeader(KEY));
    expect(response.status).toBe(200);
    expect(response.headers.get('x-mlflow-gateway-duration-ms')).toMatch(/^\d+(\.\d+)?$/);
    await response.text();
    expect(await tokensUsed()).toBe(api.streamTokens);
  });

  it('shows the native request and its tokens in the metrics', async () => {
    fake.reply(api.unary);
    await (await call(api, api.endpoint, false, api.keyHeader(KEY))).arrayBuffer();
    await fetch(`${gateway.url}/health`);
    const metrics = await gateway.telemetry.metrics!.registry.getMetricsAsJSON();
    const requests = metrics.find((metric) => metric.name === 'llmgw_requests_total');
    expect(
      requests?.values.filter((sample) => sample.labels.endpoint === api.endpoint && sample.value !== 0),
    ).toEqual([
      {
        labels: expect.objectContaining({ endpoint: api.endpoint, status: '200' }) as unknown,
        value: 1,
      },
    ]);
    const tokenUsage = metrics.find((metric) => metric.name === 'gen_ai_client_token_usage');
    const sums = tokenUsage?.values.filter(
      (sample) =>
        (sample as { metricName?: string }).metricName === 'gen_ai_client_token_usage_sum' &&
        sample.labels.endpoint === api.endpoint,
    );
    expect(sums?.reduce((sum, sample) => sum + sample.value, 0)).toBe(api.unaryTokens);
    const clientTokens = metrics.find((metric) => metric.name === 'llmgw_client_tokens_total');
    const total = clientTokens?.values.reduce((sum, sample) => sum + sample.value, 0);
    expect(total).toBe(api.unaryTokens);
  });
});

describe('Anthropic count_tokens', () => {
  const count = (model: string): Promise<Response> =>
    fetch(`${gateway.url}/v1/messages/count_tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': KEY, 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model, messages: HELLO }),
    });

  it("refuses a model the key may not call with 403 in Anthropic's shape", async () => {
    const response = await count('hidden');
    expect(response.status).toBe(403);
    expect(await response.json()).toEqual({
      type: 'error',
      error: { type: 'permission_error', message: "This API key may not call 'hidden'." },
    });
  });

  it("is answered without counting against the client's caps", async () => {
    fake.reply({ kind: 'json', body: { input_tokens: 9 } });
    const response = await count('claude');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ input_tokens: 9 });
    expect(await tokensUsed()).toBe(0);
  });
});

describe('translated streams', () => {
  it("counts the tokens a translated stream's chunks report (Responses onto Anthropic)", async () => {
    fake.reply({ kind: 'sse', events: textStream('msg_2') });
    const response = await call(APIS[1]!, 'claude', true, { authorization: `Bearer ${KEY}` });
    expect(response.status).toBe(200);
    await response.text();
    expect(await tokensUsed()).toBe(25 + 15);
  });

  it("counts the tokens a translated stream's chunks report (Gemini onto Anthropic)", async () => {
    fake.reply({ kind: 'sse', events: textStream('msg_3') });
    const response = await call(APIS[2]!, 'claude', true, { 'x-goog-api-key': KEY });
    expect(response.status).toBe(200);
    await response.text();
    expect(await tokensUsed()).toBe(25 + 15);
  });
});
