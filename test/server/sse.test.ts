import { once } from 'node:events';
import Fastify, { type FastifyInstance } from 'fastify';
import { Agent, fetch } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { UpstreamError, UpstreamTimeoutError } from '../../src/errors.js';
import { streamToClient, type StreamChunk } from '../../src/server/sse.js';
import { FakeUpstream, ManualStream, sseFrame } from '../fakes/fake-upstream.js';
import { chatChunks, chatStreamFrames, gatewayChatChunks } from '../fakes/openai.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { openAiChatYaml } from '../helpers/openai-endpoint.js';

const HI = [{ role: 'user', content: 'hi' }];
/** The tests' own client sockets, destroyed before the servers close so no keep-alive lingers. */
let agent: Agent;
const decoder = new TextDecoder();

/** Reads an SSE response event by event, as the bytes arrive. */
class EventReader {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  #buffer = '';

  constructor(response: { body: ReadableStream<Uint8Array> | null }) {
    if (!response.body) throw new Error('no body');
    this.#reader = response.body.getReader();
  }

  /** The next whole `data: …\n\n` frame, or null at the end of the body. */
  async next(): Promise<string | null> {
    for (;;) {
      const end = this.#buffer.indexOf('\n\n');
      if (end !== -1) {
        const frame = this.#buffer.slice(0, end + 2);
        this.#buffer = this.#buffer.slice(end + 2);
        return frame;
      }
      const { done, value } = await this.#reader.read();
      if (done) {
        if (this.#buffer !== '') throw new Error(`truncated frame: ${this.#buffer}`);
        return null;
      }
      this.#buffer += decoder.decode(value, { stream: true });
    }
  }

  async cancel(): Promise<void> {
    await this.#reader.cancel();
  }
}

async function* asAsync(
  items: Iterable<StreamChunk> | AsyncIterable<StreamChunk>,
): AsyncGenerator<StreamChunk> {
  for await (const item of items) yield item;
}

function frame(chunk: unknown): string {
  return `data: ${JSON.stringify(chunk)}\n\n`;
}

function errorFrame(message: string, type: string): string {
  return `data: {"error": {"message": ${JSON.stringify(message)}, "type": ${JSON.stringify(type)}}}\n\n`;
}

/** A chunk the gateway streams: `finish` set marks the last one. */
function chunk(id: string, finish: string | null = null) {
  return { id, choices: [{ index: 0, finish_reason: finish }] };
}

const SECRET = 'sk-secret-0123456789';

describe('streamToClient (reference §5.5)', () => {
  let app: FastifyInstance;
  let source: () => Iterable<StreamChunk> | AsyncIterable<StreamChunk>;
  let endWithDone = false;
  let hasTerminated = false;
  let unexpected: unknown[];
  let finished: Promise<void>;
  let socketClosed: Promise<void>;

  beforeAll(async () => {
    agent = new Agent();
    app = Fastify();
    app.post('/stream', async (_request, reply) => {
      let done!: () => void;
      finished = new Promise((resolve) => (done = resolve));
      socketClosed = once(reply.raw, 'close').then(() => undefined);
      await streamToClient(reply, asAsync(source()), {
        onUnexpected: (error) => unexpected.push(error),
        scrub: (text) => text.replaceAll(SECRET, '[redacted]'),
        endWithDone,
        hasUpstreamTerminated: () => hasTerminated,
      });
      done();
      return reply;
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
  });

  afterAll(async () => {
    await agent.destroy();
    await app.close();
  });

  function url(): string {
    const address = app.server.address();
    if (address === null || typeof address === 'string') throw new Error('not listening');
    return `http://127.0.0.1:${address.port}/stream`;
  }

  afterEach(() => {
    unexpected = [];
    endWithDone = false;
    hasTerminated = false;
  });
  unexpected = [];

  it('answers 200 text/event-stream with no cache or other special headers', async () => {
    source = function* () {
      yield chunk('c1', 'stop');
    };
    const response = await fetch(url(), { method: 'POST', dispatcher: agent });
    await response.text();
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(response.headers.get('cache-control')).toBeNull();
    expect(response.headers.get('transfer-encoding')).toBe('chunked');
  });

  it('sends the status and headers before a first chunk that is slow to come', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    source = async function* () {
      await gate;
      yield chunk('c1', 'stop');
    };
    // fetch resolves at the headers: it would wait for ever if they waited for the first chunk.
    const response = await fetch(url(), { method: 'POST', dispatcher: agent });
    expect(response.status).toBe(200);
    release();
    expect(await response.text()).toBe(frame(chunk('c1', 'stop')));
  });

  it('writes each chunk as one compact data event and ends without [DONE]', async () => {
    source = function* () {
      yield { id: 'c1', text: 'héllo 你好', n: null, choices: [{ index: 0, finish_reason: null }] };
      yield chunk('c2', 'stop');
    };
    const response = await fetch(url(), { method: 'POST', dispatcher: agent });
    expect(await response.text()).toBe(
      'data: {"id":"c1","text":"héllo 你好","n":null,"choices":[{"index":0,"finish_reason":null}]}\n\n' +
        frame(chunk('c2', 'stop')),
    );
  });

  it('ends a finished stream with data: [DONE] when asked, as OpenAI does', async () => {
    endWithDone = true;
    source = function* () {
      yield chunk('c1');
      yield chunk('c2', 'stop');
      // OpenAI's usage chunk comes after the finish reason, with no choices.
      yield { id: 'c3', choices: [] };
    };
    const response = await fetch(url(), { method: 'POST', dispatcher: agent });
    expect(await response.text()).toBe(
      frame(chunk('c1')) + frame(chunk('c2', 'stop')) + frame({ id: 'c3', choices: [] }) + 'data: [DONE]\n\n',
    );
  });

  it('ends a stream that stops before any finish reason with an error event, not silently (hardening item 6)', async () => {
    source = function* () {
      yield chunk('c1');
    };
    const response = await fetch(url(), { method: 'POST', dispatcher: agent });
    expect(await response.text()).toBe(
      frame(chunk('c1')) +
        errorFrame(
          'The upstream provider ended the stream early, before its final chunk.',
          'UpstreamProtocolError',
        ),
    );
  });

  it('treats a stream whose upstream sent its terminator as finished, finish reason or not', async () => {
    endWithDone = true;
    hasTerminated = true;
    source = function* () {
      yield chunk('c1');
    };
    const response = await fetch(url(), { method: 'POST', dispatcher: agent });
    expect(await response.text()).toBe(frame(chunk('c1')) + 'data: [DONE]\n\n');
  });

  it('does not take a terminator with no chunk before it for a finished stream', async () => {
    hasTerminated = true;
    source = function* () {
      yield* [];
    };
    const response = await fetch(url(), { method: 'POST', dispatcher: agent });
    expect(await response.text()).toBe(
      errorFrame(
        'The upstream provider ended the stream early, before its final chunk.',
        'UpstreamProtocolError',
      ),
    );
  });

  it('sends no [DONE] after an error event, even when asked', async () => {
    endWithDone = true;
    source = function* () {
      yield chunk('c1');
      throw new UpstreamTimeoutError(5);
    };
    const response = await fetch(url(), { method: 'POST', dispatcher: agent });
    expect(await response.text()).toBe(
      frame(chunk('c1')) +
        errorFrame('The upstream provider did not respond within 5 seconds.', 'UpstreamTimeoutError'),
    );
  });

  it('writes a gateway error after the first byte as one last error event, then ends (reference [D2])', async () => {
    source = function* () {
      yield chunk('c1');
      throw new UpstreamTimeoutError(5);
    };
    const response = await fetch(url(), { method: 'POST', dispatcher: agent });
    expect(await response.text()).toBe(
      frame(chunk('c1')) +
        errorFrame('The upstream provider did not respond within 5 seconds.', 'UpstreamTimeoutError'),
    );
    expect(unexpected).toEqual([]);
  });

  it('removes the endpoint secrets from an upstream error message in the error event (hardening item 4)', async () => {
    source = function* () {
      yield chunk('c1');
      throw new UpstreamError(502, `Invalid key ${SECRET} for this model`);
    };
    const response = await fetch(url(), { method: 'POST', dispatcher: agent });
    expect(await response.text()).toBe(
      frame(chunk('c1')) + errorFrame('Invalid key [redacted] for this model', 'UpstreamError'),
    );
  });

  it('writes an unknown error as a fixed internal error event and reports it for the log', async () => {
    const boom = new TypeError('secret internals');
    source = function* () {
      yield chunk('c1');
      throw boom;
    };
    const response = await fetch(url(), { method: 'POST', dispatcher: agent });
    expect(await response.text()).toBe(
      frame(chunk('c1')) + errorFrame('Internal Server Error', 'InternalError'),
    );
    expect(unexpected).toEqual([boom]);
  });

  it('stops pulling chunks and closes the source when the client goes away', async () => {
    let isClosed = false;
    let pulled = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    source = async function* () {
      try {
        pulled += 1;
        yield chunk('c1');
        await gate;
        for (;;) {
          pulled += 1;
          yield chunk(`c${pulled}`);
        }
      } finally {
        isClosed = true;
      }
    };
    const response = await fetch(url(), { method: 'POST', dispatcher: agent });
    const reader = new EventReader(response);
    expect(await reader.next()).toBe(frame(chunk('c1')));
    await reader.cancel();
    await socketClosed;
    release();
    await finished;
    expect({ isClosed, pulled }).toEqual({ isClosed: true, pulled: 2 });
  });
});

describe('streaming through the gateway', () => {
  let fake: FakeUpstream;
  /** Its timeout is far beyond the test timeout, so only a client disconnect can abort upstream. */
  let gateway: TestGateway;
  let quickGateway: TestGateway;

  function yaml(): string {
    return openAiChatYaml(['openai_api_key: sk-test-4f7a2c91', `openai_api_base: ${fake.url}/v1`]);
  }

  beforeAll(async () => {
    agent = new Agent();
    fake = await FakeUpstream.start();
    gateway = await startTestGateway(yaml(), { timeoutSeconds: 60 });
    quickGateway = await startTestGateway(yaml(), { timeoutSeconds: 0.5 });
  });

  afterAll(async () => {
    await agent.destroy();
    await gateway.close();
    await quickGateway.close();
    await fake.close();
  });

  function startStream(
    path = '/endpoints/chat/invocations',
    body: object = { messages: HI, stream: true },
    options: { signal?: AbortSignal; target?: TestGateway } = {},
  ) {
    return fetch(`${(options.target ?? gateway).url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      dispatcher: agent,
      ...(options.signal ? { signal: options.signal } : {}),
    });
  }

  it('delivers each chunk to the client before the upstream sends the next one', async () => {
    const manual = new ManualStream();
    fake.reply({ kind: 'sse-manual', stream: manual });
    const pending = startStream();
    await manual.started();
    manual.send(sseFrame(chatChunks[0]));
    const response = await pending;
    const reader = new EventReader(response);
    expect(await reader.next()).toBe(frame(gatewayChatChunks[0]));
    manual.send(sseFrame(chatChunks[1]));
    expect(await reader.next()).toBe(frame(gatewayChatChunks[1]));
    manual.send(sseFrame(chatChunks[2]) + sseFrame('[DONE]'));
    expect(await reader.next()).toBe(frame(gatewayChatChunks[2]));
    manual.end();
    expect(await reader.next()).toBeNull();
    await fake.nextRequest();
  });

  it('ends the client stream at [DONE] even while the upstream keeps its response open', async () => {
    const manual = new ManualStream();
    fake.reply({ kind: 'sse-manual', stream: manual });
    const pending = startStream();
    await manual.started();
    manual.send(sseFrame(chatChunks[2]) + sseFrame('[DONE]'));
    const response = await pending;
    expect(await response.text()).toBe(frame(gatewayChatChunks[2]));
    manual.end();
    await fake.nextRequest();
  });

  it('sends one chunk, then an error event, then ends when the upstream breaks mid-stream (item 81)', async () => {
    fake.reply({ kind: 'sse-then-drop', events: [sseFrame(chatChunks[1])] });
    const response = await startStream();
    expect(response.status).toBe(200);
    expect(await response.text()).toBe(
      frame(gatewayChatChunks[1]) +
        errorFrame('The upstream provider closed the connection mid-stream.', 'UpstreamConnectionLostError'),
    );
    await fake.nextRequest();
  });

  it('ends with a timeout error event when the upstream goes quiet mid-stream (reference [D6])', async () => {
    const manual = new ManualStream();
    fake.reply({ kind: 'sse-manual', stream: manual });
    const pending = startStream(undefined, undefined, { target: quickGateway });
    await manual.started();
    manual.send(sseFrame(chatChunks[1]));
    const response = await pending;
    expect(await response.text()).toBe(
      frame(gatewayChatChunks[1]) +
        errorFrame('The upstream provider did not respond within 0.5 seconds.', 'UpstreamTimeoutError'),
    );
    await fake.nextRequest();
  });

  it('ends with a protocol error event when an upstream event is not JSON', async () => {
    fake.reply({
      kind: 'sse',
      events: [sseFrame(chatChunks[1]), 'data: {not json\n\n', sseFrame(chatChunks[2])],
    });
    const response = await startStream();
    expect(await response.text()).toBe(
      frame(gatewayChatChunks[1]) +
        errorFrame('Malformed stream event from OpenAI: not JSON', 'UpstreamProtocolError'),
    );
    await fake.nextRequest();
  });

  it('ends with a protocol error event when an upstream chunk lacks a required field', async () => {
    const { created: _created, ...withoutCreated } = chatChunks[1];
    fake.reply({ kind: 'sse', events: [sseFrame(withoutCreated)] });
    const response = await startStream();
    expect(await response.text()).toBe(
      errorFrame('Malformed response from OpenAI: missing created', 'UpstreamProtocolError'),
    );
    await fake.nextRequest();
  });

  it('aborts the upstream request when the client disconnects mid-stream', async () => {
    const manual = new ManualStream();
    fake.reply({ kind: 'sse-manual', stream: manual });
    const pending = startStream();
    await manual.started();
    manual.send(sseFrame(chatChunks[0]));
    const reader = new EventReader(await pending);
    expect(await reader.next()).toBe(frame(gatewayChatChunks[0]));
    const aborted = fake.aborted();
    await reader.cancel();
    await aborted;
    await fake.nextRequest();
  });

  it('aborts the upstream request when the client disconnects before the upstream answers', async () => {
    fake.reply({ kind: 'hang' });
    const controller = new AbortController();
    const rejected = expect(startStream(undefined, undefined, { signal: controller.signal })).rejects.toThrow(
      'This operation was aborted',
    );
    await fake.nextRequest();
    const aborted = fake.aborted();
    controller.abort();
    await aborted;
    await rejected;
  });

  it('answers a pre-stream failure on /v1 in the OpenAI error shape, not as a stream', async () => {
    fake.reply({ kind: 'json', status: 401, body: { error: { message: 'bad key' } } });
    const response = await startStream('/v1/chat/completions', { model: 'chat', messages: HI, stream: true });
    expect(response.status).toBe(401);
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await response.json()).toEqual({
      error: { message: 'bad key', type: 'authentication_error', param: null, code: 'upstream_error' },
    });
    await fake.nextRequest();
  });

  it('ends a /v1 stream with data: [DONE] after its last chunk, as OpenAI does (hardening item 7)', async () => {
    fake.reply({ kind: 'sse', events: chatStreamFrames() });
    const response = await startStream('/v1/chat/completions', { model: 'chat', messages: HI, stream: true });
    expect(await response.text()).toBe(gatewayChatChunks.map(frame).join('') + 'data: [DONE]\n\n');
    await fake.nextRequest();
  });

  it('ends a stream whose upstream sent [DONE] without any finish reason normally', async () => {
    fake.reply({ kind: 'sse', events: [sseFrame(chatChunks[1]), sseFrame('[DONE]')] });
    const response = await startStream();
    expect(await response.text()).toBe(frame(gatewayChatChunks[1]));
    await fake.nextRequest();
  });

  it('ends an upstream stream that stops without [DONE] or a finish reason with an error event', async () => {
    fake.reply({ kind: 'sse', events: [sseFrame(chatChunks[0]), sseFrame(chatChunks[1])] });
    const response = await startStream();
    expect(await response.text()).toBe(
      frame(gatewayChatChunks[0]) +
        frame(gatewayChatChunks[1]) +
        errorFrame(
          'The upstream provider ended the stream early, before its final chunk.',
          'UpstreamProtocolError',
        ),
    );
    await fake.nextRequest();
  });

  it('answers a 2xx JSON body to a stream request with 502 JSON before any stream (hardening item 3)', async () => {
    fake.reply({ kind: 'json', body: { id: 'chatcmpl-1', object: 'chat.completion' } });
    const response = await startStream();
    expect(response.status).toBe(502);
    expect(await response.json()).toEqual({
      detail:
        'The upstream provider answered a streaming request with content type application/json instead of text/event-stream.',
    });
    await fake.nextRequest();
  });

  it('removes the endpoint key from an upstream error that echoes it, before a stream (hardening item 4)', async () => {
    fake.reply({
      kind: 'json',
      status: 401,
      body: { error: { message: 'Incorrect API key provided: sk-test-4f7a2c91.' } },
    });
    const response = await startStream();
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ detail: 'Incorrect API key provided: [redacted].' });
    await fake.nextRequest();
  });

  it('removes the endpoint key from a unary upstream error body that echoes it (hardening item 4)', async () => {
    fake.reply({
      kind: 'json',
      status: 400,
      body: { detail: 'bad', echo: { key: 'Bearer sk-test-4f7a2c91' } },
    });
    const response = await startStream(undefined, { messages: HI });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ detail: { detail: 'bad', echo: { key: 'Bearer [redacted]' } } });
    await fake.nextRequest();
  });
});
