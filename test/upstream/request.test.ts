import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/errors.js';
import { PoolSet } from '../../src/upstream/pool.js';
import { jsonHeaders, Upstream, type UpstreamTarget } from '../../src/upstream/request.js';
import { FakeUpstream, ManualStream, sseFrame } from '../fakes/fake-upstream.js';
import { freePort } from '../helpers/port.js';

let fake: FakeUpstream;
let pools: PoolSet;
let upstream: Upstream;
let target: UpstreamTarget;
const headers = jsonHeaders({ authorization: 'Bearer sk-test' });

beforeEach(async () => {
  fake = await FakeUpstream.start();
  pools = new PoolSet({ connectTimeoutMs: 2000 });
  upstream = new Upstream(pools, { timeoutSeconds: 0.5 });
  target = upstream.target(`${fake.url}/v1/chat/completions?api-version=2024-02-01`);
});

afterEach(async () => {
  await pools.close();
  await fake.close();
});

function post(body: unknown = { a: 1 }): Promise<unknown> {
  return upstream.postJson(target, headers, body, new AbortController().signal);
}

async function failure(
  promise: Promise<unknown>,
): Promise<{ name: string; status: number; detail: unknown }> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof GatewayError)
      return { name: error.name, status: error.status, detail: error.detail };
    throw error;
  }
  throw new Error('expected a rejection');
}

async function collect(events: AsyncIterable<string>): Promise<string[]> {
  const all: string[] = [];
  for await (const data of events) all.push(data);
  return all;
}

/** Waits (bounded) until the pool has an idle connection to hand out again. */
async function poolIdle(): Promise<void> {
  const pool = pools.get(new URL(fake.url).origin);
  for (let attempt = 0; attempt < 200 && pool.stats.free === 0; attempt += 1) {
    await new Promise((resolve) => setImmediate(resolve));
  }
  expect(pool.stats.free).toBe(1);
}

describe('Upstream.target', () => {
  it('splits a URL into origin, path with query, and the shared pool of its origin', () => {
    expect({ origin: target.origin, path: target.path, url: target.url }).toEqual({
      origin: fake.url,
      path: '/v1/chat/completions?api-version=2024-02-01',
      url: `${fake.url}/v1/chat/completions?api-version=2024-02-01`,
    });
    expect(upstream.target(`${fake.url}/v1/embeddings`).pool).toBe(target.pool);
  });
});

describe('Upstream.postJson', () => {
  it('POSTs the JSON body with the given headers to the exact path and query', async () => {
    fake.reply({ kind: 'json', body: { ok: true } });
    expect(await post({ model: 'm', messages: [{ role: 'user', content: 'hé' }] })).toEqual({ ok: true });
    const request = await fake.nextRequest();
    expect(request.method).toBe('POST');
    expect(request.path).toBe('/v1/chat/completions');
    expect(request.query).toEqual({ 'api-version': '2024-02-01' });
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.headers.authorization).toBe('Bearer sk-test');
    expect(request.rawBody).toBe('{"model":"m","messages":[{"role":"user","content":"hé"}]}');
  });

  it('wraps a text/plain body as {"message": text}', async () => {
    fake.reply({ kind: 'text', body: 'fine' });
    expect(await post()).toEqual({ message: 'fine' });
  });

  it('maps an error status with a JSON error object to the upstream status and message', async () => {
    fake.reply({ kind: 'json', status: 401, body: { error: { message: 'bad key' } } });
    expect(await failure(post())).toEqual({ name: 'UpstreamError', status: 401, detail: 'bad key' });
  });

  it('maps an error status with a text/plain body to {"message": text}', async () => {
    fake.reply({ kind: 'text', status: 503, body: 'down' });
    expect(await failure(post())).toEqual({
      name: 'UpstreamError',
      status: 503,
      detail: { message: 'down' },
    });
  });

  it('answers 502 for an HTML body whatever the status', async () => {
    fake.reply({ kind: 'text', status: 500, body: '<html></html>', contentType: 'text/html' });
    expect(await failure(post())).toEqual({
      name: 'UpstreamProtocolError',
      status: 502,
      detail:
        'The returned data type from the route service is not supported. Received content type: text/html',
    });
  });

  it('answers 502 naming None when the content type is missing', async () => {
    fake.reply({ kind: 'text', body: '{}', contentType: null });
    expect((await failure(post())).detail).toBe(
      'The returned data type from the route service is not supported. Received content type: None',
    );
  });

  it('answers 502 when a JSON content type carries a body that is not JSON [D7]', async () => {
    fake.reply({ kind: 'text', body: '{"id":', contentType: 'application/json' });
    expect(await failure(post())).toEqual({
      name: 'UpstreamProtocolError',
      status: 502,
      detail: 'The upstream provider returned a body that is not valid JSON.',
    });
  });

  it('answers 504 when the upstream does not answer within the timeout [D6]', async () => {
    fake.reply({ kind: 'hang' });
    expect(await failure(post())).toEqual({
      name: 'UpstreamTimeoutError',
      status: 504,
      detail: 'The upstream provider did not respond within 0.5 seconds.',
    });
  });

  it('answers 502 when the connection is refused [D6]', async () => {
    const port = await freePort();
    const closed = upstream.target(`http://127.0.0.1:${port}/v1/embeddings`);
    const promise = upstream.postJson(closed, headers, {}, new AbortController().signal);
    expect(await failure(promise)).toEqual({
      name: 'UpstreamUnreachableError',
      status: 502,
      detail: 'Could not reach the upstream provider: ECONNREFUSED',
    });
  });

  it('aborts the upstream request when the signal fires', async () => {
    fake.reply({ kind: 'hang' });
    const controller = new AbortController();
    const rejected = expect(upstream.postJson(target, headers, {}, controller.signal)).rejects.toThrow(
      'This operation was aborted',
    );
    await fake.nextRequest();
    controller.abort();
    await fake.aborted();
    await rejected;
  });

  it('reuses one keep-alive connection for sequential calls, error statuses included', async () => {
    const pool = pools.get(new URL(fake.url).origin);
    let connects = 0;
    pool.on('connect', () => (connects += 1));
    fake.reply({ kind: 'json', status: 400, body: { error: { message: 'no' } } });
    fake.reply({ kind: 'text', status: 500, body: '<html></html>', contentType: 'text/html' });
    fake.reply({ kind: 'json', body: { ok: true } });
    await failure(post());
    await poolIdle();
    await failure(post());
    await poolIdle();
    await post();
    await poolIdle();
    expect(connects).toBe(1);
  });
});

describe('Upstream.postStream', () => {
  function stream(signal = new AbortController().signal): Promise<AsyncIterable<string>> {
    return upstream.postStream(target, headers, { stream: true }, signal);
  }

  it('yields the data of each upstream event and stops at [DONE]', async () => {
    fake.reply({
      kind: 'sse',
      events: [sseFrame({ a: 1 }), ': keep-alive\n\n', sseFrame({ a: 2 }), sseFrame('[DONE]')],
    });
    expect(await collect(await stream())).toEqual(['{"a":1}', '{"a":2}']);
  });

  it('rejects before any event with the upstream status and error message [D1]', async () => {
    fake.reply({ kind: 'json', status: 401, body: { error: { message: 'bad key' } } });
    expect(await failure(stream())).toEqual({ name: 'UpstreamError', status: 401, detail: 'bad key' });
  });

  it('rejects with the reason phrase when the error body says nothing [D1]', async () => {
    fake.reply({ kind: 'text', status: 503, body: '<html></html>', contentType: 'text/html' });
    expect(await failure(stream())).toEqual({
      name: 'UpstreamError',
      status: 503,
      detail: 'Service Unavailable',
    });
  });

  it('resolves as soon as the upstream answered, before any event arrives', async () => {
    const manual = new ManualStream();
    fake.reply({ kind: 'sse-manual', stream: manual });
    const events = (await stream())[Symbol.asyncIterator]();
    manual.send(sseFrame({ a: 1 }));
    expect(await events.next()).toEqual({ done: false, value: '{"a":1}' });
    manual.send(sseFrame('[DONE]'));
    manual.end();
    expect(await events.next()).toEqual({ done: true, value: undefined });
  });

  it('answers 504 when the upstream goes quiet between events for longer than the timeout [D6]', async () => {
    const manual = new ManualStream();
    fake.reply({ kind: 'sse-manual', stream: manual });
    const events = (await stream())[Symbol.asyncIterator]();
    manual.send(sseFrame({ a: 1 }));
    expect(await events.next()).toEqual({ done: false, value: '{"a":1}' });
    expect(await failure(events.next())).toEqual({
      name: 'UpstreamTimeoutError',
      status: 504,
      detail: 'The upstream provider did not respond within 0.5 seconds.',
    });
  });

  it('answers 502 when the upstream connection drops mid-stream', async () => {
    fake.reply({ kind: 'sse-then-drop', events: [sseFrame({ a: 1 })] });
    const events = (await stream())[Symbol.asyncIterator]();
    expect(await events.next()).toEqual({ done: false, value: '{"a":1}' });
    expect(await failure(events.next())).toEqual({
      name: 'UpstreamUnreachableError',
      status: 502,
      detail: 'Could not reach the upstream provider: the connection was closed unexpectedly',
    });
  });

  it('cuts the upstream connection when the consumer stops early', async () => {
    const manual = new ManualStream();
    fake.reply({ kind: 'sse-manual', stream: manual });
    const events = (await stream())[Symbol.asyncIterator]();
    manual.send(sseFrame({ a: 1 }));
    await events.next();
    await events.return?.();
    await fake.aborted();
    expect(fake.abortedCount).toBe(1);
  });

  it('cuts the upstream connection when the signal fires mid-stream', async () => {
    const manual = new ManualStream();
    fake.reply({ kind: 'sse-manual', stream: manual });
    const controller = new AbortController();
    const events = (await stream(controller.signal))[Symbol.asyncIterator]();
    manual.send(sseFrame({ a: 1 }));
    await events.next();
    controller.abort();
    await fake.aborted();
    await expect(events.next()).rejects.toThrow();
  });

  it('returns the connection to the pool after [DONE], so two sequential streams use one connection', async () => {
    const pool = pools.get(new URL(fake.url).origin);
    let connects = 0;
    let disconnects = 0;
    pool.on('connect', () => (connects += 1));
    pool.on('disconnect', () => (disconnects += 1));
    for (let round = 0; round < 2; round += 1) {
      const manual = new ManualStream();
      fake.reply({ kind: 'sse-manual', stream: manual });
      const events = stream();
      await manual.started();
      // [DONE] arrives before the upstream ends its response, as with a real provider.
      manual.send(sseFrame({ a: round }) + sseFrame('[DONE]'));
      expect(await collect(await events)).toEqual([`{"a":${round}}`]);
      manual.end();
      await poolIdle();
    }
    expect({ connects, disconnects }).toEqual({ connects: 1, disconnects: 0 });
  });
});
