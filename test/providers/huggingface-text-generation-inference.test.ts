import { join } from 'node:path';
import OpenAI, { APIError } from 'openai';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadConfig, parseConfig } from '../../src/config/load.js';
import { MODEL_NOT_PERMITTED } from '../../src/providers/base.js';
import {
  HuggingFaceTgiAdapter,
  huggingFaceTgiConfigSchema,
} from '../../src/providers/huggingface-text-generation-inference.js';
import { ProviderRegistry } from '../../src/providers/registry.js';
import { PoolSet } from '../../src/upstream/pool.js';
import { Upstream } from '../../src/upstream/request.js';
import { FakeUpstream, type FakeReply } from '../fakes/fake-upstream.js';
import {
  GENERATION_FAILED,
  INPUT_TOO_LONG,
  OVERLOADED,
  generateResponse,
} from '../fakes/huggingface-text-generation-inference.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { invokeEndpoint } from '../helpers/http.js';
import { expectJsonPost } from '../helpers/upstream-call.js';

// Reference huggingface-tgi.md §6: model `hf-tgi`, clock 1677858242.
const MODEL = 'hf-tgi';
const CLOCK_SECONDS = 1677858242;
const PROVIDER = 'huggingface-text-generation-inference';
/** What the gateway sends TGI, and nothing else: no credential header of any kind. */
const UPSTREAM_HEADER_NAMES = ['connection', 'content-length', 'content-type', 'host'];
const PROMPT = 'This is a test';

function gatewayYaml(serverUrl: string, provider = PROVIDER): string {
  return `
endpoints:
  - name: completions
    endpoint_type: llm/v1/completions
    model: { provider: ${provider}, name: ${MODEL}, config: { hf_server_url: "${serverUrl}" } }
`;
}

let fake: FakeUpstream;
let gateway: TestGateway;
let client: OpenAI;
/** Pools of adapters a test builds by hand, outside the gateway. */
let pools: PoolSet;

beforeEach(async () => {
  pools = new PoolSet({ connectTimeoutMs: 1000 });
  fake = await FakeUpstream.start();
  gateway = await startTestGateway(gatewayYaml(fake.url));
  client = new OpenAI({ apiKey: 'client-key', baseURL: `${gateway.url}/v1`, maxRetries: 0 });
});

afterEach(async () => {
  vi.restoreAllMocks();
  await gateway.close();
  await pools.close();
  await fake.close();
});

function pinClock(): void {
  vi.spyOn(Date, 'now').mockReturnValue(CLOCK_SECONDS * 1000 + 900);
}

async function invoke(body: unknown, url = gateway.url): Promise<{ status: number; json: unknown }> {
  const response = await invokeEndpoint(url, 'completions', body);
  return { status: response.status, json: await response.json() };
}

/** The one upstream call: method, path, query, exactly the JSON headers, and the whole body. */
async function expectGenerateCall(body: unknown, path = '/generate'): Promise<void> {
  const request = await fake.nextRequest();
  expectJsonPost(request, path, []);
  expect(Object.keys(request.headers).sort()).toEqual(UPSTREAM_HEADER_NAMES);
  expect(request.body).toEqual(body);
}

async function sdkError(call: Promise<unknown>): Promise<APIError> {
  const error: unknown = await call.then(
    () => null,
    (failure: unknown) => failure,
  );
  expect(error).toBeInstanceOf(APIError);
  return error as APIError;
}

/** Reference §2's example body: default temperature 0.0 floored to 0.001. */
const VECTOR_1_UPSTREAM = {
  inputs: PROMPT,
  parameters: { temperature: 0.001, max_new_tokens: 1000, details: true, decoder_input_details: true },
};

/** Reference §3's gateway answer. */
const VECTOR_1_GATEWAY = {
  id: null,
  object: 'text_completion',
  created: CLOCK_SECONDS,
  model: MODEL,
  choices: [{ index: 0, text: 'this is a test response', finish_reason: 'length' }],
  usage: { prompt_tokens: 4, completion_tokens: 5, total_tokens: 9 },
};

function adapterFor(serverUrl: string): HuggingFaceTgiAdapter {
  return new HuggingFaceTgiAdapter({
    endpointName: 'completions',
    endpointType: 'llm/v1/completions',
    modelName: MODEL,
    config: huggingFaceTgiConfigSchema.parse({ hf_server_url: serverUrl }),
    upstream: new Upstream(pools, { timeoutSeconds: 5 }),
  });
}

const CONTEXT = { signal: new AbortController().signal, log: { debug() {}, warn() {} } };

describe('huggingface-text-generation-inference configuration', () => {
  it.each([
    'huggingface-text-generation-inference',
    'HUGGINGFACE_TEXT_GENERATION_INFERENCE',
    'huggingface_text_generation_inference',
    'HuggingFace-Text_Generation-Inference',
  ])('is registered under %s', (name) => {
    expect(new ProviderRegistry().resolve(name)?.providerClass).toBe(HuggingFaceTgiAdapter);
  });

  it('loads examples/huggingface-text-generation-inference.yaml', async () => {
    const path = join(import.meta.dirname, '../../examples/huggingface-text-generation-inference.yaml');
    const config = await loadConfig(path, new ProviderRegistry());
    expect(
      config.endpoints.map((endpoint) => [
        endpoint.name,
        endpoint.endpointType,
        endpoint.providerName,
        endpoint.modelName,
        endpoint.config,
      ]),
    ).toEqual([
      [
        'tgi-completions',
        'llm/v1/completions',
        PROVIDER,
        'falcon-7b-instruct',
        { hf_server_url: 'http://127.0.0.1:8080' },
      ],
    ]);
  });

  it.each([
    ['a missing hf_server_url', '{}', /model\.config\.hf_server_url/],
    [
      'an hf_server_url that is not a URL',
      '{ hf_server_url: "tgi:8080" }',
      /hf_server_url: must be an http\(s\) URL/,
    ],
    [
      'an hf_server_url that is not http(s)',
      '{ hf_server_url: "ftp://tgi" }',
      /hf_server_url: must be an http\(s\) URL/,
    ],
    [
      'an environment reference (taken literally)',
      '{ hf_server_url: $TGI_URL }',
      /hf_server_url: must be an http\(s\) URL/,
    ],
  ])('rejects %s at load time', (_case, config, message) => {
    const yaml = `
endpoints:
  - name: completions
    endpoint_type: llm/v1/completions
    model: { provider: ${PROVIDER}, name: ${MODEL}, config: ${config} }
`;
    expect(() => parseConfig(yaml, new ProviderRegistry(), 'test.yaml')).toThrow(message);
  });

  it.each(['llm/v1/chat', 'llm/v1/embeddings'])('rejects an %s endpoint at load time', (endpointType) => {
    const yaml = `
endpoints:
  - name: other
    endpoint_type: ${endpointType}
    model: { provider: ${PROVIDER}, name: ${MODEL}, config: { hf_server_url: "http://127.0.0.1:8080" } }
`;
    expect(() => parseConfig(yaml, new ProviderRegistry(), 'test.yaml')).toThrow(
      `The provider '${PROVIDER}' does not support endpoint type '${endpointType}'.`,
    );
  });

  it('answers chat with the reference 501 text (test vector 5)', async () => {
    await expect(
      adapterFor(fake.url).chat(
        { messages: [{ role: 'user', content: 'hi' }], temperature: 0, n: 1 },
        CONTEXT,
      ),
    ).rejects.toMatchObject({
      status: 501,
      detail: 'The chat route is not implemented for Hugging Face Text Generation Inference models.',
    });
  });

  it('answers embeddings with the reference 501 text', async () => {
    await expect(adapterFor(fake.url).embeddings({ input: 'x' }, CONTEXT)).rejects.toMatchObject({
      status: 501,
      detail: 'The embeddings route is not implemented for Hugging Face Text Generation Inference models.',
    });
  });

  it.each([
    ['/', '/generate'],
    ['/tgi/', '/tgi/generate'],
    ['/tgi', '/tgi/generate'],
  ])('joins hf_server_url path %s and generate with one slash', async (basePath, upstreamPath) => {
    fake.reply({ kind: 'json', body: generateResponse() });
    await adapterFor(`${fake.url}${basePath}`).completions({ prompt: PROMPT, temperature: 0, n: 1 }, CONTEXT);
    await expectGenerateCall(
      { inputs: PROMPT, parameters: { temperature: 0.001, details: true, decoder_input_details: true } },
      upstreamPath,
    );
  });

  it('answers with model null when the endpoint names no model', async () => {
    const unnamed = await startTestGateway(`
endpoints:
  - name: completions
    endpoint_type: llm/v1/completions
    model: { provider: ${PROVIDER}, config: { hf_server_url: "${fake.url}" } }
`);
    try {
      pinClock();
      fake.reply({ kind: 'json', body: generateResponse() });
      const response = await invoke({ prompt: PROMPT, max_tokens: 1000 }, unnamed.url);
      expect(response).toEqual({ status: 200, json: { ...VECTOR_1_GATEWAY, model: null } });
    } finally {
      await unnamed.close();
    }
  });
});

describe('huggingface-text-generation-inference completions', () => {
  it('sends test vector 1 to /generate with inputs, max_new_tokens and the details flags', async () => {
    fake.reply({ kind: 'json', body: generateResponse() });
    await invoke({ prompt: PROMPT, n: 1, max_tokens: 1000 });
    await expectGenerateCall(VECTOR_1_UPSTREAM);
  });

  it('answers test vector 1 with prefill and generated token counts as usage', async () => {
    pinClock();
    fake.reply({ kind: 'json', body: generateResponse() });
    const response = await invoke({ prompt: PROMPT, n: 1, max_tokens: 1000 });
    expect(response).toEqual({ status: 200, json: VECTOR_1_GATEWAY });
  });

  it.each([
    [0.5, 25],
    [0, 0.001],
    [0.00001, 0.001],
    [2, 100],
  ])('scales temperature %d to %d (test vector 2)', async (temperature, scaled) => {
    fake.reply({ kind: 'json', body: generateResponse() });
    await invoke({ prompt: PROMPT, temperature });
    await expectGenerateCall({
      inputs: PROMPT,
      parameters: { temperature: scaled, details: true, decoder_input_details: true },
    });
  });

  it('passes stop and every other key through into parameters', async () => {
    fake.reply({ kind: 'json', body: generateResponse() });
    await invoke({
      prompt: PROMPT,
      stop: ['\n\n'],
      top_p: 0.9,
      top_k: 10,
      seed: 42,
      repetition_penalty: 1.2,
      do_sample: true,
    });
    await expectGenerateCall({
      inputs: PROMPT,
      parameters: {
        temperature: 0.001,
        stop: ['\n\n'],
        top_p: 0.9,
        top_k: 10,
        seed: 42,
        repetition_penalty: 1.2,
        do_sample: true,
        details: true,
        decoder_input_details: true,
      },
    });
  });

  it('always asks for details, whatever the client sent', async () => {
    fake.reply({ kind: 'json', body: generateResponse() });
    await invoke({ prompt: PROMPT, details: false, decoder_input_details: false });
    await expectGenerateCall({
      inputs: PROMPT,
      parameters: { temperature: 0.001, details: true, decoder_input_details: true },
    });
  });

  it.each(['eos_token', 'stop_sequence', 'length'])(
    'passes the finish reason %s through raw',
    async (reason) => {
      fake.reply({ kind: 'json', body: generateResponse({ finishReason: reason }) });
      const response = await invoke({ prompt: PROMPT });
      expect((response.json as { choices: { finish_reason: string }[] }).choices[0]?.finish_reason).toBe(
        reason,
      );
    },
  );

  it.each([
    [
      'n: 2 (test vector 3)',
      { n: 2 },
      "'n' must be '1' for the Text Generation Inference provider.Received value: '2'.",
    ],
    ['max_new_tokens', { max_new_tokens: 10 }, 'Invalid parameter max_new_tokens. Use max_tokens instead.'],
    ['model', { model: 'other' }, MODEL_NOT_PERMITTED],
  ])('answers 422 for %s without calling TGI', async (_case, extra, detail) => {
    const response = await invoke({ prompt: PROMPT, ...extra });
    expect(response).toEqual({ status: 422, json: { detail } });
    expect(fake.requests).toHaveLength(0);
  });

  it('answers a streaming request with 501 on the invocations route', async () => {
    const response = await invoke({ prompt: PROMPT, stream: true });
    expect(response).toEqual({
      status: 501,
      json: {
        detail:
          'The completions streaming route is not implemented for Hugging Face Text Generation Inference models.',
      },
    });
    expect(fake.requests).toHaveLength(0);
  });

  it('completes a prompt on /v1/completions through the openai SDK', async () => {
    pinClock();
    fake.reply({ kind: 'json', body: generateResponse({ finishReason: 'eos_token' }) });
    const completion = await client.completions.create({
      model: 'completions',
      prompt: PROMPT,
      max_tokens: 1000,
      temperature: 0.5,
    });
    expect(completion).toEqual({
      ...VECTOR_1_GATEWAY,
      choices: [{ index: 0, text: 'this is a test response', finish_reason: 'eos_token' }],
    });
    await expectGenerateCall({
      inputs: PROMPT,
      parameters: { temperature: 25, max_new_tokens: 1000, details: true, decoder_input_details: true },
    });
  });

  it('answers n: 2 on /v1/completions with 422 and the reference text', async () => {
    const error = await sdkError(client.completions.create({ model: 'completions', prompt: PROMPT, n: 2 }));
    expect(error.status).toBe(422);
    expect(error.error).toEqual({
      message: "'n' must be '1' for the Text Generation Inference provider.Received value: '2'.",
      type: 'invalid_request_error',
      param: 'n',
      code: 'invalid_request',
    });
  });

  it('answers a streaming request with 501 on /v1/completions', async () => {
    const error = await sdkError(
      client.completions.create({ model: 'completions', prompt: PROMPT, stream: true }),
    );
    expect(error.status).toBe(501);
    expect((error.error as { message: string }).message).toBe(
      'The completions streaming route is not implemented for Hugging Face Text Generation Inference models.',
    );
  });
});

describe('huggingface-text-generation-inference upstream failures', () => {
  const failures: [string, FakeReply, number, string][] = [
    ['422 (test vector 4)', { kind: 'json', status: 422, body: INPUT_TOO_LONG }, 422, INPUT_TOO_LONG.error],
    ['424', { kind: 'json', status: 424, body: GENERATION_FAILED }, 424, GENERATION_FAILED.error],
    ['429', { kind: 'json', status: 429, body: OVERLOADED }, 429, OVERLOADED.error],
    [
      '500',
      {
        kind: 'json',
        status: 500,
        body: { error: 'Incomplete generation', error_type: 'incomplete_generation' },
      },
      500,
      'Incomplete generation',
    ],
  ];

  it.each(failures)(
    'maps an upstream %s to the same status with the TGI error string as detail',
    async (_name, reply, status, detail) => {
      fake.reply(reply);
      expect(await invoke({ prompt: PROMPT })).toEqual({ status, json: { detail } });
    },
  );

  it.each(failures)(
    'maps an upstream %s to the same status on /v1 with the TGI error string as message',
    async (_name, reply, status, message) => {
      fake.reply(reply);
      const error = await sdkError(client.completions.create({ model: 'completions', prompt: PROMPT }));
      expect(error.status).toBe(status);
      expect((error.error as { message: string }).message).toBe(message);
    },
  );

  it.each([
    ['generated_text', { details: generateResponse().details }, 'missing generated_text'],
    ['details', { generated_text: 'x' }, 'missing details'],
    [
      'details.prefill',
      { generated_text: 'x', details: { finish_reason: 'length', generated_tokens: 1 } },
      'missing details.prefill',
    ],
    [
      'details.generated_tokens',
      { generated_text: 'x', details: { finish_reason: 'length', prefill: [] } },
      'missing details.generated_tokens',
    ],
    [
      'a string generated_tokens',
      { generated_text: 'x', details: { generated_tokens: '1', prefill: [] } },
      'invalid details.generated_tokens',
    ],
  ])('answers a 2xx body without %s with 502 naming the field', async (_case, body, what) => {
    fake.reply({ kind: 'json', body });
    expect(await invoke({ prompt: PROMPT })).toEqual({
      status: 502,
      json: { detail: `Malformed response from Hugging Face Text Generation Inference: ${what}` },
    });
  });

  it('answers a hosted-Inference-API array body with 502 saying which shape was expected', async () => {
    fake.reply({ kind: 'json', body: [{ generated_text: 'this is a test response' }] });
    expect(await invoke({ prompt: PROMPT })).toEqual({
      status: 502,
      json: {
        detail:
          'Malformed response from Hugging Face Text Generation Inference: expected the /generate object ' +
          '{"generated_text": …, "details": {…}}, got a JSON array (the hosted Inference API format is not supported)',
      },
    });
  });

  it('answers a malformed 2xx body on /v1 with 502 naming the field', async () => {
    fake.reply({ kind: 'json', body: { generated_text: 'x' } });
    const error = await sdkError(client.completions.create({ model: 'completions', prompt: PROMPT }));
    expect(error.status).toBe(502);
    expect(error.error).toEqual({
      message: 'Malformed response from Hugging Face Text Generation Inference: missing details',
      type: 'api_error',
      param: null,
      code: 'upstream_protocol',
    });
  });

  it('answers a non-JSON 2xx body with 502 naming the content type', async () => {
    fake.reply({ kind: 'text', body: '<html>Bad gateway</html>', contentType: 'text/html' });
    expect(await invoke({ prompt: PROMPT })).toEqual({
      status: 502,
      json: {
        detail:
          'The returned data type from the route service is not supported. Received content type: text/html',
      },
    });
  });

  it('answers 504 when TGI does not answer within the configured timeout', async () => {
    const slowGateway = await startTestGateway(gatewayYaml(fake.url), { timeoutSeconds: 1 });
    try {
      fake.reply({ kind: 'hang' });
      expect(await invoke({ prompt: PROMPT }, slowGateway.url)).toEqual({
        status: 504,
        json: { detail: 'The upstream provider did not respond within 1 seconds.' },
      });
    } finally {
      await slowGateway.close();
    }
  });

  it('answers 504 on /v1 when TGI does not answer in time', async () => {
    const slowGateway = await startTestGateway(gatewayYaml(fake.url), { timeoutSeconds: 1 });
    try {
      fake.reply({ kind: 'hang' });
      const slowClient = new OpenAI({
        apiKey: 'client-key',
        baseURL: `${slowGateway.url}/v1`,
        maxRetries: 0,
      });
      const error = await sdkError(slowClient.completions.create({ model: 'completions', prompt: PROMPT }));
      expect(error.status).toBe(504);
    } finally {
      await slowGateway.close();
    }
  });
});
