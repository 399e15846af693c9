import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePageToken, encodePageToken } from '../../../src/server/routes/endpoints-api.js';
import { startTestGateway, type TestGateway } from '../../helpers/gateway.js';
import { openAiChatYaml } from '../../helpers/openai-endpoint.js';

const GATEWAY_YAML = readFileSync(join(import.meta.dirname, '../../fixtures/gateway.yaml'), 'utf8');

const CHAT_VIEW = {
  name: 'chat',
  endpoint_type: 'llm/v1/chat',
  model: { name: 'mock-chat', provider: 'mock' },
  endpoint_url: '/gateway/chat/invocations',
  limit: { calls: 100, key: null, renewal_period: 'minute' },
};
const COMPLETIONS_VIEW = {
  name: 'completions',
  endpoint_type: 'llm/v1/completions',
  model: { name: 'mock-instruct', provider: 'mock' },
  endpoint_url: '/gateway/completions/invocations',
  limit: null,
};
const EMBEDDINGS_VIEW = {
  name: 'embeddings',
  endpoint_type: 'llm/v1/embeddings',
  model: { name: null, provider: 'mock' },
  endpoint_url: '/gateway/embeddings/invocations',
  limit: null,
};

function routeView(view: typeof CHAT_VIEW | typeof COMPLETIONS_VIEW | typeof EMBEDDINGS_VIEW) {
  return {
    name: view.name,
    route_type: view.endpoint_type,
    model: view.model,
    route_url: view.endpoint_url,
    limit: view.limit,
  };
}

let gateway: TestGateway;

beforeAll(async () => {
  gateway = await startTestGateway(GATEWAY_YAML);
});

afterAll(async () => {
  await gateway.close();
});

function get(url: string) {
  return gateway.app.inject({ method: 'GET', url });
}

describe('GET /api/2.0/endpoints/ (reference §4.4)', () => {
  it('lists every endpoint in file order with a null next_page_token', async () => {
    const response = await get('/api/2.0/endpoints/');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      endpoints: [CHAT_VIEW, COMPLETIONS_VIEW, EMBEDDINGS_VIEW],
      next_page_token: null,
    });
  });

  it('redirects the path without a trailing slash with 307, keeping the query (item 32)', async () => {
    const response = await get('/api/2.0/endpoints?page_token=abc');
    expect(response.statusCode).toBe(307);
    expect(response.headers.location).toBe('/api/2.0/endpoints/?page_token=abc');
  });

  it('starts a page at the token index', async () => {
    const response = await get(`/api/2.0/endpoints/?page_token=${encodePageToken(2)}`);
    expect(response.json()).toEqual({ endpoints: [EMBEDDINGS_VIEW], next_page_token: null });
  });

  it('answers an index beyond the end with an empty page', async () => {
    const response = await get('/api/2.0/endpoints/?page_token=eyJpbmRleCI6IDExfQ==');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ endpoints: [], next_page_token: null });
  });

  it('answers an undecodable token with 400 naming it [D5] (item 38)', async () => {
    const response = await get('/api/2.0/endpoints/?page_token=%25%25%25');
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({
      detail:
        'Invalid SearchRoutes token: %%%. The index is not defined as a value that can be represented as a positive integer.',
    });
  });

  it('answers a negative index with 400 [D5] (item 39)', async () => {
    const response = await get('/api/2.0/endpoints/?page_token=eyJpbmRleCI6IC0xfQ==');
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({
      detail: 'Invalid SearchRoutes token: eyJpbmRleCI6IC0xfQ==. The index cannot be negative.',
    });
  });

  it('answers DELETE with 405 and Allow: GET', async () => {
    const response = await gateway.app.inject({ method: 'DELETE', url: '/api/2.0/endpoints/' });
    expect(response.statusCode).toBe(405);
    expect(response.headers.allow).toBe('GET');
    expect(response.json()).toEqual({ detail: 'Method Not Allowed' });
  });
});

describe('page tokens', () => {
  it.each([
    [3000, 'eyJpbmRleCI6IDMwMDB9'],
    [11, 'eyJpbmRleCI6IDExfQ=='],
  ])('encodes index %i as Python does', (index, token) => {
    expect(encodePageToken(index)).toBe(token);
  });

  it.each([
    ['a string index', '{"index": "5"}', 5],
    ['a float index', '{"index": 5.0}', 5],
  ])('decodes %s', (_case, json, index) => {
    expect(decodePageToken(Buffer.from(json).toString('base64'))).toBe(index);
  });

  it.each([
    ['JSON without index', '{"start": 1}'],
    ['a non-numeric index', '{"index": "x"}'],
    ['a JSON list', '[1]'],
  ])('rejects %s', (_case, json) => {
    const token = Buffer.from(json).toString('base64');
    expect(() => decodePageToken(token)).toThrow(
      `Invalid SearchRoutes token: ${token}. The index is not defined as a value that can be represented as a positive integer.`,
    );
  });
});

describe('pagination over 3001 endpoints (item 37)', () => {
  let large: TestGateway;

  beforeAll(async () => {
    const entries = Array.from(
      { length: 3001 },
      (_, index) => `  - {name: e${index}, endpoint_type: llm/v1/chat, model: {provider: mock, config: {}}}`,
    );
    large = await startTestGateway(`endpoints:\n${entries.join('\n')}\n`);
  });

  afterAll(async () => {
    await large.close();
  });

  it('answers 3000 endpoints and the token of index 3000 on the first page', async () => {
    const body = (await large.app.inject('/api/2.0/endpoints/')).json();
    expect(body.endpoints).toHaveLength(3000);
    expect(body.endpoints[2999].name).toBe('e2999');
    expect(body.next_page_token).toBe('eyJpbmRleCI6IDMwMDB9');
  });

  it('answers the last endpoint and a null token on the second page', async () => {
    const body = (await large.app.inject('/api/2.0/endpoints/?page_token=eyJpbmRleCI6IDMwMDB9')).json();
    expect(body).toEqual({
      endpoints: [
        {
          name: 'e3000',
          endpoint_type: 'llm/v1/chat',
          model: { name: null, provider: 'mock' },
          endpoint_url: '/gateway/e3000/invocations',
          limit: null,
        },
      ],
      next_page_token: null,
    });
  });

  it('pages the legacy route list the same way', async () => {
    const body = (await large.app.inject('/api/2.0/gateway/routes/')).json();
    expect(body.routes).toHaveLength(3000);
    expect(body.next_page_token).toBe('eyJpbmRleCI6IDMwMDB9');
  });
});

describe('GET /api/2.0/endpoints/{name} (reference §4.5)', () => {
  it('answers the endpoint object with its limit (item 33)', async () => {
    const response = await get('/api/2.0/endpoints/chat');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual(CHAT_VIEW);
  });

  it('answers a null limit for an endpoint without one (item 34)', async () => {
    expect((await get('/api/2.0/endpoints/completions')).json()).toEqual(COMPLETIONS_VIEW);
  });

  it('answers an unknown name with 404 and the reference message (item 35)', async () => {
    const response = await get('/api/2.0/endpoints/nope');
    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({
      detail: "The endpoint 'nope' is not present or active on the server. Please verify the endpoint name.",
    });
  });

  it('treats /api/2.0/endpoints/limits as an endpoint named limits', async () => {
    const response = await get('/api/2.0/endpoints/limits');
    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({
      detail:
        "The endpoint 'limits' is not present or active on the server. Please verify the endpoint name.",
    });
  });

  it('redirects a trailing slash with 307', async () => {
    const response = await get('/api/2.0/endpoints/chat/');
    expect(response.statusCode).toBe(307);
    expect(response.headers.location).toBe('/api/2.0/endpoints/chat');
  });

  it('answers POST with 405 and Allow: GET', async () => {
    const response = await gateway.app.inject({ method: 'POST', url: '/api/2.0/endpoints/chat' });
    expect(response.statusCode).toBe(405);
    expect(response.headers.allow).toBe('GET');
  });
});

describe('limits placeholders (reference §4.6)', () => {
  it.each(['/api/2.0/endpoints/limits/chat', '/api/2.0/gateway/limits/chat'])(
    'answers GET %s with 501 (item 40)',
    async (url) => {
      const response = await get(url);
      expect(response.statusCode).toBe(501);
      expect(response.json()).toEqual({ detail: 'The get_limits API is not available yet.' });
    },
  );

  it.each(['/api/2.0/endpoints/limits/', '/api/2.0/gateway/limits/'])(
    'answers a valid POST %s with 501 (item 41)',
    async (url) => {
      const response = await gateway.app.inject({
        method: 'POST',
        url,
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify({ route: 'chat', limits: [] }),
      });
      expect(response.statusCode).toBe(501);
      expect(response.json()).toEqual({ detail: 'The set_limits API is not available yet.' });
    },
  );

  it('answers an invalid set_limits body with 422 naming both fields (item 41)', async () => {
    const response = await gateway.app.inject({
      method: 'POST',
      url: '/api/2.0/endpoints/limits/',
      headers: { 'content-type': 'application/json' },
      payload: '{}',
    });
    expect(response.statusCode).toBe(422);
    expect(response.json()).toEqual({
      detail: [
        { type: 'missing', loc: ['body', 'route'], msg: 'Field required', input: {} },
        { type: 'missing', loc: ['body', 'limits'], msg: 'Field required', input: {} },
      ],
    });
  });
});

describe('legacy /api/2.0/gateway/routes (reference §4.9)', () => {
  it('answers one route with route_type and route_url (item 42)', async () => {
    const response = await get('/api/2.0/gateway/routes/chat');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual(routeView(CHAT_VIEW));
  });

  it('answers an unknown route with 404 and the route message (item 43)', async () => {
    const response = await get('/api/2.0/gateway/routes/nope');
    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({
      detail: "The route 'nope' is not present or active on the server. Please verify the route name.",
    });
  });

  it('lists every route with a null next_page_token (item 44)', async () => {
    const response = await get('/api/2.0/gateway/routes/');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      routes: [routeView(CHAT_VIEW), routeView(COMPLETIONS_VIEW), routeView(EMBEDDINGS_VIEW)],
      next_page_token: null,
    });
  });

  it('redirects the list path without a trailing slash with 307', async () => {
    const response = await get('/api/2.0/gateway/routes');
    expect(response.statusCode).toBe(307);
    expect(response.headers.location).toBe('/api/2.0/gateway/routes/');
  });
});

describe('secrets never leave (item 36)', () => {
  let openai: TestGateway;

  beforeAll(async () => {
    openai = await startTestGateway(
      openAiChatYaml([
        'openai_api_key: sk-do-not-leak',
        'openai_api_base: http://127.0.0.1:9/secret-base',
        'openai_organization: org-secret',
      ]),
    );
  });

  afterAll(async () => {
    await openai.close();
  });

  it.each([
    '/api/2.0/endpoints/',
    '/api/2.0/endpoints/chat',
    '/api/2.0/gateway/routes/',
    '/api/2.0/gateway/routes/chat',
    '/openapi.json',
  ])('GET %s shows no config field', async (url) => {
    const response = await openai.app.inject(url);
    expect(response.statusCode).toBe(200);
    for (const secret of ['sk-do-not-leak', 'secret-base', 'org-secret', 'openai_api_key']) {
      expect(response.body).not.toContain(secret);
    }
  });
});
