import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { ProviderRegistry } from '../../../src/providers/registry.js';
import { createGateway } from '../../../src/server/start.js';
import { DURATION_HEADER, OVERHEAD_HEADER } from '../../../src/telemetry/timing.js';
import { startTestGateway, type TestGateway } from '../../helpers/gateway.js';

let gateway: TestGateway;

beforeAll(async () => {
  gateway = await startTestGateway('endpoints: []\n');
});

afterAll(async () => {
  await gateway.close();
});

/** GET with the path sent exactly as written: fetch and inject would normalise `..` first. */
function getRaw(path: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(gateway.url);
  return new Promise((resolve, reject) => {
    const request = httpRequest({ hostname, port, path, method: 'GET' }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
      });
    });
    request.on('error', reject);
    request.end();
  });
}

describe('docs static files', () => {
  it('serves the Swagger UI assets', async () => {
    const response = await getRaw('/docs/static/swagger-ui.css');
    expect(response.status).toBe(200);
  });

  it.each([
    '/docs/static/../../package.json',
    '/docs/static/../../../../../../etc/passwd',
    '/docs/static/%2e%2e/%2e%2e/package.json',
    '/docs/static/..%2f..%2fpackage.json',
    '/docs/static/..\\..\\package.json',
    '/docs/static/%5c..%5c..%5cpackage.json',
    '/docs/static/%2e%2e%5c%2e%2e%5cpackage.json',
    '/docs/static/%00',
    '/docs/static/nope.js',
  ])('answers %s with 404 Not Found and serves no file', async (path) => {
    const response = await getRaw(path);
    expect(response).toEqual({ status: 404, body: '{"detail":"Not Found"}' });
  });

  it('answers a malformed percent-escape with a JSON 400 in the gateway shape', async () => {
    const response = await getRaw('/docs/static/%ZZ');
    expect(response).toEqual({
      status: 400,
      body: JSON.stringify({ detail: "'/docs/static/%ZZ' is not a valid url component" }),
    });
  });

  it('answers a malformed percent-escape under /v1 in the OpenAI shape', async () => {
    const response = await getRaw('/v1/%ZZ');
    expect(JSON.parse(response.body)).toEqual({
      error: {
        message: "'/v1/%ZZ' is not a valid url component",
        type: 'invalid_request_error',
        param: null,
        code: 'invalid_request',
      },
    });
  });
});

describe('docs served by the lazily built Swagger UI', () => {
  it('answers with the request id and timing headers the gateway gives every answer', async () => {
    const response = await fetch(`${gateway.url}/docs/static/swagger-ui.css`, {
      headers: { 'x-request-id': 'docs-1' },
    });
    await response.arrayBuffer();
    expect(response.headers.get('x-request-id')).toBe('docs-1');
    expect(response.headers.get(DURATION_HEADER)).toMatch(/^\d+(\.\d+)?$/);
    expect(response.headers.get(OVERHEAD_HEADER)).toMatch(/^\d+(\.\d+)?$/);
  });

  it('answers HEAD on an asset with its headers and no body', async () => {
    const response = await fetch(`${gateway.url}/docs/static/swagger-ui.css`, { method: 'HEAD' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(await response.text()).toBe('');
  });

  it("narrows /docs/json to the endpoints the caller's key may call", async () => {
    const yaml = `
endpoints:
  - {name: chat, endpoint_type: llm/v1/chat, model: {provider: mock, config: {}}}
  - {name: embed-small, endpoint_type: llm/v1/embeddings, model: {provider: mock, config: {}}}
clients:
  - {name: team-b, key: sk-team-b-9876543210, endpoints: ["embed-*"]}
`;
    const keyed = await createGateway(parseConfig(yaml, new ProviderRegistry(), 'test.yaml'));
    try {
      const response = await keyed.app.inject({
        url: '/docs/json',
        headers: { 'x-api-key': 'sk-team-b-9876543210' },
      });
      const paths = Object.keys(response.json<{ paths: object }>().paths);
      expect(paths.filter((path) => path.startsWith('/endpoints/'))).toEqual([
        '/endpoints/embed-small/invocations',
      ]);
    } finally {
      await keyed.app.close();
    }
  });
});
