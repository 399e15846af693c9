import type { Dispatcher } from 'undici';
import { UpstreamError, UpstreamTimeoutError } from '../errors.js';
import {
  mapTransportError,
  responseTooLarge,
  upstreamErrorResponse,
  type TransportLimits,
  type TransportPhase,
} from './errors.js';
import type { Upstream, UpstreamHeaders, UpstreamTarget } from './request.js';
import { headerValue } from './headers.js';

// Raw relay for the native ingress passthrough: the client's body goes upstream as sent and
// the answer's bytes come back untouched, with the same timeouts, size cap and pool discipline
// as Upstream.postJson / postStream.

export interface RelayRequest {
  target: UpstreamTarget;
  headers: UpstreamHeaders;
  body: string;
  signal: AbortSignal;
}

export interface RelayedResponse {
  status: number;
  contentType: string | undefined;
  /** Response headers worth relaying to the client (RELAYED_HEADER), lower-cased. */
  headers: Readonly<Record<string, string>>;
  /**
   * The answer's bytes as they arrive. The caller iterates it to the end or leaves the loop
   * (which calls `return()`); either gives the pooled connection back.
   */
  body: AsyncIterable<Uint8Array>;
  /** The upstream answered `text/event-stream`. */
  isStream: boolean;
}

/** The provider's ids, rate-limit and retry hints; never hop-by-hop or framing headers. */
const RELAYED_HEADER =
  /^(content-type|request-id|x-request-id|retry-after|anthropic-.+|openai-.+|x-goog-.+)$/;
const EVENT_STREAM = 'text/event-stream';

/**
 * POSTs `request.body` through the target's pool. Resolves once a 2xx (or 3xx) status line
 * arrives; a status ≥ 400 is read (capped) and thrown as an UpstreamError whose `detail` is
 * the provider's parsed JSON body, so an ingress can relay the provider's own error shape.
 * A non-stream answer must arrive whole within `Upstream.timeoutSeconds` and within the size
 * cap; a stream gets that timeout between chunks and no total cap.
 */
export async function relay(upstream: Upstream, request: RelayRequest): Promise<RelayedResponse> {
  const limits: TransportLimits = {
    timeoutSeconds: upstream.timeoutSeconds,
    maxResponseBytes: upstream.maxResponseBytes,
  };
  const timeoutMs = upstream.timeoutSeconds * 1000;
  const controller = new AbortController();
  const forwardAbort = (): void => {
    controller.abort(request.signal.reason);
  };
  if (request.signal.aborted) forwardAbort();
  else request.signal.addEventListener('abort', forwardAbort, { once: true });
  const deadline = setTimeout(() => {
    controller.abort(new UpstreamTimeoutError(upstream.timeoutSeconds));
  }, timeoutMs);
  const release = (): void => {
    clearTimeout(deadline);
    request.signal.removeEventListener('abort', forwardAbort);
  };
  let phase: TransportPhase = 'request';
  try {
    const response = await request.target.pool.request({
      method: 'POST',
      path: request.target.path,
      headers: request.headers,
      body: request.body,
      signal: controller.signal,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    phase = 'response';
    const contentType = headerValue(response.headers, 'content-type');
    if (response.statusCode >= 400) {
      const text = await readCapped(response, limits.maxResponseBytes);
      throw relayedStatusError(response.statusCode, contentType, text, response.headers);
    }
    const isStream = contentType?.includes(EVENT_STREAM) === true;
    // A stream is bounded per gap by undici's bodyTimeout, not as a whole.
    if (isStream) clearTimeout(deadline);
    return {
      status: response.statusCode,
      contentType,
      headers: relayedHeaders(response.headers),
      body: relayedBody(response.body, { isStream, limits, release }),
      isStream,
    };
  } catch (error) {
    release();
    throw mapTransportError(error, limits, phase);
  }
}

interface BodyOptions {
  isStream: boolean;
  limits: TransportLimits;
  release: () => void;
}

/**
 * An iterable whose `return()` destroys the upstream body even when iteration never started
 * (an async generator skips its `finally` then), so an abandoned answer frees its connection.
 */
function relayedBody(body: Dispatcher.ResponseData['body'], options: BodyOptions): AsyncIterable<Uint8Array> {
  const chunks = readChunks(body, options);
  return {
    [Symbol.asyncIterator]: () => ({
      next: () => chunks.next(),
      return: async () => {
        destroyQuietly(body);
        options.release();
        return chunks.return(undefined);
      },
    }),
  };
}

async function* readChunks(
  body: Dispatcher.ResponseData['body'],
  { isStream, limits, release }: BodyOptions,
): AsyncGenerator<Uint8Array, undefined, undefined> {
  let size = 0;
  let isComplete = false;
  try {
    for await (const chunk of body as AsyncIterable<Uint8Array>) {
      size += chunk.byteLength;
      if (!isStream && size > limits.maxResponseBytes) throw responseTooLarge(limits.maxResponseBytes);
      yield chunk;
    }
    isComplete = true;
  } catch (error) {
    throw mapTransportError(error, limits, isStream ? 'stream' : 'response');
  } finally {
    release();
    if (!isComplete) destroyQuietly(body);
  }
  return undefined;
}

/** The error body as text, counted as it arrives: a body over the cap is cut, not buffered. */
async function readCapped(response: Dispatcher.ResponseData, maxBytes: number): Promise<string> {
  if (Number(headerValue(response.headers, 'content-length')) > maxBytes) {
    destroyQuietly(response.body);
    throw responseTooLarge(maxBytes);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response.body as AsyncIterable<Buffer>) {
    size += chunk.length;
    // Leaving the loop destroys the body, which closes its connection.
    if (size > maxBytes) throw responseTooLarge(maxBytes);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size).toString('utf8');
}

/**
 * The provider's JSON error body stays whole in `detail` (the ingress relays it as it is);
 * any other body is mapped as for every upstream call. `Retry-After` rides along for routing.
 */
function relayedStatusError(
  status: number,
  contentType: string | undefined,
  text: string,
  headers: Dispatcher.ResponseData['headers'],
): UpstreamError {
  const parsed = parseJsonObject(text);
  const retryAfter = headerValue(headers, 'retry-after') ?? null;
  return parsed === undefined
    ? upstreamErrorResponse(status, contentType, text, false, retryAfter)
    : new UpstreamError(status, parsed, retryAfter);
}

function parseJsonObject(text: string): object | undefined {
  try {
    const value = JSON.parse(text) as unknown;
    return typeof value === 'object' && value !== null ? value : undefined;
  } catch {
    return undefined;
  }
}

function relayedHeaders(headers: Dispatcher.ResponseData['headers']): Readonly<Record<string, string>> {
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || !RELAYED_HEADER.test(name)) continue;
    kept[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return kept;
}

function destroyQuietly(body: Dispatcher.ResponseData['body']): void {
  if (body.destroyed) return;
  // undici reports a destroyed body as an 'error' event; nobody reads it any more.
  body.once('error', ignore);
  body.destroy();
}

function ignore(): void {
  // A body nobody reads any more only costs its connection, which undici closes.
}
