import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GatewayError, UpstreamError } from '../../src/errors.js';
import { Cancellation } from '../../src/upstream/cancellation.js';
import { PoolSet } from '../../src/upstream/pool.js';
import {
  DEFAULT_MAX_RESPONSE_BYTES,
  jsonHeaders,
  JsonText,
  maxResponseBytesFromEnv,
  Upstream,
  type UpstreamTarget,
} from '../../src/upstream/request.js';
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

describe('maxResponseBytesFromEnv', () => {
  it('defaults to 32 MiB', () => {
    expect(maxResponseBytesFromEnv({})).toBe(DEFAULT_MAX_RESPONSE_BYTES);
    expect(DEFAULT_MAX_RESPONSE_BYTES).toBe(33_554_432);
  });

  it('reads LLMGW_MAX_UPSTREAM_RESPONSE_BYTES', () => {
    expect(maxResponseBytesFromEnv({ LLMGW_MAX_UPSTREAM_RESPONSE_BYTES: '1048576' })).toBe(1_048_576);
  });

  it.each(['0', '-1', '1.5', 'lots'])('rejects %j naming the variable', (raw) => {
    expect(() => maxResponseBytesFromEnv({ LLMGW_MAX_UPSTREAM_RESPONSE_BYTES: raw })).toThrow(
      `LLMGW_MAX_UPSTREAM_RESPONSE_BYTES must be a positive whole number of bytes, got '${raw}'.`,
    );
  });
});

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

  it('sends a body an adapter encoded itself (JsonText) as it is, not encoded again', async () => {
    fake.reply({ kind: 'json', body: { ok: true } });
    const text = '{"model":"m",  "messages":[]}';
    expect(
      await upstream.postJson(target, headers, new JsonText(text), new AbortController().signal),
    ).toEqual({
      ok: true,
    });
    expect((await fake.nextRequest()).rawBody).toBe(text);
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

  it('answers 502 for a 2xx HTML body', async () => {
    fake.reply({ kind: 'text', status: 200, body: '<html></html>', contentType: 'text/html' });
    expect(await failure(post())).toEqual({
      name: 'UpstreamProtocolError',
      status: 502,
      detail:
        'The returned data type from the route service is not supported. Received content type: text/html',
    });
  });

  it.each([
    ['an HTML page', 503, 'text/html', '<html>down</html>', '<html>down</html>'],
    ['JSON that does not parse', 500, 'application/json', '{"error": {', '{"error": {'],
    ['an empty JSON body', 502, 'application/json', '', 'Bad Gateway'],
    ['an empty body without content type', 401, null, '', 'Unauthorized'],
    ['text without content type', 400, null, 'bad input', 'bad input'],
  ])(
    'keeps the upstream status of an error with %s, passing on its text (hardening item 8)',
    async (_name, status, contentType, body, detail) => {
      fake.reply({ kind: 'text', status, body, contentType });
      expect(await failure(post())).toEqual({ name: 'UpstreamError', status, detail });
    },
  );

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

  it('aborts the upstream request when the signal fires, as a client-gone 499', async () => {
    fake.reply({ kind: 'hang' });
    const controller = new AbortController();
    const rejected = failure(upstream.postJson(target, headers, {}, controller.signal));
    await fake.nextRequest();
    controller.abort();
    await fake.aborted();
    expect(await rejected).toEqual({
      name: 'ClientClosedRequestError',
      status: 499,
      detail: 'The client closed the request before the response was ready.',
    });
  });

  it("aborts the upstream request when the caller's cancellation fires, without ever making its signal", async () => {
    fake.reply({ kind: 'hang' });
    const cancellation = new Cancellation();
    const caller = {
      cancellation,
      get signal(): AbortSignal {
        throw new Error('a call with a cancellation must not read its signal');
      },
    };
    const rejected = failure(upstream.postJson(target, headers, {}, caller));
    await fake.nextRequest();
    cancellation.cancel();
    await fake.aborted();
    expect(await rejected).toEqual({
      name: 'ClientClosedRequestError',
      status: 499,
      detail: 'The client closed the request before the response was ready.',
    });
  });

  it('does not call an upstream for a caller already cancelled', async () => {
    const cancellation = new Cancellation();
    cancellation.cancel();
    const caller = { cancellation, signal: cancellation.signal };
    expect((await failure(upstream.postJson(target, headers, {}, caller))).name).toBe(
      'ClientClosedRequestError',
    );
    expect(fake.requests).toEqual([]);
  });

  it('answers 504 when the body trickles in for longer than the timeout, however short its gaps (hardening item 1)', async () => {
    fake.reply({ kind: 'trickle', contentType: 'application/json', chunk: ' ', intervalMs: 50 });
    expect(await failure(post())).toEqual({
      name: 'UpstreamTimeoutError',
      status: 504,
      detail: 'The upstream provider did not respond within 0.5 seconds.',
    });
    await fake.aborted();
  });

  it('answers 502 naming the limit for a body larger than the cap, counted as it arrives', async () => {
    const small = new Upstream(pools, { timeoutSeconds: 5, maxResponseBytes: 1000 });
    const chunk = new TextEncoder().encode(' '.repeat(400));
    fake.reply({ kind: 'bytes', contentType: 'application/json', chunks: [chunk, chunk, chunk] });
    expect(await failure(small.postJson(target, headers, {}, new AbortController().signal))).toEqual({
      name: 'UpstreamProtocolError',
      status: 502,
      detail:
        'The upstream response is larger than the limit of 1000 bytes (LLMGW_MAX_UPSTREAM_RESPONSE_BYTES).',
    });
  });

  it('answers 502 naming the limit at once when Content-Length declares a body over the cap', async () => {
    const small = new Upstream(pools, { timeoutSeconds: 5, maxResponseBytes: 1000 });
    fake.reply({
      kind: 'raw',
      data: 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{"a":',
    });
    expect((await failure(small.postJson(target, headers, {}, new AbortController().signal))).detail).toBe(
      'The upstream response is larger than the limit of 1000 bytes (LLMGW_MAX_UPSTREAM_RESPONSE_BYTES).',
    );
  });

  it('accepts a body of exactly the cap', async () => {
    const small = new Upstream(pools, { timeoutSeconds: 5, maxResponseBytes: 12 });
    fake.reply({ kind: 'json', body: { ok: 'yes' } });
    expect(await small.postJson(target, headers, {}, new AbortController().signal)).toEqual({ ok: 'yes' });
  });

  it('answers 502 saying the upstream closed the connection before answering', async () => {
    fake.reply({ kind: 'raw', data: '' });
    expect(await failure(post())).toEqual({
      name: 'UpstreamUnreachableError',
      status: 502,
      detail:
        'Could not reach the upstream provider: the connection was closed before the upstream answered (other side closed)',
    });
  });

  it('answers 502 saying the response was cut when the connection drops inside the body', async () => {
    const half = new TextEncoder().encode('{"id":"chatcmpl-1",');
    fake.reply({ kind: 'bytes', contentType: 'application/json', chunks: [half], ending: 'drop' });
    expect(await failure(post())).toEqual({
      name: 'UpstreamConnectionLostError',
      status: 502,
      detail: 'The upstream provider closed the connection before its response was complete.',
    });
  });

  it('answers 502 when the upstream sends garbage instead of HTTP', async () => {
    fake.reply({ kind: 'raw', data: 'SSH-2.0-OpenSSH_9.6\r\n\r\n' });
    expect(await failure(post())).toEqual({
      name: 'UpstreamProtocolError',
      status: 502,
      detail:
        'The upstream provider sent a response that is not valid HTTP: Response does not match the HTTP/1.1 protocol (Expected HTTP/, RTSP/ or ICE/)',
    });
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

  it('rejects with the reason phrase when the error body is empty [D1]', async () => {
    fake.reply({ kind: 'text', status: 503, body: '', contentType: 'application/json' });
    expect(await failure(stream())).toEqual({
      name: 'UpstreamError',
      status: 503,
      detail: 'Service Unavailable',
    });
  });

  it('rejects with the upstream status and its text when the error body is not JSON (hardening item 8)', async () => {
    fake.reply({ kind: 'text', status: 502, body: '<html>bad gateway</html>', contentType: 'text/html' });
    expect(await failure(stream())).toEqual({
      name: 'UpstreamError',
      status: 502,
      detail: '<html>bad gateway</html>',
    });
  });

  it.each([
    ['a JSON body (an upstream that ignored stream)', 'application/json', '{"id":"chatcmpl-1"}'],
    ['an HTML page from a proxy', 'text/html', '<html>login</html>'],
  ])(
    'rejects a 2xx with %s with 502 naming the content type, and reuses the connection',
    async (_name, contentType, body) => {
      const pool = pools.get(new URL(fake.url).origin);
      let connects = 0;
      pool.on('connect', () => (connects += 1));
      fake.reply({ kind: 'text', status: 200, body, contentType });
      expect(await failure(stream())).toEqual({
        name: 'UpstreamProtocolError',
        status: 502,
        detail: `The upstream provider answered a streaming request with content type ${contentType} instead of text/event-stream.`,
      });
      await poolIdle();
      fake.reply({ kind: 'json', body: { ok: true } });
      await post();
      expect(connects).toBe(1);
    },
  );

  it('is not cut by the timeout while events keep coming, however long the stream lasts [D6]', async () => {
    fake.reply({
      kind: 'trickle',
      contentType: 'text/event-stream',
      chunk: sseFrame({ a: 1 }),
      intervalMs: 50,
    });
    const events = (await stream())[Symbol.asyncIterator]();
    // 15 events at 50 ms apart take longer than the 0.5 s timeout.
    for (let index = 0; index < 15; index += 1) {
      expect(await events.next()).toEqual({ done: false, value: '{"a":1}' });
    }
    await events.return?.();
  });

  it('fails mid-stream naming the limit when one event is larger than the cap', async () => {
    const small = new Upstream(pools, { timeoutSeconds: 5, maxResponseBytes: 100 });
    fake.reply({ kind: 'sse', events: [sseFrame({ a: 1 }), sseFrame({ text: 'x'.repeat(200) })] });
    const events = (await small.postStream(target, headers, {}, new AbortController().signal))[
      Symbol.asyncIterator
    ]();
    expect(await events.next()).toEqual({ done: false, value: '{"a":1}' });
    expect(await failure(events.next())).toEqual({
      name: 'UpstreamProtocolError',
      status: 502,
      detail:
        'An upstream stream event is larger than the limit of 100 bytes (LLMGW_MAX_UPSTREAM_RESPONSE_BYTES).',
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

  it('answers 502 saying the upstream closed the connection mid-stream when it drops', async () => {
    fake.reply({ kind: 'sse-then-drop', events: [sseFrame({ a: 1 })] });
    const events = (await stream())[Symbol.asyncIterator]();
    expect(await events.next()).toEqual({ done: false, value: '{"a":1}' });
    expect(await failure(events.next())).toEqual({
      name: 'UpstreamConnectionLostError',
      status: 502,
      detail: 'The upstream provider closed the connection mid-stream.',
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

describe("the upstream's Retry-After", () => {
  async function retryAfterOf(promise: Promise<unknown>): Promise<string | null> {
    const error: unknown = await promise.then(
      () => null,
      (rejection: unknown) => rejection,
    );
    if (!(error instanceof UpstreamError)) throw new Error('expected an UpstreamError');
    return error.retryAfter;
  }

  it('is kept on the error of a unary call', async () => {
    fake.reply({
      kind: 'json',
      status: 429,
      body: { error: { message: 'slow' } },
      headers: { 'retry-after': '7' },
    });
    expect(await retryAfterOf(post())).toBe('7');
  });

  it('is kept on the error of a stream that fails before it starts', async () => {
    fake.reply({
      kind: 'json',
      status: 503,
      body: { error: { message: 'down' } },
      headers: { 'retry-after': '3' },
    });
    expect(await retryAfterOf(upstream.postStream(target, headers, {}, new AbortController().signal))).toBe(
      '3',
    );
  });

  it('is null when the upstream sent none', async () => {
    fake.reply({ kind: 'json', status: 503, body: { error: { message: 'down' } } });
    expect(await retryAfterOf(post())).toBeNull();
  });
});

describe('postEventStream', () => {
  it("yields each event's name beside its data and stops at [DONE]", async () => {
    fake.reply({
      kind: 'sse',
      events: [sseFrame({ type: 'ping' }, 'ping'), sseFrame({ n: 1 }), sseFrame('[DONE]')],
    });
    const events = await upstream.postEventStream(target, headers, {}, new AbortController().signal);
    const all: unknown[] = [];
    for await (const event of events) all.push(event);
    expect(all).toEqual([
      { event: 'ping', data: '{"type":"ping"}' },
      { event: undefined, data: '{"n":1}' },
    ]);
  });
});
