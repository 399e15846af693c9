import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readSseData } from '../../src/upstream/sse.js';

/** A byte stream delivering `text` in pieces of `size` bytes (not characters). */
function byteStream(text: string, size: number): Readable {
  const bytes = Buffer.from(text, 'utf8');
  const pieces: Buffer[] = [];
  for (let start = 0; start < bytes.length; start += size) pieces.push(bytes.subarray(start, start + size));
  return Readable.from(pieces, { objectMode: false });
}

async function collect(body: Readable, maxEventBytes = MAX_EVENT_BYTES): Promise<string[]> {
  const events: string[] = [];
  for await (const data of readSseData(body, maxEventBytes)) events.push(data);
  return events;
}

const MAX_EVENT_BYTES = 1024;

const UPSTREAM =
  'data: {"n":1,"text":"héllo"}\n\n' +
  ': keep-alive\n\n' +
  'data: {"n":2,"text":"你好 😀"}\r\n\r\n' +
  'event: message\nid: 7\nretry: 1000\ndata: {"n":3}\n\n' +
  'data: [DONE]\n\n';

describe('readSseData', () => {
  it('yields the data of each event in order and stops at [DONE]', async () => {
    expect(await collect(byteStream(UPSTREAM, 1024))).toEqual([
      '{"n":1,"text":"héllo"}',
      '{"n":2,"text":"你好 😀"}',
      '{"n":3}',
    ]);
  });

  it.each([1, 2, 3, 5, 7, 13])(
    'yields the same events when the bytes arrive %i at a time, even inside multi-byte characters',
    async (size) => {
      expect(await collect(byteStream(UPSTREAM, size))).toEqual([
        '{"n":1,"text":"héllo"}',
        '{"n":2,"text":"你好 😀"}',
        '{"n":3}',
      ]);
    },
  );

  it('skips comment lines between events (reference [D8])', async () => {
    expect(await collect(byteStream(': ping\n\ndata: {"a":1}\n\n:\n\n', 64))).toEqual(['{"a":1}']);
  });

  it('ignores every event after [DONE]', async () => {
    expect(await collect(byteStream('data: {"a":1}\n\ndata: [DONE]\n\ndata: {"a":2}\n\n', 64))).toEqual([
      '{"a":1}',
    ]);
  });

  it('delivers a last event that lacks the closing blank line', async () => {
    expect(await collect(byteStream('data: {"a":1}\n\ndata: {"a":2}\n', 64))).toEqual(['{"a":1}', '{"a":2}']);
  });

  it('delivers a last event that lacks even its final newline', async () => {
    expect(await collect(byteStream('data: {"a":1}', 4))).toEqual(['{"a":1}']);
  });

  it('stops at a trailing [DONE] without a newline', async () => {
    expect(await collect(byteStream('data: {"a":1}\n\ndata: [DONE]', 64))).toEqual(['{"a":1}']);
  });

  it('joins the data lines of one event with a newline', async () => {
    expect(await collect(byteStream('data: {"a":\ndata: 1}\n\n', 64))).toEqual(['{"a":\n1}']);
  });

  it('yields nothing for an empty body', async () => {
    expect(await collect(byteStream('', 64))).toEqual([]);
  });

  it('yields an event as soon as its bytes arrive, before the body ends', async () => {
    const body = new PassThrough();
    const events = readSseData(body, MAX_EVENT_BYTES);
    body.write('data: {"a":1}\n\n');
    expect(await events.next()).toEqual({ done: false, value: '{"a":1}' });
    body.write('data: {"a":2}\n');
    body.write('\n');
    expect(await events.next()).toEqual({ done: false, value: '{"a":2}' });
    body.end();
    // false: the body ended without the [DONE] terminator.
    expect(await events.next()).toEqual({ done: true, value: false });
  });

  it('leaves the body undestroyed when it stops at [DONE], so the caller can dump the rest', async () => {
    const body = new PassThrough();
    body.write('data: [DONE]\n\n');
    const events = readSseData(body, MAX_EVENT_BYTES);
    expect(await events.next()).toEqual({ done: true, value: true });
    expect(body.destroyed).toBe(false);
  });

  it('rethrows an error of the body', async () => {
    const body = new PassThrough();
    const events = readSseData(body, MAX_EVENT_BYTES);
    body.write('data: {"a":1}\n\n');
    expect(await events.next()).toEqual({ done: false, value: '{"a":1}' });
    body.destroy(new Error('socket hang up'));
    await expect(events.next()).rejects.toThrow('socket hang up');
  });

  it('fails naming the limit when one event grows beyond it, without waiting for its end', async () => {
    const body = new PassThrough();
    const events = readSseData(body, 64);
    body.write('data: {"a":1}\n\n');
    expect(await events.next()).toEqual({ done: false, value: '{"a":1}' });
    body.write(`data: "${'x'.repeat(40)}`);
    body.write('x'.repeat(40));
    await expect(events.next()).rejects.toThrow(
      'An upstream stream event is larger than the limit of 64 bytes (LLMGW_MAX_UPSTREAM_RESPONSE_BYTES).',
    );
  });

  it('caps each event, not the stream: many events below the limit pass', async () => {
    const data = Array.from({ length: 50 }, (_, index) => `{"n":${index},"pad":"${'p'.repeat(30)}"}`);
    const body = byteStream(data.map((item) => `data: ${item}\n\n`).join(''), 7);
    expect(await collect(body, 64)).toEqual(data);
  });
});
