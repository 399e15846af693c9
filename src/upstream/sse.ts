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
  body.setEncoding('utf8');
  let done = false;
  for await (const chunk of body) {
    parser.feed(chunk as string);
    for (const data of pending) {
      if (data === '[DONE]') {
        done = true;
        break;
      }
      yield data;
    }
    pending.length = 0;
    if (done) return;
  }
  parser.feed('\n\n');
  for (const data of pending) {
    if (data === '[DONE]') return;
    yield data;
  }
}
