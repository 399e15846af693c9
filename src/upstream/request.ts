import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import {
  MAX_RESPONSE_BYTES_ENV,
  mapTransportError,
  notAnEventStream,
  responseTooLarge,
  upstreamErrorResponse,
  type TransportLimits,
  type TransportPhase,
} from './errors.js';
import type { Cancellable } from './cancellation.js';
import { JsonCall, type JsonCallSettings } from './json-call.js';
import type { PoolSet } from './pool.js';
import { readSseData, readSseEvents, type SseEvent } from './sse.js';
import { headerValue } from './headers.js';

/** Reference §6.6: MLFLOW_GATEWAY_ROUTE_TIMEOUT_SECONDS defaults to 300. */
export const DEFAULT_TIMEOUT_SECONDS = 300;
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/** The largest unary upstream body, and the largest single event of a stream. */
export const DEFAULT_MAX_RESPONSE_BYTES = 32 * 1024 * 1024;
/** undici counts the bytes already read against a dump's limit, so leave room for long streams. */
const STREAM_DUMP_LIMIT_BYTES = 16 * 1024 * 1024;

/** Where one adapter operation posts: resolved once per config load. */
export interface UpstreamTarget {
  readonly origin: string;
  /** Path and query, e.g. `/v1/chat/completions?api-version=2024-02-01`. */
  readonly path: string;
  readonly url: string;
  readonly pool: Dispatcher;
}

export type UpstreamHeaders = Readonly<Record<string, string>>;

export interface UpstreamOptions {
  /**
   * A unary call's whole time (headers and full body); for a stream, the wait for the
   * response and for each chunk after it [D6].
   */
  timeoutSeconds: number;
  /** Defaults to LLMGW_MAX_UPSTREAM_RESPONSE_BYTES, else DEFAULT_MAX_RESPONSE_BYTES. */
  maxResponseBytes?: number;
  /** Adds per-call headers (tracing's `traceparent`); absent, the adapter's frozen headers go as they are. */
  decorateHeaders?: ((headers: UpstreamHeaders) => UpstreamHeaders) | undefined;
}

/** Reads the size cap from the environment once, when the Upstream is built. */
export function maxResponseBytesFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[MAX_RESPONSE_BYTES_ENV];
  if (raw === undefined || raw === '') return DEFAULT_MAX_RESPONSE_BYTES;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new Error(`${MAX_RESPONSE_BYTES_ENV} must be a positive whole number of bytes, got '${raw}'.`);
  }
  return value;
}

/** A stream whose upstream answered 2xx: the data of each SSE event, as it arrives. */
export type SseDataStream = AsyncIterable<string>;

/** As SseDataStream, with each event's `event:` name. */
export type SseEventStream = AsyncIterable<SseEvent>;

/**
 * Stream calls whose upstream sent its `[DONE]` terminator, by the signal the adapter passed
 * (the request's own). Adapters only hand on mapped chunks, so this is how the server learns
 * that a stream without a finish reason still ended where the upstream meant it to.
 */
const terminatedStreams = new WeakSet<AbortSignal>();

export function hasStreamTerminated(signal: AbortSignal): boolean {
  return terminatedStreams.has(signal);
}

/**
 * A request body an adapter has already encoded as JSON, sent as it is (an adapter that splices
 * a constant prefix in front of the client's encoded request saves a copy of the request).
 */
export class JsonText {
  readonly text: string;

  constructor(text: string) {
    this.text = text;
  }
}

/** The JSON headers every adapter sends, merged with its own; built once per config load. */
export function jsonHeaders(headers: Record<string, string>): UpstreamHeaders {
  return Object.freeze({ 'content-type': 'application/json', ...headers });
}

/**
 * The one way adapters reach an upstream: POST a JSON body and get back parsed JSON or an SSE
 * data stream, with timeouts and a size cap on every call, the caller's AbortSignal, and
 * every body consumed or dumped so the pooled connection comes back.
 */
export class Upstream {
  readonly #pools: PoolSet;
  readonly #timeoutMs: number;
  readonly #limits: TransportLimits;
  readonly #callSettings: JsonCallSettings;
  readonly timeoutSeconds: number;
  readonly maxResponseBytes: number;
  readonly #decorateHeaders: UpstreamOptions['decorateHeaders'];

  constructor(pools: PoolSet, options: UpstreamOptions) {
    this.#pools = pools;
    this.#decorateHeaders = options.decorateHeaders;
    this.timeoutSeconds = options.timeoutSeconds;
    this.#timeoutMs = options.timeoutSeconds * 1000;
    this.maxResponseBytes = options.maxResponseBytes ?? maxResponseBytesFromEnv();
    this.#limits = { timeoutSeconds: this.timeoutSeconds, maxResponseBytes: this.maxResponseBytes };
    this.#callSettings = { limits: this.#limits, timeoutMs: this.#timeoutMs };
  }

  /** Resolves a URL to its pool; call it from adapter constructors, never per request. */
  target(url: string): UpstreamTarget {
    const parsed = new URL(url);
    return Object.freeze({
      origin: parsed.origin,
      path: `${parsed.pathname}${parsed.search}`,
      url: parsed.href,
      pool: this.#pools.get(parsed.origin),
    });
  }

  /**
   * One JSON call. undici's own timeouts only bound the gaps between bytes, so a deadline
   * also bounds the whole call: an upstream that trickles its body is cut too. `caller` is the
   * adapter's CallContext (cheapest: its Cancellation is used, no AbortSignal is made), or a
   * signal, as plugins written before the context was accepted pass.
   */
  postJson(
    target: UpstreamTarget,
    headers: UpstreamHeaders,
    body: unknown,
    caller: Cancellable | AbortSignal,
  ): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const call = new JsonCall(this.#callSettings, caller, resolve, reject);
      target.pool.dispatch(this.#options(target, headers, body), call);
    });
  }

  /**
   * Resolves once the upstream answered 2xx with an event stream, so that a failure before
   * the stream starts is an ordinary error response [D1]; rejects with the mapped error
   * otherwise.
   */
  async postStream(
    target: UpstreamTarget,
    headers: UpstreamHeaders,
    body: unknown,
    signal: AbortSignal,
  ): Promise<SseDataStream> {
    const events = await this.#openStream(target, headers, body, signal);
    return this.#events(events, signal, readSseData);
  }

  /** As postStream, with each event's `event:` name kept beside its data. */
  async postEventStream(
    target: UpstreamTarget,
    headers: UpstreamHeaders,
    body: unknown,
    signal: AbortSignal,
  ): Promise<SseEventStream> {
    const events = await this.#openStream(target, headers, body, signal);
    return this.#events(events, signal, readSseEvents);
  }

  async #openStream(
    target: UpstreamTarget,
    headers: UpstreamHeaders,
    body: unknown,
    signal: AbortSignal,
  ): Promise<Dispatcher.ResponseData['body']> {
    let phase: TransportPhase = 'request';
    try {
      const response = await this.#post(target, headers, body, signal);
      phase = 'response';
      const contentType = headerValue(response.headers, 'content-type');
      if (response.statusCode >= 400) {
        const text = await this.#readText(response);
        throw upstreamErrorResponse(
          response.statusCode,
          contentType,
          text,
          true,
          headerValue(response.headers, 'retry-after') ?? null,
        );
      }
      if (contentType?.includes('text/event-stream') !== true) {
        await dumpQuietly(response.body);
        throw notAnEventStream(contentType);
      }
      return response.body;
    } catch (error) {
      throw mapTransportError(error, this.#limits, phase);
    }
  }

  /** The body as text, counted as it arrives: a body over the cap is cut, not buffered. */
  async #readText(response: Dispatcher.ResponseData): Promise<string> {
    const max = this.maxResponseBytes;
    const declared = Number(headerValue(response.headers, 'content-length'));
    if (declared > max) {
      response.body.destroy();
      throw responseTooLarge(max);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      size += chunk.length;
      // Leaving the loop destroys the body, which closes its connection.
      if (size > max) throw responseTooLarge(max);
      chunks.push(chunk);
    }
    return Buffer.concat(chunks, size).toString('utf8');
  }

  async *#events<T>(
    body: Dispatcher.ResponseData['body'],
    signal: AbortSignal,
    read: (body: Readable, maxEventBytes: number) => AsyncGenerator<T, boolean, undefined>,
  ): AsyncGenerator<T, void, undefined> {
    let isComplete = false;
    try {
      if (yield* read(body, this.maxResponseBytes)) terminatedStreams.add(signal);
      isComplete = true;
    } catch (error) {
      throw mapTransportError(error, this.#limits, 'stream');
    } finally {
      // After [DONE] the rest of the body (usually just its end) is dumped in the background,
      // so the keep-alive connection returns to the pool; a stream left early is cut instead.
      if (isComplete) void body.dump({ limit: STREAM_DUMP_LIMIT_BYTES }).catch(ignore);
      else if (!body.destroyed) {
        // undici reports a destroyed body as an 'error' event; nobody reads it any more.
        body.once('error', ignore);
        body.destroy();
      }
    }
  }

  #post(
    target: UpstreamTarget,
    headers: UpstreamHeaders,
    body: unknown,
    signal: AbortSignal,
  ): Promise<Dispatcher.ResponseData> {
    return target.pool.request({ ...this.#options(target, headers, body), signal });
  }

  #options(target: UpstreamTarget, headers: UpstreamHeaders, body: unknown): Dispatcher.DispatchOptions {
    return {
      method: 'POST',
      path: target.path,
      headers: this.#decorateHeaders === undefined ? headers : this.#decorateHeaders(headers),
      body: body instanceof JsonText ? body.text : JSON.stringify(body),
      headersTimeout: this.#timeoutMs,
      bodyTimeout: this.#timeoutMs,
    };
  }
}

/**
 * A body we will not read: undici dumps a small one so its connection is reused and closes
 * the connection of a large one. Its own failure changes nothing about the answer.
 */
async function dumpQuietly(body: Dispatcher.ResponseData['body']): Promise<void> {
  await body.dump().catch(ignore);
}

function ignore(): void {
  // An error of a body nobody reads any more only costs its connection, which undici closes.
}
