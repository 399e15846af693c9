import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOpenApiDocument } from '../../src/server/openapi.js';
import { VERSION } from '../../src/version.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

const GATEWAY_YAML = readFileSync(join(import.meta.dirname, '../fixtures/gateway.yaml'), 'utf8');

const STATIC_PATHS = [
  '/health',
  '/api/2.0/endpoints/',
  '/api/2.0/endpoints/{endpoint_name}',
  '/api/2.0/endpoints/limits/{endpoint}',
  '/api/2.0/endpoints/limits/',
  '/api/3.0/gateway/route/{name}',
  '/api/3.0/gateway/endpoint/{name}',
  '/v1/chat/completions',
  '/v1/completions',
  '/v1/embeddings',
];

describe('buildOpenApiDocument', () => {
  it('lists the static paths and one invocation path per endpoint', () => {
    const document = buildOpenApiDocument([
      { name: 'chat', type: 'llm/v1/chat' },
      { name: 'embed', type: 'llm/v1/embeddings' },
    ]);
    expect(Object.keys(document.paths)).toEqual([
      ...STATIC_PATHS,
      '/endpoints/chat/invocations',
      '/endpoints/embed/invocations',
    ]);
  });

  it("describes an endpoint's request body with its type's schema", () => {
    const document = buildOpenApiDocument([{ name: 'embed', type: 'llm/v1/embeddings' }]);
    expect(document.paths['/endpoints/embed/invocations']).toMatchObject({
      post: {
        operationId: 'invoke_embed',
        requestBody: {
          required: true,
          content: { 'application/json': { schema: { $ref: '#/components/schemas/EmbeddingsRequest' } } },
        },
      },
    });
  });

  it('percent-encodes a name that is not URL-safe', () => {
    const document = buildOpenApiDocument([{ name: 'ÄÖ1', type: 'llm/v1/chat' }]);
    expect(Object.keys(document.paths)).toContain('/endpoints/%C3%84%C3%961/invocations');
  });
});

describe('GET /openapi.json (item 30)', () => {
  let gateway: TestGateway;

  beforeAll(async () => {
    gateway = await startTestGateway(GATEWAY_YAML);
  });

  afterAll(async () => {
    await gateway.close();
  });

  it('answers the document with every configured endpoint', async () => {
    const response = await gateway.app.inject('/openapi.json');
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
    const document = response.json();
    expect(document.openapi).toBe('3.1.0');
    expect(document.info).toMatchObject({ title: 'llmgw', version: VERSION });
    expect(Object.keys(document.paths)).toEqual([
      ...STATIC_PATHS,
      '/endpoints/chat/invocations',
      '/endpoints/completions/invocations',
      '/endpoints/embeddings/invocations',
    ]);
  });

  it('serves the same document to the Swagger UI', async () => {
    const ui = (await gateway.app.inject('/docs/json')).json();
    expect(ui).toEqual((await gateway.app.inject('/openapi.json')).json());
  });
});
