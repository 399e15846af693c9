import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GatewayError, UpstreamError } from '../../src/errors.js';
import { PoolSet } from '../../src/upstream/pool.js';
import { relay, type RelayedResponse } from '../../src/upstream/relay.js';
import { Upstream, type UpstreamTarget } from '../../src/upstream/request.js';
import { FakeUpstream, ManualStream, sseFrame } from '../fakes/fake-upstream.js';

let fake: FakeUpstream;
let pools: PoolSet;
let upstream: Upstream;
let target: UpstreamTarget;
const headers = { 'content-type': 'application/json', 'x-api-key': 'sk-config' };

beforeEach(async () => {
  fake = await FakeUpstream.start();
  pools = new PoolSet({ connectTimeoutMs: 2000 });
  upstream = new Upstream(pools, { timeoutSeconds: 0.5, maxResponseBytes: 1024 });
  target = upstream.target(`${fake.url}/v1/messages`);
});

afterEach(async () => {
  await pools.close();
  await fake.close();
});

function send(
  body = '{"model":"m", "extra" : 1}',
  signal = new AbortController().signal,
): Promise<RelayedResponse> {
  return relay(upstream, { target, headers, body, signal });
}

async function text(body: AsyncIterable<Uint8Array>): Promise<string> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
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

/** Waits (bounded) until the pool has an idle connection to hand out again. */
async function poolIdle(): Promise<number> {
  const pool = pools.get(new URL(fake.url).origin);
  for (let attempt = 0; attempt < 200 && pool.stats.free === 0; attempt += 1) {
    await new Promise((resolve) => setImmediate(resolve));
  }
  return pool.stats.free;
}

describe('relay', () => {
  it('posts the body byte for byte with the given headers to the target path', async () => {
    fake.reply({ kind: 'json', body: { ok: true } });
    const response = await send();
    await text(response.body);
    const request = await fake.nextRequest();
    expect(request.method).toBe('POST');
    expect(request.path).toBe('/v1/messages');
    expect(request.rawBody).toBe('{"model":"m", "extra" : 1}');
    expect(request.headers['x-api-key']).toBe('sk-config');
    expect(request.headers['content-type']).toBe('application/json');
  });

  it('returns a JSON answer unchanged with the status and the relayable headers only', async () => {
    fake.reply({
      kind: 'json',
      status: 201,
      body: { id: 'msg_1', n: 1 },
      headers: { 'request-id': 'req_1', 'anthropic-ratelimit-requests-remaining': '9', 'x-secret-hop': 'no' },
    });
    const response = await send();
    expect(await text(response.body)).toBe('{"id":"msg_1","n":1}');
    expect(response.status).toBe(201);
    expect(response.isStream).toBe(false);
    expect(response.contentType).toBe('application/json');
    expect(response.headers).toEqual({
      'content-type': 'application/json',
      'request-id': 'req_1',
      'anthropic-ratelimit-requests-remaining': '9',
    });
  });

  it('relays an event stream chunk by chunk as the upstream sends it', async () => {
    const stream = new ManualStream();
    fake.reply({ kind: 'sse-manual', stream });
    const response = await send();
    expect(response.isStream).toBe(true);
    const iterator = response.body[Symbol.asyncIterator]();
    await stream.started();
    stream.send(sseFrame({ type: 'ping' }, 'ping'));
    const first = await iterator.next();
    expect(Buffer.from(first.value as Uint8Array).toString('utf8')).toBe(
      'event: ping\ndata: {"type":"ping"}\n\n',
    );
    stream.send('event: message_stop\ndata: {"type":"message_stop"}\n\n');
    stream.end();
    const rest: string[] = [];
    for (let next = await iterator.next(); next.done !== true; next = await iterator.next()) {
      rest.push(Buffer.from(next.value).toString('utf8'));
    }
    expect(rest.join('')).toBe('event: message_stop\ndata: {"type":"message_stop"}\n\n');
    expect(await poolIdle()).toBe(1);
  });

  it('throws an UpstreamError whose detail is the provider JSON error body', async () => {
    const body = { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } };
    fake.reply({ kind: 'json', status: 529, body });
    expect(await failure(send())).toEqual({ name: 'UpstreamError', status: 529, detail: body });
    expect(await poolIdle()).toBe(1);
  });

  it('keeps the retry-after header of an error for routing', async () => {
    fake.reply({ kind: 'json', status: 429, body: { error: 'slow down' }, headers: { 'retry-after': '3' } });
    const error = await send().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UpstreamError);
    expect((error as UpstreamError).retryAfter).toBe('3');
  });

  it('gives a non-JSON error body as text and an empty one as the reason phrase', async () => {
    fake.reply({ kind: 'text', status: 502, body: '<html>bad gateway</html>', contentType: 'text/html' });
    expect(await failure(send())).toEqual({
      name: 'UpstreamError',
      status: 502,
      detail: '<html>bad gateway</html>',
    });
    fake.reply({ kind: 'text', status: 503, body: '' });
    expect(await failure(send())).toEqual({
      name: 'UpstreamError',
      status: 503,
      detail: 'Service Unavailable',
    });
  });

  it('cuts a non-stream answer larger than the size cap', async () => {
    fake.reply({
      kind: 'bytes',
      contentType: 'application/json',
      chunks: [new Uint8Array(600), new Uint8Array(600)],
    });
    const response = await send();
    expect(await failure(text(response.body))).toEqual({
      name: 'UpstreamProtocolError',
      status: 502,
      detail:
        'The upstream response is larger than the limit of 1024 bytes (LLMGW_MAX_UPSTREAM_RESPONSE_BYTES).',
    });
  });

  it('does not cap a stream as a whole', async () => {
    const frame = `data: ${'x'.repeat(500)}\n\n`;
    fake.reply({ kind: 'sse', events: [frame, frame, frame] });
    const response = await send();
    expect(await text(response.body)).toBe(frame.repeat(3));
  });

  it('times out an upstream that never answers', async () => {
    fake.reply({ kind: 'hang' });
    expect(await failure(send())).toEqual({
      name: 'UpstreamTimeoutError',
      status: 504,
      detail: 'The upstream provider did not respond within 0.5 seconds.',
    });
  });

  it('bounds a non-stream answer as a whole, so a trickling body is cut', async () => {
    fake.reply({ kind: 'trickle', contentType: 'application/json', chunk: ' ', intervalMs: 50 });
    const response = await send();
    expect(await failure(text(response.body))).toMatchObject({ name: 'UpstreamTimeoutError', status: 504 });
  });

  it('reports an unreachable upstream as 502', async () => {
    const closed = upstream.target('http://127.0.0.1:1/v1/messages');
    const error = await failure(
      relay(upstream, { target: closed, headers, body: '{}', signal: new AbortController().signal }),
    );
    expect(error).toMatchObject({ name: 'UpstreamUnreachableError', status: 502 });
  });

  it('reports a stream cut mid-way as a lost connection', async () => {
    fake.reply({ kind: 'sse-then-drop', events: [sseFrame({ type: 'ping' }, 'ping')] });
    const response = await send();
    expect(await failure(text(response.body))).toEqual({
      name: 'UpstreamConnectionLostError',
      status: 502,
      detail: 'The upstream provider closed the connection mid-stream.',
    });
  });

  it('aborts the upstream call when the client goes away', async () => {
    const controller = new AbortController();
    const stream = new ManualStream();
    fake.reply({ kind: 'sse-manual', stream });
    const response = await send(undefined, controller.signal);
    const iterator = response.body[Symbol.asyncIterator]();
    const pending = failure(iterator.next());
    controller.abort();
    await fake.aborted();
    expect(await pending).toMatchObject({ name: 'ClientClosedRequestError', status: 499 });
  });

  it('closes the upstream connection of a body that is returned before it is read', async () => {
    const stream = new ManualStream();
    fake.reply({ kind: 'sse-manual', stream });
    const response = await send();
    await response.body[Symbol.asyncIterator]().return?.();
    await fake.aborted();
    expect(fake.abortedCount).toBe(1);
  });
});
