import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { ProviderRegistry } from '../../../src/providers/registry.js';
import { createGateway } from '../../../src/server/start.js';
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

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('request ids', () => {
  it('echoes a short, plain x-request-id', async () => {
    const id = 'trace-01.A_b:c';
    const response = await gateway.app.inject({ url: '/health', headers: { 'x-request-id': id } });
    expect(response.headers['x-request-id']).toBe(id);
  });

  it('accepts an id of 128 characters', async () => {
    const id = 'a'.repeat(128);
    const response = await gateway.app.inject({ url: '/health', headers: { 'x-request-id': id } });
    expect(response.headers['x-request-id']).toBe(id);
  });

  it.each([
    ['longer than 128 characters', 'a'.repeat(129)],
    ['with a space', 'a b'],
    ['with JSON in it', '{"level":60}'],
    ['with a slash', 'a/b'],
    ['empty', ''],
  ])('replaces an id %s with a generated UUID', async (_case, id) => {
    const response = await gateway.app.inject({ url: '/health', headers: { 'x-request-id': id } });
    expect(response.headers['x-request-id']).toMatch(UUID);
  });

  it('generates a different UUID for each request without an id', async () => {
    const first = await gateway.app.inject('/health');
    const second = await gateway.app.inject('/health');
    expect(first.headers['x-request-id']).toMatch(UUID);
    expect(second.headers['x-request-id']).toMatch(UUID);
    expect(first.headers['x-request-id']).not.toBe(second.headers['x-request-id']);
  });

  it('logs the generated id, never a refused header value', async () => {
    const lines: Record<string, unknown>[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString('utf8').split('\n')) if (line !== '') lines.push(JSON.parse(line));
        done();
      },
    });
    const config = parseConfig('endpoints: []\n', new ProviderRegistry());
    const logged = await createGateway(config, { logger: { level: 'info', stream } });
    const response = await logged.app.inject({ url: '/health', headers: { 'x-request-id': 'forged id' } });
    await logged.app.close();
    const id = response.headers['x-request-id'];
    expect(id).toMatch(UUID);
    expect(lines.filter((line) => line.msg === 'request completed').map((line) => line.reqId)).toEqual([id]);
    expect(JSON.stringify(lines)).not.toContain('forged id');
  });
});
