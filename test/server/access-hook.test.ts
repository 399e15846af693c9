import { Writable } from 'node:stream';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { ProviderRegistry } from '../../src/providers/registry.js';
import { createGateway, type Gateway } from '../../src/server/start.js';

const KEY_A = 'sk-team-a-0123456789';
const KEY_B = 'sk-team-b-9876543210';
const CHAT = { messages: [{ role: 'user', content: 'hi' }] };

const ENDPOINTS = `
endpoints:
  - name: chat
    endpoint_type: llm/v1/chat
    model: {provider: mock, config: {}}
    pricing: {input_per_million: 1000, output_per_million: 2000}
  - name: embed-small
    endpoint_type: llm/v1/embeddings
    model: {provider: mock, config: {}}
    pricing: {input_per_million: 0, output_per_million: 0}
`;

function clientsYaml(extra = '', teamA = ''): string {
  return `${ENDPOINTS}
clients:
  - {name: team-a, key: ${KEY_A}${teamA}}
  - {name: team-b, key: ${KEY_B}, endpoints: ["embed-*"]}
${extra}`;
}

const gateways: Gateway[] = [];
afterEach(async () => {
  for (const gateway of gateways.splice(0)) await gateway.app.close();
});

async function gateway(yaml: string) {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(
        ...chunk
          .toString('utf8')
          .split('\n')
          .filter((line) => line !== ''),
      );
      done();
    },
  });
  const built = await createGateway(parseConfig(yaml, new ProviderRegistry(), 'test.yaml'), {
    logger: { level: 'info', stream },
  });
  gateways.push(built);
  return { ...built, lines };
}

function post(
  app: FastifyInstance,
  url: string,
  headers: Record<string, string> = {},
  payload: object = CHAT,
): Promise<LightMyRequestResponse> {
  return app.inject({
    method: 'POST',
    url,
    headers: { 'content-type': 'application/json', ...headers },
    payload,
  });
}

const MISSING =
  "An API key is required: send it as 'Authorization: Bearer <key>' (or in 'x-api-key', 'api-key', 'x-goog-api-key').";

describe('an open gateway', () => {
  it('answers invocations without a key when no client is configured', async () => {
    const { app } = await gateway(ENDPOINTS);
    expect((await post(app, '/endpoints/chat/invocations')).statusCode).toBe(200);
  });

  it('stays open with an access section that lists no clients', async () => {
    const { app } = await gateway(`${ENDPOINTS}access: {protect_docs: true}\n`);
    expect((await post(app, '/v1/chat/completions', {}, { ...CHAT, model: 'chat' })).statusCode).toBe(200);
  });
});

describe('authentication', () => {
  const routes = [
    ['/endpoints/chat/invocations', CHAT],
    ['/gateway/chat/invocations', CHAT],
    ['/v1/chat/completions', { ...CHAT, model: 'chat' }],
  ] as const;
  const headers: Record<string, string>[] = [
    { authorization: `Bearer ${KEY_A}` },
    { 'x-api-key': KEY_A },
    { 'api-key': KEY_A },
    { 'x-goog-api-key': KEY_A },
  ];
  it.each(
    routes.flatMap(([url, body]) =>
      headers.map((header) => [url, Object.keys(header)[0], header, body] as const),
    ),
  )('accepts %s with the key in %s', async (url, _name, header, body) => {
    const { app } = await gateway(clientsYaml());
    expect((await post(app, url, header, body)).statusCode).toBe(200);
  });

  it('answers a missing key with 401 in the MLflow shape', async () => {
    const { app } = await gateway(clientsYaml());
    const response = await post(app, '/endpoints/chat/invocations');
    expect(response.statusCode).toBe(401);
    expect(response.headers['www-authenticate']).toBe('Bearer');
    expect(response.json()).toEqual({ detail: MISSING });
  });

  it('answers an unknown key with 401 in the OpenAI shape on /v1', async () => {
    const { app } = await gateway(clientsYaml());
    const response = await post(
      app,
      '/v1/chat/completions',
      { authorization: 'Bearer sk-wrong' },
      { ...CHAT, model: 'chat' },
    );
    expect(response.statusCode).toBe(401);
    expect(response.json()).toEqual({
      error: {
        message: 'The API key is not valid.',
        type: 'authentication_error',
        param: null,
        code: 'invalid_api_key',
      },
    });
  });

  it('keys the listing and usage routes, and leaves /health open', async () => {
    const { app } = await gateway(clientsYaml());
    expect((await app.inject('/health')).statusCode).toBe(200);
    for (const url of [
      '/api/2.0/endpoints/',
      '/api/2.0/gateway/routes/',
      '/api/2.0/endpoints/chat',
      '/api/2.0/llmgw/usage',
    ]) {
      expect((await app.inject(url)).json()).toEqual({ detail: MISSING });
    }
  });

  it('keys /docs, /openapi.json and /metrics only when the access options say so', async () => {
    const open = await gateway(clientsYaml());
    expect((await open.app.inject('/openapi.json')).statusCode).toBe(200);
    expect((await open.app.inject('/metrics')).statusCode).toBe(200);
    const keyed = await gateway(clientsYaml('access: {protect_docs: true, protect_metrics: true}'));
    for (const url of ['/openapi.json', '/docs', '/docs/json', '/metrics']) {
      expect((await keyed.app.inject(url)).statusCode).toBe(401);
    }
    expect((await keyed.app.inject({ url: '/metrics', headers: { 'x-api-key': KEY_A } })).statusCode).toBe(
      200,
    );
  });

  it('refuses a key removed by a reload on its next request', async () => {
    const built = await gateway(clientsYaml());
    expect((await post(built.app, '/endpoints/chat/invocations', { 'x-api-key': KEY_A })).statusCode).toBe(
      200,
    );
    built.apply(
      parseConfig(`${ENDPOINTS}clients:\n  - {name: team-b, key: ${KEY_B}}\n`, new ProviderRegistry()),
    );
    const response = await post(built.app, '/endpoints/chat/invocations', { 'x-api-key': KEY_A });
    expect(response.statusCode).toBe(401);
    expect(response.json()).toEqual({ detail: 'The API key is not valid.' });
  });
});

describe('authorization', () => {
  const FORBIDDEN_CHAT = "This API key may not call 'chat'.";

  it('answers 403 for an endpoint the key may not call, in each family shape', async () => {
    const { app } = await gateway(clientsYaml());
    const mlflow = await post(app, '/endpoints/chat/invocations', { 'x-api-key': KEY_B });
    expect(mlflow.statusCode).toBe(403);
    expect(mlflow.json()).toEqual({ detail: FORBIDDEN_CHAT });
    const openai = await post(
      app,
      '/v1/chat/completions',
      { 'x-api-key': KEY_B },
      { ...CHAT, model: 'chat' },
    );
    expect(openai.statusCode).toBe(403);
    expect(openai.json()).toEqual({
      error: { message: FORBIDDEN_CHAT, type: 'permission_error', param: null, code: 'permission_denied' },
    });
  });

  it('answers a name that does not exist exactly like one that is forbidden', async () => {
    const { app } = await gateway(clientsYaml());
    const response = await post(app, '/endpoints/ghost/invocations', { 'x-api-key': KEY_B });
    expect(response.statusCode).toBe(403);
    expect(response.json()).toEqual({ detail: "This API key may not call 'ghost'." });
  });

  it('lists and describes only what the key may call', async () => {
    const { app } = await gateway(clientsYaml());
    const listing = await app.inject({ url: '/api/2.0/endpoints/', headers: { 'x-api-key': KEY_B } });
    expect(listing.json().endpoints.map((endpoint: { name: string }) => endpoint.name)).toEqual([
      'embed-small',
    ]);
    const routes = await app.inject({ url: '/api/2.0/gateway/routes/', headers: { 'x-api-key': KEY_A } });
    expect(routes.json().routes.map((route: { name: string }) => route.name)).toEqual([
      'chat',
      'embed-small',
    ]);
    expect(
      (await app.inject({ url: '/api/2.0/endpoints/chat', headers: { 'x-api-key': KEY_B } })).statusCode,
    ).toBe(403);
  });

  it("shows only the key's endpoints in the OpenAPI document", async () => {
    const { app } = await gateway(clientsYaml());
    const full = await app.inject({ url: '/openapi.json' });
    const keyed = await app.inject({ url: '/openapi.json', headers: { 'x-api-key': KEY_B } });
    const invocationPaths = (document: { paths: object }) =>
      Object.keys(document.paths).filter((path) => path.startsWith('/endpoints/'));
    expect(invocationPaths(full.json())).toEqual([
      '/endpoints/chat/invocations',
      '/endpoints/embed-small/invocations',
    ]);
    expect(invocationPaths(keyed.json())).toEqual(['/endpoints/embed-small/invocations']);
  });
});

describe('client limits', () => {
  it('refuses the request after `calls` with 429, Retry-After and X-RateLimit-* for that limit', async () => {
    const { app } = await gateway(clientsYaml('', ', limit: {calls: 2, renewal_period: minute}'));
    const key = { 'x-api-key': KEY_A };
    expect((await post(app, '/endpoints/chat/invocations', key)).statusCode).toBe(200);
    expect((await post(app, '/endpoints/chat/invocations', key)).statusCode).toBe(200);
    const refused = await post(app, '/v1/chat/completions', key, { ...CHAT, model: 'chat' });
    expect(refused.statusCode).toBe(429);
    const retryAfter = Number(refused.headers['retry-after']);
    expect(retryAfter >= 59 && retryAfter <= 60).toBe(true);
    expect(refused.headers['x-ratelimit-limit']).toBe('2');
    expect(refused.headers['x-ratelimit-remaining']).toBe('0');
    expect(refused.headers['x-ratelimit-reset']).toBe(String(retryAfter));
    expect(refused.json()).toEqual({
      error: {
        message: `Rate limit exceeded for client 'team-a': 2 calls per 1 minute; renews in ${retryAfter} s`,
        type: 'rate_limit_error',
        param: null,
        code: 'rate_limited',
      },
    });
    // Another client's window is its own.
    expect(
      (await post(app, '/endpoints/embed-small/invocations', { 'x-api-key': KEY_B }, { input: 'x' }))
        .statusCode,
    ).toBe(200);
  });

  it('counts answered tokens and refuses once the token window is used up', async () => {
    const { app } = await gateway(clientsYaml('', ', token_limit: {tokens: 10, renewal_period: hour}'));
    const key = { 'x-api-key': KEY_A };
    const first = await post(app, '/endpoints/chat/invocations', key);
    const used = first.json().usage.total_tokens as number;
    expect(used).toBeGreaterThan(0);
    let answered = 1;
    while (answered * used < 10) {
      expect((await post(app, '/endpoints/chat/invocations', key)).statusCode).toBe(200);
      answered += 1;
    }
    const refused = await post(app, '/endpoints/chat/invocations', key);
    expect(refused.statusCode).toBe(429);
    expect(refused.json().error).toMatch(
      /^Token limit exceeded for client 'team-a': 10 tokens per 1 hour; renews in \d+ s$/,
    );
    const usage = await app.inject({ url: '/api/2.0/llmgw/usage', headers: { 'x-api-key': KEY_A } });
    expect(usage.json()).toEqual({
      client: 'team-a',
      calls: null,
      tokens: {
        limit: 10,
        used: answered * used,
        remaining: 0,
        renewal_period: '1 hour',
        resets_in_seconds: expect.any(Number),
      },
      budget_usd: null,
    });
  });

  it('prices usage from the endpoint and refuses once the budget is spent, naming it', async () => {
    const { app } = await gateway(
      clientsYaml('', ', endpoints: [chat], budget: {usd: 0.01, renewal_period: day}'),
    );
    const key = { 'x-api-key': KEY_A };
    const first = await post(app, '/endpoints/chat/invocations', key);
    const { prompt_tokens: input, completion_tokens: output } = first.json().usage;
    // 1000 and 2000 USD per million tokens: one micro-dollar per … 1000 micro-USD per input token.
    const cost = input * 1000 + output * 2000;
    let spent = cost;
    while (spent < 10_000) {
      expect((await post(app, '/endpoints/chat/invocations', key)).statusCode).toBe(200);
      spent += cost;
    }
    const refused = await post(app, '/endpoints/chat/invocations', key);
    expect(refused.statusCode).toBe(429);
    expect(refused.headers['x-ratelimit-limit']).toBe('0.01');
    expect(refused.json().error).toMatch(
      /^Budget exhausted for client 'team-a': 0\.01 USD per 1 day; renews in \d+ s$/,
    );
    const usage = await app.inject({
      url: '/api/2.0/llmgw/usage',
      headers: { authorization: `Bearer ${KEY_A}` },
    });
    expect(usage.json().budget_usd).toMatchObject({ limit: 0.01, used: spent / 1_000_000, remaining: 0 });
  });
});

describe('secrets and names', () => {
  it('logs and exports the client name and never the key', async () => {
    const built = await gateway(clientsYaml());
    await post(built.app, '/endpoints/chat/invocations', { authorization: `Bearer ${KEY_A}` });
    await post(built.app, '/endpoints/chat/invocations', { 'x-api-key': KEY_B });
    await post(built.app, '/endpoints/chat/invocations', { 'api-key': 'sk-unknown-key' });
    const metrics = (await built.app.inject('/metrics')).body;
    expect(metrics).toContain('llmgw_client_requests_total{client="team-a"} 1');
    expect(metrics).toContain('llmgw_client_refused_total{client="team-b",reason="forbidden"} 1');
    expect(metrics).toContain('llmgw_client_refused_total{client="_unknown",reason="unauthorized"} 1');
    const completed = built.lines
      .map((line) => JSON.parse(line))
      .filter((line) => line.msg === 'request completed' && line.url.startsWith('/endpoints/'));
    expect(completed.map((line) => line.client)).toEqual(['team-a', 'team-b', undefined]);
    for (const text of [...built.lines, metrics]) {
      for (const secret of [KEY_A, KEY_B, 'sk-unknown-key']) expect(text).not.toContain(secret);
    }
  });
});
