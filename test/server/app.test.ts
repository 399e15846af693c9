import { Writable } from 'node:stream';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { ProviderRegistry } from '../../src/providers/registry.js';
import { createGateway } from '../../src/server/start.js';

const OFFLINE = readFileSync(join(import.meta.dirname, '../../examples/offline.yaml'), 'utf8');

/** A gateway whose pino output is collected as parsed JSON lines. */
async function gatewayLoggingAt(level: string) {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line !== '') lines.push(JSON.parse(line));
      done();
    },
  });
  const config = parseConfig(OFFLINE, new ProviderRegistry());
  const gateway = await createGateway(config, { logger: { level, stream } });
  return { app: gateway.app, lines };
}

describe('access log', () => {
  it('writes one line per request at info, with method, url, status and request id', async () => {
    const { app, lines } = await gatewayLoggingAt('info');
    const response = await app.inject({
      method: 'POST',
      url: '/endpoints/chat/invocations',
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk-secret' },
      payload: { messages: [{ role: 'user', content: 'hi' }] },
    });
    expect(response.statusCode).toBe(200);
    const access = lines.filter((line) => line.msg === 'request completed');
    expect(access).toHaveLength(1);
    expect(access[0]).toMatchObject({
      method: 'POST',
      url: '/endpoints/chat/invocations',
      statusCode: 200,
      reqId: expect.any(String),
    });
    expect(JSON.stringify(lines)).not.toContain('sk-secret');
    expect(JSON.stringify(lines)).not.toContain('"hi"');
    await app.close();
  });

  it('never logs a key sent as the ?key= query parameter', async () => {
    const { app, lines } = await gatewayLoggingAt('info');
    await app.inject({ method: 'GET', url: '/health?alt=sse&key=AIza-client-secret&x=1' });
    const access = lines.filter((line) => line.msg === 'request completed');
    expect(access.map((line) => line.url)).toEqual(['/health?alt=sse&key=[redacted]&x=1']);
    expect(JSON.stringify(lines)).not.toContain('AIza-client-secret');
    await app.close();
  });

  it('writes no access line at warn', async () => {
    const { app, lines } = await gatewayLoggingAt('warn');
    const response = await app.inject({ method: 'GET', url: '/health' });
    expect(response.statusCode).toBe(200);
    expect(lines.filter((line) => line.msg === 'request completed')).toEqual([]);
    await app.close();
  });
});
