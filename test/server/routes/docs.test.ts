import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
