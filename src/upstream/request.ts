import type { Dispatcher } from 'undici';
import { UpstreamProtocolError } from '../errors.js';
import {
  mapTransportError,
  unsupportedContentType,
  upstreamStatusError,
  upstreamStreamStatusError,
} from './errors.js';
import type { PoolSet } from './pool.js';
import { readSseData } from './sse.js';

/** Reference §6.6: MLFLOW_GATEWAY_ROUTE_TIMEOUT_SECONDS defaults to 300. */
export const DEFAULT_TIMEOUT_SECONDS = 300;
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
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
  /** Time to the response headers, and the longest gap between body chunks. */
  timeoutSeconds: number;
}

/** A stream whose upstream answered 2xx: the data of each SSE event, as it arrives. */
export type SseDataStream = AsyncIterable<string>;

/** The JSON headers every adapter sends, merged with its own; built once per config load. */
export function jsonHeaders(headers: Record<string, string>): UpstreamHeaders {
  return Object.freeze({ 'content-type': 'application/json', ...headers });
}

/**
 * The one way adapters reach an upstream: POST a JSON body and get back parsed JSON or an SSE
 * data stream, with timeouts on every call, the caller's AbortSignal, and every body consumed
 * or dumped so the pooled connection comes back.
 */
export class Upstream {
  readonly #pools: PoolSet;
  readonly #timeoutMs: number;
  readonly timeoutSeconds: number;

  constructor(pools: PoolSet, options: UpstreamOptions) {
    this.#pools = pools;
    this.timeoutSeconds = options.timeoutSeconds;
    this.#timeoutMs = options.timeoutSeconds * 1000;
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

  async postJson(
    target: UpstreamTarget,
    headers: UpstreamHeaders,
    body: unknown,
    signal: AbortSignal,
  ): Promise<unknown> {
    try {
      const response = await this.#post(target, headers, body, signal);
      const contentType = headerValue(response.headers, 'content-type');
      const isJson = contentType?.includes('application/json') === true;
      if (!isJson && contentType?.includes('text/plain') !== true) {
        await response.body.dump();
        throw unsupportedContentType(contentType);
      }
      const text = await response.body.text();
      const parsed = isJson ? parseJson(text) : { message: text };
      if (response.statusCode >= 400) throw upstreamStatusError(response.statusCode, parsed);
      return parsed;
    } catch (error) {
      throw mapTransportError(error, this.timeoutSeconds);
    }
  }

  /**
   * Resolves once the upstream answered 2xx, so that a failure before the stream starts is
   * an ordinary error response [D1]; rejects with the mapped error otherwise.
   */
  async postStream(
    target: UpstreamTarget,
    headers: UpstreamHeaders,
    body: unknown,
    signal: AbortSignal,
  ): Promise<SseDataStream> {
    let response: Dispatcher.ResponseData;
    try {
      response = await this.#post(target, headers, body, signal);
      if (response.statusCode >= 400) {
        const text = await response.body.text();
        throw upstreamStreamStatusError(response.statusCode, tryParseJson(text));
      }
    } catch (error) {
      throw mapTransportError(error, this.timeoutSeconds);
    }
    return this.#events(response.body);
  }

  async *#events(body: Dispatcher.ResponseData['body']): AsyncGenerator<string, void, undefined> {
    let isComplete = false;
    try {
      yield* readSseData(body);
      isComplete = true;
    } catch (error) {
      throw mapTransportError(error, this.timeoutSeconds);
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
    return target.pool.request({
      method: 'POST',
      path: target.path,
      headers,
      body: JSON.stringify(body),
      signal,
      headersTimeout: this.#timeoutMs,
      bodyTimeout: this.#timeoutMs,
    });
  }
}

function headerValue(
  headers: Record<string, string | string[] | undefined>,
  name: string,
): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new UpstreamProtocolError('The upstream provider returned a body that is not valid JSON.', error);
  }
}

function tryParseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function ignore(): void {
  // An error of a body nobody reads any more only costs its connection, which undici closes.
}
