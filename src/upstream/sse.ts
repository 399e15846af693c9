import type { Readable } from 'node:stream';
import { createParser } from 'eventsource-parser';

/**
 * Upstream SSE bytes → the `data` of each event, as the bytes arrive. eventsource-parser does
 * the line splitting; comments and `event:`/`id:`/`retry:` lines never reach us [D8]. A
 * `[DONE]` sentinel ends the stream, and a last event without a trailing blank line is still
 * delivered (reference §9.6.6).
 */
export async function* readSseData(body: Readable): AsyncGenerator<string, void, undefined> {
  const pending: string[] = [];
  const parser = createParser({
    onEvent(event) {
      pending.push(event.data);
    },
  });
  // undici's body ignores setEncoding, so bytes are decoded here; `stream: true` keeps a
  // multi-byte character split across network chunks intact.
  const decoder = new TextDecoder();
  // Leaving the loop at [DONE] must not destroy the body: the caller dumps the rest so that
  // the pooled keep-alive connection is reused.
  const chunks = body.iterator({ destroyOnReturn: false }) as AsyncIterable<Uint8Array | string>;
  for await (const chunk of chunks) {
    parser.feed(typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true }));
    for (const data of pending.splice(0)) {
      if (data === '[DONE]') return;
      yield data;
    }
  }
  parser.feed(`${decoder.decode()}\n\n`);
  for (const data of pending.splice(0)) {
    if (data === '[DONE]') return;
    yield data;
  }
}
