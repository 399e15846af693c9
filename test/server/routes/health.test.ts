import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../../helpers/gateway.js';

let gateway: TestGateway;

beforeAll(async () => {
  gateway = await startTestGateway('endpoints: []\n');
});

afterAll(async () => {
  await gateway.close();
});

describe('fixed routes (reference §4.2–4.3)', () => {
  it('answers GET /health with 200 {"status":"OK"} (item 28)', async () => {
    const response = await gateway.app.inject('/health');
    expect(response.statusCode).toBe(200);
    expect(response.body).toBe('{"status":"OK"}');
  });

  it('redirects /health/ with 307 to /health', async () => {
    const response = await gateway.app.inject('/health/');
    expect(response.statusCode).toBe(307);
    expect(response.headers.location).toBe('/health');
  });

  it('answers POST /health with 405 and Allow: GET', async () => {
    const response = await gateway.app.inject({ method: 'POST', url: '/health' });
    expect(response.statusCode).toBe(405);
    expect(response.headers.allow).toBe('GET');
    expect(response.json()).toEqual({ detail: 'Method Not Allowed' });
  });

  it('redirects / with 307 to /docs (item 29)', async () => {
    const response = await gateway.app.inject('/');
    expect(response.statusCode).toBe(307);
    expect(response.headers.location).toBe('/docs');
  });

  it('answers GET /docs with the Swagger UI page (item 30)', async () => {
    const response = await gateway.app.inject('/docs');
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(response.body).toContain('<title>Swagger UI</title>');
  });

  it('answers an unknown path with 404 {"detail":"Not Found"} (item 31)', async () => {
    const response = await gateway.app.inject('/nope');
    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({ detail: 'Not Found' });
  });

  it('serves /health over a real socket', async () => {
    const response = await fetch(`${gateway.url}/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'OK' });
  });
});
