import type { Readable } from 'node:stream';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { streamEventTooLarge } from './errors.js';

/** One upstream SSE event: its `event:` name (undefined when the frame has none) and data. */
export interface SseEvent {
  readonly event: string | undefined;
  readonly data: string;
}

/**
 * Upstream SSE bytes → the `data` of each event, as the bytes arrive. eventsource-parser does
 * the line splitting; comments and `id:`/`retry:` lines never reach us [D8]. A `[DONE]`
 * sentinel ends the stream (the generator returns true), and a last event without a trailing
 * blank line is still delivered (reference §9.6.6). One event may not exceed `maxEventBytes`
 * (counted in characters, while it is buffered and once it is whole); the stream as a whole is
 * not capped.
 */
export function readSseData(
  body: Readable,
  maxEventBytes: number,
): AsyncGenerator<string, boolean, undefined> {
  return readSse(body, maxEventBytes, dataOf);
}

/** As readSseData, keeping each event's `event:` name (Anthropic's and Bedrock-style streams). */
export function readSseEvents(
  body: Readable,
  maxEventBytes: number,
): AsyncGenerator<SseEvent, boolean, undefined> {
  return readSse(body, maxEventBytes, eventOf);
}

function dataOf(event: EventSourceMessage): string {
  return event.data;
}

function eventOf(event: EventSourceMessage): SseEvent {
  return { event: event.event, data: event.data };
}

async function* readSse<T extends string | SseEvent>(
  body: Readable,
  maxEventBytes: number,
  pick: (event: EventSourceMessage) => T,
): AsyncGenerator<T, boolean, undefined> {
  const pending: T[] = [];
  // An object, because the parser's callbacks set it where the compiler cannot see.
  const overflow = { isTooLarge: false };
  const parser = createParser({
    maxBufferSize: maxEventBytes,
    onEvent(event) {
      // The buffer limit only sees what waits across feeds; an event that came whole in one
      // network read is measured here.
      if (overflow.isTooLarge) return;
      if (event.data.length > maxEventBytes) overflow.isTooLarge = true;
      else pending.push(pick(event));
    },
    onError(error) {
      // Unknown fields and bad `retry:` values are skipped like comments [D8].
      if (error.type === 'max-buffer-size-exceeded') overflow.isTooLarge = true;
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
    for (const item of pending.splice(0)) {
      if (isDone(item)) return true;
      yield item;
    }
    if (overflow.isTooLarge) throw streamEventTooLarge(maxEventBytes);
  }
  parser.feed(`${decoder.decode()}\n\n`);
  for (const item of pending.splice(0)) {
    if (isDone(item)) return true;
    yield item;
  }
  if (overflow.isTooLarge) throw streamEventTooLarge(maxEventBytes);
  return false;
}

function isDone(item: string | SseEvent): boolean {
  return (typeof item === 'string' ? item : item.data) === '[DONE]';
}
