import { STATUS_CODES } from 'node:http';
import { errors as undiciErrors } from 'undici';
import {
  GatewayError,
  UpstreamError,
  UpstreamProtocolError,
  UpstreamTimeoutError,
  UpstreamUnreachableError,
} from '../errors.js';
import { isRecord } from '../schemas/json.js';

// The only place that turns an upstream status, body or transport failure into a gateway error.

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

export function reasonPhrase(status: number): string {
  return STATUS_CODES[status] ?? `HTTP ${status}`;
}

export function unsupportedContentType(contentType: string | undefined): UpstreamProtocolError {
  return new UpstreamProtocolError(
    `The returned data type from the route service is not supported. Received content type: ${contentType ?? 'None'}`,
  );
}

const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'ETIMEDOUT',
]);

/**
 * Maps an error thrown by undici while calling or reading from an upstream. A request the
 * gateway aborted itself (its client went away) is returned unchanged: nobody is listening.
 */
export function mapTransportError(error: unknown, timeoutSeconds: number): unknown {
  if (error instanceof GatewayError) return error;
  if (error instanceof undiciErrors.HeadersTimeoutError || error instanceof undiciErrors.BodyTimeoutError) {
    return new UpstreamTimeoutError(timeoutSeconds, error);
  }
  if (error instanceof undiciErrors.RequestAbortedError) return error;
  if (error instanceof undiciErrors.ConnectTimeoutError) {
    return new UpstreamUnreachableError('connection timed out', error);
  }
  if (error instanceof undiciErrors.SocketError) {
    return new UpstreamUnreachableError('the connection was closed unexpectedly', error);
  }
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code !== undefined && UNREACHABLE_CODES.has(code)) {
    return new UpstreamUnreachableError(code, error);
  }
  return error;
}
