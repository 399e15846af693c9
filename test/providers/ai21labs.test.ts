import { join } from 'node:path';
import OpenAI, { APIError } from 'openai';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadConfig, parseConfig } from '../../src/config/load.js';
import { InvalidRequestError } from '../../src/errors.js';
import {
  AI21LABS_API_BASE,
  Ai21LabsAdapter,
  ai21LabsConfigSchema,
  toAi21LabsCompletionsBody,
} from '../../src/providers/ai21labs.js';
import { MODEL_NOT_PERMITTED } from '../../src/providers/base.js';
import { ProviderRegistry } from '../../src/providers/registry.js';
import { completionsRequestSchema } from '../../src/schemas/completions.js';
import { PoolSet } from '../../src/upstream/pool.js';
import { Upstream } from '../../src/upstream/request.js';
import {
  COMPLETE_RESPONSE,
  RATE_LIMITED,
  SERVER_ERROR,
  TWO_COMPLETIONS_RESPONSE,
  UNAUTHORIZED,
  UNPROCESSABLE,
} from '../fakes/ai21labs.js';
import { FakeUpstream, type FakeReply } from '../fakes/fake-upstream.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { invokeEndpoint } from '../helpers/http.js';
import { expectJsonPost } from '../helpers/upstream-call.js';

// Reference ai21labs.md §8: model j2-ultra, clock 1677858242.
const KEY = 'ai21-test-key-5be08';
const KEY_VARIABLE = 'AI21LABS_TEST_API_KEY';
const CLOCK_SECONDS = 1677858242;
const UPSTREAM_HEADER_NAMES = ['authorization', 'connection', 'content-length', 'content-type', 'host'];
const COMPLETE_PATH = '/studio/v1/j2-ultra/complete';

function gatewayYaml(apiBase: string): string {
  return `
endpoints:
  - name: completions
    endpoint_type: llm/v1/completions
    model:
      provider: ai21labs
      name: j2-ultra
      config: { ai21labs_api_key: $${KEY_VARIABLE}, ai21labs_api_base: "${apiBase}" }
`;
}

function endpointYaml(endpointType: string, modelName: string | null): string {
  const name = modelName === null ? '' : `name: ${modelName}, `;
  return `
endpoints:
  - name: e
    endpoint_type: ${endpointType}
    model: { provider: ai21labs, ${name}config: { ai21labs_api_key: k } }
`;
}

let fake: FakeUpstream;
let gateway: TestGateway;
let client: OpenAI;

beforeEach(async () => {
  vi.stubEnv(KEY_VARIABLE, KEY);
  fake = await FakeUpstream.start();
  gateway = await startTestGateway(gatewayYaml(fake.url));
  client = new OpenAI({ apiKey: 'client-key', baseURL: `${gateway.url}/v1`, maxRetries: 0 });
});

afterEach(async () => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  await gateway.close();
  await fake.close();
});

function pinClock(): void {
  vi.spyOn(Date, 'now').mockReturnValue(CLOCK_SECONDS * 1000 + 900);
}

async function invoke(body: unknown): Promise<{ status: number; json: unknown }> {
  const response = await invokeEndpoint(gateway.url, 'completions', body);
  return { status: response.status, json: await response.json() };
}

async function expectUpstreamCall(path: string, body: unknown): Promise<void> {
  const request = await fake.nextRequest();
  expectJsonPost(request, path, []);
  expect(request.headers.authorization).toBe(`Bearer ${KEY}`);
  expect(Object.keys(request.headers).sort()).toEqual(UPSTREAM_HEADER_NAMES);
  expect(request.body).toEqual(body);
}

/** Reference §3's request and the upstream body it becomes. */
const VECTOR_1_REQUEST = {
  prompt: 'This is a test',
  temperature: 0.2,
  max_tokens: 1000,
  n: 1,
  stop: ['foobazbardiddly'],
};
const VECTOR_1_UPSTREAM = {
  temperature: 0.2,
  numResults: 1,
  stopSequences: ['foobazbardiddly'],
  maxTokens: 1000,
  prompt: 'This is a test',
};

/** Reference §4's gateway answer. */
const VECTOR_1_RESPONSE = {
  id: null,
  object: 'text_completion',
  created: CLOCK_SECONDS,
  model: 'j2-ultra',
  choices: [{ index: 0, text: 'this is a test response', finish_reason: 'length' }],
  usage: { prompt_tokens: null, completion_tokens: null, total_tokens: null },
};

describe('ai21labs configuration', () => {
  it('is registered under the provider key ai21labs, case ignored', () => {
    expect(new ProviderRegistry().resolve('AI21Labs')?.providerClass).toBe(Ai21LabsAdapter);
  });

  it('loads examples/ai21labs.yaml with AI21LABS_API_KEY set', async () => {
    vi.stubEnv('AI21LABS_API_KEY', 'example-key');
    const config = await loadConfig(
      join(import.meta.dirname, '../../examples/ai21labs.yaml'),
      new ProviderRegistry(),
    );
    expect(
      config.endpoints.map((endpoint) => [endpoint.name, endpoint.endpointType, endpoint.modelName]),
    ).toEqual([['j2-completions', 'llm/v1/completions', 'j2-ultra']]);
  });

  it('posts to /studio/v1/{model}/complete on the public API by default', async () => {
    const pools = new PoolSet({ connectTimeoutMs: 1000 });
    const upstream = new Upstream(pools, { timeoutSeconds: 5 });
    const target = vi.spyOn(upstream, 'target');
    new Ai21LabsAdapter({
      endpointName: 'completions',
      endpointType: 'llm/v1/completions',
      modelName: 'j2-mid',
      config: ai21LabsConfigSchema.parse({ ai21labs_api_key: KEY }),
      upstream,
    });
    expect(AI21LABS_API_BASE).toBe('https://api.ai21.com');
    expect(target.mock.calls).toEqual([['https://api.ai21.com/studio/v1/j2-mid/complete']]);
    await pools.close();
  });

  it('joins ai21labs_api_base and the API path with one slash, keeping the base path', async () => {
    const proxied = await startTestGateway(gatewayYaml(`${fake.url}/ai21/`));
    try {
      fake.reply({ kind: 'json', body: COMPLETE_RESPONSE });
      await invokeEndpoint(proxied.url, 'completions', { prompt: 'x' });
      await expectUpstreamCall(`/ai21${COMPLETE_PATH}`, { prompt: 'x', temperature: 0, numResults: 1 });
    } finally {
      await proxied.close();
    }
  });

  it.each(['j2-ultra', 'j2-mid', 'j2-light'])('accepts the model %s', (name) => {
    expect(
      parseConfig(endpointYaml('llm/v1/completions', name), new ProviderRegistry()).endpoints,
    ).toHaveLength(1);
  });

  it.each(['j2', 'J2-Ultra', 'jamba-1.5-large'])(
    'rejects the model %s at load time (test vector 4)',
    (name) => {
      expect(() => parseConfig(endpointYaml('llm/v1/completions', name), new ProviderRegistry())).toThrow(
        `model.name: An Unsupported AI21Labs model has been specified: '${name}'. Please see documentation for supported models.`,
      );
    },
  );

  it('rejects an endpoint without a model name at load time', () => {
    expect(() => parseConfig(endpointYaml('llm/v1/completions', null), new ProviderRegistry())).toThrow(
      'model.name: AI21Labs endpoints must name a model (model.name): one of j2-ultra, j2-mid or j2-light.',
    );
  });

  it.each(['llm/v1/chat', 'llm/v1/embeddings'])(
    'rejects a %s endpoint at load time (test vector 3: the gateway checks types at load)',
    (endpointType) => {
      expect(() => parseConfig(endpointYaml(endpointType, 'j2-ultra'), new ProviderRegistry())).toThrow(
        `The provider 'ai21labs' does not support endpoint type '${endpointType}'.`,
      );
    },
  );

  it.each([
    ['a missing ai21labs_api_key', '{}', /ai21labs_api_key: The api key provided is not a string/],
    [
      'an ai21labs_api_base that is not a URL',
      '{ ai21labs_api_key: k, ai21labs_api_base: "api.ai21.com" }',
      /ai21labs_api_base/,
    ],
  ])('rejects %s at load time', (_case, config, message) => {
    const yaml = `
endpoints:
  - name: e
    endpoint_type: llm/v1/completions
    model: { provider: ai21labs, name: j2-ultra, config: ${config} }
`;
    expect(() => parseConfig(yaml, new ProviderRegistry())).toThrow(message);
  });

  it('keeps the key out of /api/2.0/endpoints', async () => {
    const response = await fetch(`${gateway.url}/api/2.0/endpoints/`);
    const text = await response.text();
    expect(text).toContain('"provider":"ai21labs"');
    expect(text).not.toContain(KEY);
  });
});

describe('ai21labs completions', () => {
  it("sends test vector 1 with AI21's names and the temperature unscaled", async () => {
    fake.reply({ kind: 'json', body: COMPLETE_RESPONSE });
    await invoke(VECTOR_1_REQUEST);
    await expectUpstreamCall(COMPLETE_PATH, VECTOR_1_UPSTREAM);
  });

  it('answers test vector 1 with id null, the raw finish reason and the configured model', async () => {
    pinClock();
    fake.reply({ kind: 'json', body: COMPLETE_RESPONSE });
    expect(await invoke(VECTOR_1_REQUEST)).toEqual({ status: 200, json: VECTOR_1_RESPONSE });
  });

  it('maps every completion, each with its own finish reason', async () => {
    fake.reply({ kind: 'json', body: TWO_COMPLETIONS_RESPONSE });
    const response = await invoke({ prompt: 'Say hi', n: 2 });
    expect((response.json as typeof VECTOR_1_RESPONSE).choices).toEqual([
      { index: 0, text: 'Hi!', finish_reason: 'endoftext' },
      { index: 1, text: 'Hello', finish_reason: 'stop' },
    ]);
  });

  it('forwards AI21-only parameters such as topP and presencePenalty unchanged', async () => {
    fake.reply({ kind: 'json', body: COMPLETE_RESPONSE });
    const presencePenalty = { scale: 0.5, applyToNumbers: false };
    await invoke({ prompt: 'x', topP: 0.9, presencePenalty, minTokens: 2 });
    await expectUpstreamCall(COMPLETE_PATH, {
      prompt: 'x',
      temperature: 0,
      numResults: 1,
      topP: 0.9,
      presencePenalty,
      minTokens: 2,
    });
  });

  it('answers /v1/completions through the openai SDK with the same mapping', async () => {
    pinClock();
    fake.reply({ kind: 'json', body: COMPLETE_RESPONSE });
    const completion = await client.completions.create({ model: 'completions', ...VECTOR_1_REQUEST });
    await expectUpstreamCall(COMPLETE_PATH, VECTOR_1_UPSTREAM);
    expect(completion).toEqual(VECTOR_1_RESPONSE);
  });

  it.each([
    ['stopSequences', 'stop'],
    ['numResults', 'n'],
    ['maxTokens', 'max_tokens'],
  ])('rejects the AI21 spelling %s with 422 naming %s (test vector 2)', async (ai21Name, ours) => {
    const response = await invoke({ prompt: 'This should fail', [ai21Name]: 5000 });
    expect(response).toEqual({
      status: 422,
      json: { detail: `Invalid parameter ${ai21Name}. Use ${ours} instead.` },
    });
    expect(fake.requests).toHaveLength(0);
  });

  it('checks AI21 spellings in the reference order: stopSequences before maxTokens', async () => {
    const response = await invoke({ prompt: 'x', maxTokens: 5, stopSequences: ['a'] });
    expect(response.json).toEqual({ detail: 'Invalid parameter stopSequences. Use stop instead.' });
  });

  it('rejects a model field on the invocations route with 422', async () => {
    expect(await invoke({ prompt: 'x', model: 'j2-mid' })).toEqual({
      status: 422,
      json: { detail: MODEL_NOT_PERMITTED },
    });
    expect(fake.requests).toHaveLength(0);
  });

  it('answers stream: true with 501 before the adapter on both route families', async () => {
    const detail = 'The completions streaming route is not implemented for AI21Labs models.';
    expect(await invoke({ prompt: 'x', stream: true })).toEqual({ status: 501, json: { detail } });
    const error: unknown = await client.completions
      .create({ model: 'completions', prompt: 'x', stream: true })
      .then(
        () => null,
        (failure: unknown) => failure,
      );
    expect(error).toBeInstanceOf(APIError);
    expect((error as APIError).status).toBe(501);
    expect(fake.requests).toHaveLength(0);
  });

  it("rejects stream: true in the mapper itself with the reference's 422", () => {
    const request = completionsRequestSchema.parse({ prompt: 'x', stream: true });
    expect(() => toAi21LabsCompletionsBody(request)).toThrow(
      new InvalidRequestError(
        422,
        "Setting the 'stream' parameter to 'true' is not supported with the MLflow Gateway.",
        'stream',
      ),
    );
  });

  it('forwards stream: false as the client sent it', async () => {
    fake.reply({ kind: 'json', body: COMPLETE_RESPONSE });
    await invoke({ prompt: 'x', stream: false });
    await expectUpstreamCall(COMPLETE_PATH, { prompt: 'x', temperature: 0, numResults: 1, stream: false });
  });
});

describe('ai21labs upstream failures', () => {
  const failures: [string, FakeReply, number, unknown][] = [
    ['401 (test vector 5)', { kind: 'json', status: 401, body: UNAUTHORIZED }, 401, UNAUTHORIZED],
    ['422', { kind: 'json', status: 422, body: UNPROCESSABLE }, 422, UNPROCESSABLE],
    ['429', { kind: 'json', status: 429, body: RATE_LIMITED }, 429, RATE_LIMITED],
    ['500', { kind: 'json', status: 500, body: SERVER_ERROR }, 500, SERVER_ERROR],
  ];

  it.each(failures)(
    'maps an upstream %s to the same status with the whole body',
    async (_name, reply, status, detail) => {
      fake.reply(reply);
      const response = await invoke({ prompt: 'x' });
      expect(response).toEqual({ status, json: { detail } });
      expect(JSON.stringify(response.json)).not.toContain(KEY);
    },
  );

  it('maps an upstream 401 on /v1 to 401 with the AI21 body as message', async () => {
    fake.reply({ kind: 'json', status: 401, body: UNAUTHORIZED });
    const error: unknown = await client.completions.create({ model: 'completions', prompt: 'x' }).then(
      () => null,
      (failure: unknown) => failure,
    );
    expect(error).toBeInstanceOf(APIError);
    expect((error as APIError).status).toBe(401);
    expect(((error as APIError).error as { message: string }).message).toBe(JSON.stringify(UNAUTHORIZED));
  });

  it.each([
    [{ id: 'x' }, 'missing completions'],
    [{ completions: [{ finishReason: { reason: 'length' } }] }, 'missing completions.0.data'],
    [{ completions: [{ data: { text: 1 } }] }, 'invalid completions.0.data.text'],
  ])('answers a malformed 2xx body with 502 naming the field (%j)', async (body, what) => {
    fake.reply({ kind: 'json', body });
    expect(await invoke({ prompt: 'x' })).toEqual({
      status: 502,
      json: { detail: `Malformed response from AI21Labs: ${what}` },
    });
  });

  it('answers a completion without finishReason with finish_reason null', async () => {
    fake.reply({ kind: 'json', body: { completions: [{ data: { text: 'a' } }] } });
    const response = await invoke({ prompt: 'x' });
    expect((response.json as typeof VECTOR_1_RESPONSE).choices).toEqual([
      { index: 0, text: 'a', finish_reason: null },
    ]);
  });

  it('answers a non-JSON 2xx body with 502 naming the content type', async () => {
    fake.reply({ kind: 'text', body: '<html>Bad gateway</html>', contentType: 'text/html' });
    expect(await invoke({ prompt: 'x' })).toEqual({
      status: 502,
      json: {
        detail:
          'The returned data type from the route service is not supported. Received content type: text/html',
      },
    });
  });

  it('answers 504 when AI21 does not answer within the configured timeout', async () => {
    const slowGateway = await startTestGateway(gatewayYaml(fake.url), { timeoutSeconds: 1 });
    try {
      fake.reply({ kind: 'hang' });
      const response = await invokeEndpoint(slowGateway.url, 'completions', { prompt: 'x' });
      expect(response.status).toBe(504);
      expect(await response.json()).toEqual({
        detail: 'The upstream provider did not respond within 1 seconds.',
      });
    } finally {
      await slowGateway.close();
    }
  });
});
