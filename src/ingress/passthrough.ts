import { createParser, type EventSourceMessage } from 'eventsource-parser';
import type { NativeRelay } from '../providers/openai.js';
import type { Usage } from '../schemas/generation.js';
import { relay } from '../upstream/relay.js';
import type { ReplyHead, WireChunk } from './native-reply.js';

// Passthrough (reference ingress.md §1, §6): the client's body goes to a provider that speaks
// the client's API, with the configured key instead of the client's; the answer comes back
// byte for byte, status, content type and the provider's own headers included.

/** A whole (non-stream) relayed answer: its head and its bytes as the provider sent them. */
export interface WholeAnswer {
  head: ReplyHead;
  body: Buffer;
}

async function send(destination: NativeRelay, body: string, signal: AbortSignal) {
  const response = await relay(destination.upstream, {
    target: destination.target,
    headers: destination.headers,
    body,
    signal,
  });
  const head: ReplyHead = {
    status: response.status,
    contentType: response.contentType ?? 'application/json',
    headers: response.headers,
  };
  return { head, response };
}

/**
 * The usage a relayed event stream reports, read from its events as the bytes pass untouched.
 * `read` sees every event and the counts so far, and returns the counts after it.
 */
export class SseUsageTap<U = Usage> {
  usage: U | null = null;
  readonly #decoder = new TextDecoder();
  readonly #parser;

  constructor(read: (event: EventSourceMessage, previous: U | null) => U | null) {
    this.#parser = createParser({
      onEvent: (event) => {
        this.usage = read(event, this.usage) ?? this.usage;
      },
    });
  }

  async *watch(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array, void, undefined> {
    for await (const chunk of chunks) {
      this.#parser.feed(this.#decoder.decode(chunk, { stream: true }));
      yield chunk;
    }
  }
}

/** An event's JSON data, or null: the client parses the same bytes and reports bad ones. */
export function eventJson(event: EventSourceMessage): unknown {
  try {
    return JSON.parse(event.data) as unknown;
  } catch {
    return null;
  }
}

/** The answer as it arrives: its head, then each chunk of bytes unchanged (watched by `tap`). */
export async function relayChunks(
  destination: NativeRelay,
  body: string,
  signal: AbortSignal,
  tap: SseUsageTap,
): Promise<AsyncIterable<WireChunk>> {
  const { head, response } = await send(destination, body, signal);
  return (async function* chunks(): AsyncGenerator<WireChunk, void, undefined> {
    yield head;
    yield* response.isStream ? tap.watch(response.body) : response.body;
  })();
}

/** The whole answer, read within relay()'s size cap. */
export async function relayWhole(
  destination: NativeRelay,
  body: string,
  signal: AbortSignal,
): Promise<WholeAnswer> {
  const { head, response } = await send(destination, body, signal);
  const parts: Uint8Array[] = [];
  for await (const part of response.body) parts.push(part);
  return { head, body: Buffer.concat(parts) };
}
