import fc from 'fast-check';
import OpenAI, { type APIError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeUpstream, sseFrame } from '../fakes/fake-upstream.js';
import { chatChunks, chatStreamFrames, gatewayChatChunks } from '../fakes/openai.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { postJson } from '../helpers/http.js';
import { openAiChatYaml } from '../helpers/openai-endpoint.js';

// Hardening items 5–7: faulty upstreams, seen by a raw reader and by the official openai SDK.

const HI = [{ role: 'user' as const, content: 'hi' }];
const encoder = new TextEncoder();
let fake: FakeUpstream;
let gateway: TestGateway;
let client: OpenAI;

beforeAll(async () => {
  fake = await FakeUpstream.start();
  gateway = await startTestGateway(
    openAiChatYaml(['openai_api_key: sk-test-4f7a2c91', `openai_api_base: ${fake.url}/v1`]),
    { timeoutSeconds: 0.5 },
  );
  client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'unused', maxRetries: 0 });
});

afterAll(async () => {
  await gateway.close();
  await fake.close();
});

const DONE = sseFrame('[DONE]');
const { created: _created, ...chunkWithoutCreated } = chatChunks[1];

/** One piece of what a faulty upstream may send. */
const piece = fc.oneof(
  fc.constant(sseFrame(chatChunks[0])),
  fc.constant(sseFrame(chatChunks[1])),
  fc.constant(sseFrame(chatChunks[2])),
  fc.constant(DONE),
  fc.constant(': keep-alive\n\n'),
  fc.constant('data: {not json\n\n'),
  fc.constant('garbage without a colon\n\n'),
  fc.constant(sseFrame(chunkWithoutCreated)),
  // A frame cut anywhere: the connection or the upstream gave up in the middle of an event.
  fc.nat({ max: 200 }).map((cut) => sseFrame(chatChunks[1]).slice(0, cut)),
  fc.string({ maxLength: 20 }),
);

const faultyStream = fc.record({
  pieces: fc.array(piece, { maxLength: 8 }),
  ending: fc.constantFrom<'end' | 'drop'>('end', 'drop'),
  isOpenAiRoute: fc.boolean(),
});

const ERROR_EVENT = /^data: \{"error": \{"message": ".*", "type": "\w+"\}\}$/;

/** A chunk frame the gateway wrote whose choice says why it finished. */
function isFinalChunk(frame: string): boolean {
  if (!frame.startsWith('data: {"id"')) return false;
  const chunk = JSON.parse(frame.slice('data: '.length)) as { choices: { finish_reason: string | null }[] };
  return chunk.choices.some((choice) => choice.finish_reason !== null);
}

describe('a stream from a faulty upstream (hardening item 6)', () => {
  it('always ends with a final chunk (and [DONE] on /v1) or with one error event, never silently', async () => {
    await fc.assert(
      fc.asyncProperty(faultyStream, async ({ pieces, ending, isOpenAiRoute }) => {
        fake.reply({
          kind: 'bytes',
          contentType: 'text/event-stream',
          chunks: pieces.map((text) => encoder.encode(text)),
          ending,
        });
        const response = isOpenAiRoute
          ? await postJson(`${gateway.url}/v1/chat/completions`, {
              model: 'chat',
              messages: HI,
              stream: true,
            })
          : await postJson(`${gateway.url}/endpoints/chat/invocations`, { messages: HI, stream: true });
        const text = await response.text();
        await fake.nextRequest();
        if (response.status !== 200) {
          // The connection dropped before the upstream's headers arrived: an error, not a stream.
          expect({ status: response.status, type: response.headers.get('content-type') }).toEqual({
            status: 502,
            type: 'application/json; charset=utf-8',
          });
          return;
        }
        expect(text.endsWith('\n\n')).toBe(true);
        const frames = text.slice(0, -2).split('\n\n');
        const last = frames.at(-1) ?? '';
        const body = frames.slice(0, -1);
        // Finished means a chunk said why, or the upstream sent its own terminator after some chunks.
        const hasChunks = frames.some((frame) => frame.startsWith('data: {"id"'));
        const isFinished = frames.some(isFinalChunk) || (hasChunks && pieces.includes(DONE));
        if (ERROR_EVENT.test(last)) {
          expect(body.every((frame) => frame.startsWith('data: {"id"'))).toBe(true);
        } else if (isOpenAiRoute) {
          expect({ last, isFinished }).toEqual({ last: 'data: [DONE]', isFinished: true });
        } else {
          expect({ isFinished, hasDone: frames.includes('data: [DONE]') }).toEqual({
            isFinished: true,
            hasDone: false,
          });
        }
      }),
      { numRuns: 60 },
    );
  });
});

describe('the official openai SDK against faulty upstreams (hardening items 5, 7)', () => {
  async function streamError(): Promise<{ chunks: unknown[]; error: unknown }> {
    const stream = await client.chat.completions.create({ model: 'chat', messages: HI, stream: true });
    const chunks: unknown[] = [];
    const error: unknown = await (async () => {
      for await (const chunk of stream) chunks.push(chunk);
    })().catch((caught: unknown) => caught);
    await fake.nextRequest();
    return { chunks, error };
  }

  it('reads a whole stream that ends with [DONE]', async () => {
    fake.reply({ kind: 'sse', events: chatStreamFrames() });
    expect(await streamError()).toEqual({ chunks: gatewayChatChunks, error: undefined });
  });

  it('raises an APIError saying the upstream closed the connection mid-stream', async () => {
    fake.reply({ kind: 'sse-then-drop', events: [sseFrame(chatChunks[1])] });
    const { chunks, error } = await streamError();
    expect(chunks).toEqual([gatewayChatChunks[1]]);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect(error).toMatchObject({
      message: 'The upstream provider closed the connection mid-stream.',
      type: 'UpstreamConnectionLostError',
    });
  });

  it('raises an APIError saying the upstream ended the stream early', async () => {
    fake.reply({ kind: 'sse', events: [sseFrame(chatChunks[0])] });
    const { chunks, error } = await streamError();
    expect(chunks).toEqual([gatewayChatChunks[0]]);
    expect(error).toMatchObject({
      message: 'The upstream provider ended the stream early, before its final chunk.',
      type: 'UpstreamProtocolError',
    });
  });

  it('raises a 502 before any chunk when the upstream answers a stream with JSON', async () => {
    fake.reply({ kind: 'json', body: { id: 'chatcmpl-1', object: 'chat.completion' } });
    const error: unknown = await client.chat.completions
      .create({ model: 'chat', messages: HI, stream: true })
      .catch((caught: unknown) => caught);
    await fake.nextRequest();
    expect(error).toBeInstanceOf(OpenAI.InternalServerError);
    expect((error as APIError).message).toBe(
      '502 The upstream provider answered a streaming request with content type application/json instead of text/event-stream.',
    );
  });

  it('keeps an upstream 503 with an HTML page as a 503 carrying its text', async () => {
    fake.reply({ kind: 'text', status: 503, body: '<h1>Service Unavailable</h1>', contentType: 'text/html' });
    const error: unknown = await client.chat.completions
      .create({ model: 'chat', messages: HI })
      .catch((caught: unknown) => caught);
    await fake.nextRequest();
    expect(error).toMatchObject({ status: 503, message: '503 <h1>Service Unavailable</h1>' });
  });

  it('raises a 504 when a unary answer trickles in past the timeout', async () => {
    fake.reply({ kind: 'trickle', contentType: 'application/json', chunk: ' ', intervalMs: 50 });
    const error: unknown = await client.chat.completions
      .create({ model: 'chat', messages: HI })
      .catch((caught: unknown) => caught);
    await fake.nextRequest();
    expect(error).toMatchObject({
      status: 504,
      message: '504 The upstream provider did not respond within 0.5 seconds.',
    });
  });

  it('never shows the endpoint key an upstream echoes back', async () => {
    fake.reply({
      kind: 'json',
      status: 401,
      body: { error: { message: 'Incorrect API key provided: sk-test-4f7a2c91' } },
    });
    const error: unknown = await client.chat.completions
      .create({ model: 'chat', messages: HI })
      .catch((caught: unknown) => caught);
    await fake.nextRequest();
    expect(error).toMatchObject({ status: 401, message: '401 Incorrect API key provided: [redacted]' });
  });
});
