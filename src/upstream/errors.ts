import { STATUS_CODES } from 'node:http';
import {
  ClientClosedRequestError,
  GatewayError,
  UpstreamConnectionLostError,
  UpstreamError,
  UpstreamProtocolError,
  UpstreamTimeoutError,
  UpstreamUnreachableError,
} from '../errors.js';
import { isRecord } from '../schemas/json.js';

// The only place that turns an upstream status, body or transport failure into a gateway error.

/** Environment variable that sets the upstream response size cap, in bytes. */
export const MAX_RESPONSE_BYTES_ENV = 'LLMGW_MAX_UPSTREAM_RESPONSE_BYTES';

/** A text error body is passed on, but a whole proxy page is more than anyone reads. */
const MAX_ERROR_TEXT_CHARS = 2000;

/**
 * Reference §6.6 step 2: an `error` object gives its `message` (or the reason phrase), a
 * string `error` is the message itself [D7], and any other body is the detail as it is.
 */
export function upstreamStatusError(status: number, body: unknown): UpstreamError {
  if (isRecord(body) && 'error' in body) {
    const error = body.error;
    if (typeof error === 'string') return new UpstreamError(status, error);
    if (isRecord(error)) {
      const message = error.message;
      return new UpstreamError(status, typeof message === 'string' ? message : reasonPhrase(status));
    }
  }
  return new UpstreamError(status, body);
}

/** [D1]: a stream that fails before it starts gives `error.message` or the reason phrase. */
export function upstreamStreamStatusError(status: number, body: unknown): UpstreamError {
  if (isRecord(body)) {
    const error = body.error;
    if (typeof error === 'string') return new UpstreamError(status, error);
    if (isRecord(error) && typeof error.message === 'string') return new UpstreamError(status, error.message);
    if (typeof body.message === 'string') return new UpstreamError(status, body.message);
  }
  return new UpstreamError(status, reasonPhrase(status));
}

/**
 * An upstream status ≥ 400 with its body as text. The status is always kept: a JSON body is
 * mapped as the reference says (`forStream` picks [D1]'s rules), a text/plain body becomes
 * `{"message": text}` (§6.6) for unary calls, any other text (HTML from a proxy, JSON that
 * does not parse) is the detail itself, and an empty body gives the reason phrase.
 */
export function upstreamErrorResponse(
  status: number,
  contentType: string | undefined,
  text: string,
  forStream: boolean,
  retryAfter: string | null = null,
): UpstreamError {
  const error = mapErrorResponse(status, contentType, text, forStream);
  return retryAfter === null ? error : new UpstreamError(error.status, error.detail, retryAfter);
}

function mapErrorResponse(
  status: number,
  contentType: string | undefined,
  text: string,
  forStream: boolean,
): UpstreamError {
  if (text.trim() === '') return new UpstreamError(status, reasonPhrase(status));
  const isPlainText = contentType?.includes('text/plain') === true;
  if (!isPlainText) {
    const parsed = tryParseJson(text);
    if (parsed !== NOT_JSON) {
      return forStream ? upstreamStreamStatusError(status, parsed) : upstreamStatusError(status, parsed);
    }
  }
  if (isPlainText && !forStream) return new UpstreamError(status, { message: text });
  const detail = text.length > MAX_ERROR_TEXT_CHARS ? `${text.slice(0, MAX_ERROR_TEXT_CHARS)}…` : text;
  return new UpstreamError(status, detail);
}

const NOT_JSON = Symbol('not JSON');

function tryParseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return NOT_JSON;
  }
}

export function reasonPhrase(status: number): string {
  return STATUS_CODES[status] ?? `HTTP ${status}`;
}

export function unsupportedContentType(contentType: string | undefined): UpstreamProtocolError {
  return new UpstreamProtocolError(
    `The returned data type from the route service is not supported. Received content type: ${contentType ?? 'None'}`,
  );
}

/** A 2xx answer to a stream request that is not an SSE stream (item 3 of the hardening). */
export function notAnEventStream(contentType: string | undefined): UpstreamProtocolError {
  return new UpstreamProtocolError(
    `The upstream provider answered a streaming request with content type ${contentType ?? 'None'} instead of text/event-stream.`,
  );
}

export function responseTooLarge(maxBytes: number, cause?: unknown): UpstreamProtocolError {
  return new UpstreamProtocolError(
    `The upstream response is larger than the limit of ${maxBytes} bytes (${MAX_RESPONSE_BYTES_ENV}).`,
    cause,
  );
}

export function streamEventTooLarge(maxBytes: number): UpstreamProtocolError {
  return new UpstreamProtocolError(
    `An upstream stream event is larger than the limit of ${maxBytes} bytes (${MAX_RESPONSE_BYTES_ENV}).`,
  );
}

/** What the upstream call was doing when it failed; a dropped connection reads differently. */
export type TransportPhase = 'request' | 'response' | 'stream';

export interface TransportLimits {
  readonly timeoutSeconds: number;
  readonly maxResponseBytes: number;
}

/** undici error codes (lib/core/errors.js) that say the pool, not the upstream, went away. */
const POOL_CLOSED_CODES = new Set(['UND_ERR_DESTROYED', 'UND_ERR_CLOSED']);

/** Failures of the exchange itself, by undici code, with what happened in words. */
const PROTOCOL_FAILURES: Readonly<Record<string, (message: string) => string>> = {
  UND_ERR_HEADERS_OVERFLOW: () =>
    'The upstream provider sent response headers larger than the gateway accepts.',
  UND_ERR_RES_CONTENT_LENGTH_MISMATCH: () =>
    'The upstream provider sent a body whose length does not match its Content-Length header.',
  UND_ERR_REQ_CONTENT_LENGTH_MISMATCH: () =>
    'The request to the upstream provider did not match its own Content-Length header.',
  UND_ERR_INVALID_RETURN_VALUE: () => 'The HTTP client failed while handling the upstream response.',
  UND_ERR_NOT_SUPPORTED: (message) =>
    `The upstream exchange needs an HTTP feature the gateway does not support: ${message}`,
  UND_ERR_INVALID_ARG: (message) => `The request to the upstream provider could not be sent: ${message}`,
};

/**
 * Maps an error thrown while calling or reading from an upstream. Every undici error becomes
 * a 502 or 504 that says what happened; a call cancelled because the client went away becomes
 * a 499 that nobody reads. Errors that are not transport errors (bugs) are returned as they
 * are, so they become the generic 500.
 */
export function mapTransportError(
  error: unknown,
  limits: TransportLimits,
  phase: TransportPhase = 'request',
): unknown {
  if (error instanceof GatewayError) return error;
  if (!(error instanceof Error)) return error;
  if (error.name === 'AbortError') return new ClientClosedRequestError(error);
  if (error.name === 'HTTPParserError') {
    return new UpstreamProtocolError(
      `The upstream provider sent a response that is not valid HTTP: ${error.message}`,
      error,
    );
  }
  const code = (error as NodeJS.ErrnoException).code;
  if (typeof code !== 'string') return error;
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
    return new UpstreamTimeoutError(limits.timeoutSeconds, error);
  }
  if (code === 'UND_ERR_RES_EXCEEDED_MAX_SIZE') return responseTooLarge(limits.maxResponseBytes, error);
  if (POOL_CLOSED_CODES.has(code)) {
    return new UpstreamUnreachableError('the connection pool was closed by a reload or shutdown', error);
  }
  const describe = PROTOCOL_FAILURES[code];
  if (describe !== undefined) return new UpstreamProtocolError(describe(error.message), error);
  if (phase === 'stream') {
    return new UpstreamConnectionLostError('The upstream provider closed the connection mid-stream.', error);
  }
  if (phase === 'response') {
    return new UpstreamConnectionLostError(
      'The upstream provider closed the connection before its response was complete.',
      error,
    );
  }
  return new UpstreamUnreachableError(unreachableReason(code, error.message), error);
}

const TLS_CODE = /^(ERR_TLS_|ERR_SSL_)|CERT|SIGNATURE/;

function unreachableReason(code: string, message: string): string {
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return 'connection timed out';
  if (code === 'UND_ERR_SOCKET') return `the connection was closed before the upstream answered (${message})`;
  if (code === 'UND_ERR_INFO') return `the connection failed (${message})`;
  if (TLS_CODE.test(code)) return `TLS error ${code}`;
  if (code.startsWith('UND_ERR_')) return `${message} (${code})`;
  return code;
}

/**
 * Upstream statuses worth another try elsewhere or later (overload, rate limit, server
 * failure); config's DEFAULT_FALLBACK_STATUSES says the same for FALLBACK routes.
 */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([429, 500, 502, 503, 504]);

/**
 * Whether a failed upstream call is worth trying again: a connection that failed or dropped
 * and a timeout always are, an upstream status when `statuses` has it. The client going away
 * is neither. Everything else (a 4xx about the request, a 501, an answer we cannot read) is
 * final and goes to the client as it is.
 */
export function classifyFailure(
  error: unknown,
  statuses: ReadonlySet<number>,
): 'retryable' | 'final' | 'client_gone' {
  if (error instanceof ClientClosedRequestError) return 'client_gone';
  if (
    error instanceof UpstreamTimeoutError ||
    error instanceof UpstreamUnreachableError ||
    error instanceof UpstreamConnectionLostError
  ) {
    return 'retryable';
  }
  if (error instanceof UpstreamError) return statuses.has(error.status) ? 'retryable' : 'final';
  return 'final';
}
