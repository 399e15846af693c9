import { errors as undiciErrors } from 'undici';
import { describe, expect, it } from 'vitest';
import { DEFAULT_FALLBACK_STATUSES } from '../../src/config/schema.js';
import {
  ClientClosedRequestError,
  GatewayError,
  InvalidRequestError,
  UpstreamConnectionLostError,
  UpstreamError,
  UpstreamProtocolError,
  UpstreamTimeoutError,
  UpstreamUnreachableError,
} from '../../src/errors.js';
import {
  classifyFailure,
  RETRYABLE_STATUSES,
  mapTransportError,
  notAnEventStream,
  reasonPhrase,
  unsupportedContentType,
  upstreamErrorResponse,
  upstreamStatusError,
  upstreamStreamStatusError,
} from '../../src/upstream/errors.js';

function summary(error: unknown): { name: string; status: number; detail: unknown } {
  if (!(error instanceof GatewayError)) throw new Error(`not a GatewayError: ${String(error)}`);
  return { name: error.name, status: error.status, detail: error.detail };
}

describe('upstreamStatusError (reference §6.6)', () => {
  it.each([
    [401, { error: { message: 'bad key', type: 'invalid_request_error' } }, 'bad key'],
    [401, { error: { type: 'invalid_request_error' } }, 'Unauthorized'],
    [429, { error: { message: 42 } }, 'Too Many Requests'],
    [400, { foo: 'bar' }, { foo: 'bar' }],
    [400, { error: 'bad' }, 'bad'],
    [503, { message: 'down' }, { message: 'down' }],
    [500, [1, 2], [1, 2]],
  ])('maps status %i with body %j to detail %j', (status, body, detail) => {
    expect(summary(upstreamStatusError(status, body))).toEqual({ name: 'UpstreamError', status, detail });
  });
});

describe('upstreamStreamStatusError (reference [D1])', () => {
  it.each([
    [401, { error: { message: 'bad key' } }, 'bad key'],
    [400, { error: 'bad' }, 'bad'],
    [503, { message: 'down' }, 'down'],
    [400, { foo: 'bar' }, 'Bad Request'],
    [502, '<html>bad gateway</html>', 'Bad Gateway'],
    [429, { error: { code: 'rate_limit_exceeded' } }, 'Too Many Requests'],
  ])('maps status %i with body %j to detail %j', (status, body, detail) => {
    expect(summary(upstreamStreamStatusError(status, body))).toEqual({
      name: 'UpstreamError',
      status,
      detail,
    });
  });
});

describe('reasonPhrase', () => {
  it('gives the standard phrase of a known status', () => {
    expect(reasonPhrase(404)).toBe('Not Found');
  });

  it('names an unknown status by number', () => {
    expect(reasonPhrase(599)).toBe('HTTP 599');
  });
});

describe('unsupportedContentType', () => {
  it('is a 502 naming the content type', () => {
    expect(summary(unsupportedContentType('text/html'))).toEqual({
      name: 'UpstreamProtocolError',
      status: 502,
      detail:
        'The returned data type from the route service is not supported. Received content type: text/html',
    });
  });

  it('names a missing content type None', () => {
    expect(summary(unsupportedContentType(undefined)).detail).toBe(
      'The returned data type from the route service is not supported. Received content type: None',
    );
  });
});

const LIMITS = { timeoutSeconds: 7, maxResponseBytes: 1024 };

describe('upstreamErrorResponse (hardening item 8: the upstream status is kept)', () => {
  it.each([
    ['an empty body', 503, 'application/json', '', false, 'Service Unavailable'],
    ['a blank body', 500, undefined, ' \n', false, 'Internal Server Error'],
    ['JSON that does not parse', 500, 'application/json', '{"error":', false, '{"error":'],
    ['an HTML page', 502, 'text/html', '<html>bad gateway</html>', false, '<html>bad gateway</html>'],
    ['text without a content type', 418, undefined, 'teapot', false, 'teapot'],
    [
      'a JSON error without a JSON content type',
      401,
      'text/html',
      '{"error":{"message":"bad key"}}',
      false,
      'bad key',
    ],
    ['a JSON error object', 401, 'application/json', '{"error":{"message":"bad key"}}', false, 'bad key'],
    ['text/plain', 503, 'text/plain', 'down', false, { message: 'down' }],
    ['text/plain before a stream', 503, 'text/plain', 'down', true, 'down'],
    ['an HTML page before a stream', 503, 'text/html', '<html></html>', true, '<html></html>'],
    ['JSON without error before a stream', 400, 'application/json', '{"foo":1}', true, 'Bad Request'],
    ['an empty body before a stream', 429, 'application/json', '', true, 'Too Many Requests'],
  ])(
    'maps %s to the upstream status with detail %j',
    (_name, status, contentType, text, forStream, detail) => {
      expect(summary(upstreamErrorResponse(status, contentType, text, forStream))).toEqual({
        name: 'UpstreamError',
        status,
        detail,
      });
    },
  );

  it('shortens a long text body to its first 2000 characters', () => {
    const detail = summary(upstreamErrorResponse(500, 'text/html', 'x'.repeat(5000), false)).detail;
    expect(detail).toBe(`${'x'.repeat(2000)}…`);
  });
});

describe('notAnEventStream', () => {
  it('is a 502 naming the content type received', () => {
    expect(summary(notAnEventStream('application/json'))).toEqual({
      name: 'UpstreamProtocolError',
      status: 502,
      detail:
        'The upstream provider answered a streaming request with content type application/json instead of text/event-stream.',
    });
  });
});

describe('mapTransportError (reference [D6], hardening item 5)', () => {
  it.each([
    ['a headers timeout', new undiciErrors.HeadersTimeoutError()],
    ['a body timeout', new undiciErrors.BodyTimeoutError()],
  ])('maps %s to 504 naming the configured seconds', (_name, error) => {
    expect(summary(mapTransportError(error, LIMITS))).toEqual({
      name: 'UpstreamTimeoutError',
      status: 504,
      detail: 'The upstream provider did not respond within 7 seconds.',
    });
  });

  const unreachable = 'Could not reach the upstream provider: ';
  it.each([
    [
      'ConnectTimeoutError',
      new undiciErrors.ConnectTimeoutError(),
      'UpstreamUnreachableError',
      `${unreachable}connection timed out`,
    ],
    [
      'SocketError',
      new undiciErrors.SocketError('other side closed'),
      'UpstreamUnreachableError',
      `${unreachable}the connection was closed before the upstream answered (other side closed)`,
    ],
    [
      'InformationalError',
      new undiciErrors.InformationalError('reset'),
      'UpstreamUnreachableError',
      `${unreachable}the connection failed (reset)`,
    ],
    [
      'ClientDestroyedError',
      new undiciErrors.ClientDestroyedError(),
      'UpstreamUnreachableError',
      `${unreachable}the connection pool was closed by a reload or shutdown`,
    ],
    [
      'ClientClosedError',
      new undiciErrors.ClientClosedError(),
      'UpstreamUnreachableError',
      `${unreachable}the connection pool was closed by a reload or shutdown`,
    ],
    [
      'ResponseExceededMaxSizeError',
      new undiciErrors.ResponseExceededMaxSizeError(),
      'UpstreamProtocolError',
      'The upstream response is larger than the limit of 1024 bytes (LLMGW_MAX_UPSTREAM_RESPONSE_BYTES).',
    ],
    [
      'HeadersOverflowError',
      new undiciErrors.HeadersOverflowError(),
      'UpstreamProtocolError',
      'The upstream provider sent response headers larger than the gateway accepts.',
    ],
    [
      'ResponseContentLengthMismatchError',
      new undiciErrors.ResponseContentLengthMismatchError(),
      'UpstreamProtocolError',
      'The upstream provider sent a body whose length does not match its Content-Length header.',
    ],
    [
      'RequestContentLengthMismatchError',
      new undiciErrors.RequestContentLengthMismatchError(),
      'UpstreamProtocolError',
      'The request to the upstream provider did not match its own Content-Length header.',
    ],
    [
      'InvalidReturnValueError',
      new undiciErrors.InvalidReturnValueError(),
      'UpstreamProtocolError',
      'The HTTP client failed while handling the upstream response.',
    ],
    [
      'NotSupportedError',
      new undiciErrors.NotSupportedError('expect header not supported'),
      'UpstreamProtocolError',
      'The upstream exchange needs an HTTP feature the gateway does not support: expect header not supported',
    ],
    [
      'InvalidArgumentError',
      new undiciErrors.InvalidArgumentError('invalid authorization header'),
      'UpstreamProtocolError',
      'The request to the upstream provider could not be sent: invalid authorization header',
    ],
    [
      'HTTPParserError',
      new undiciErrors.HTTPParserError('Response does not match the HTTP/1.1 protocol (Invalid status)'),
      'UpstreamProtocolError',
      'The upstream provider sent a response that is not valid HTTP: Response does not match the HTTP/1.1 protocol (Invalid status)',
    ],
    [
      'ResponseError',
      new undiciErrors.ResponseError('Response error', 500, {}),
      'UpstreamUnreachableError',
      `${unreachable}Response error (UND_ERR_RESPONSE)`,
    ],
    [
      'SecureProxyConnectionError',
      new undiciErrors.SecureProxyConnectionError(),
      'UpstreamUnreachableError',
      `${unreachable}Secure Proxy Connection failed (UND_ERR_PRX_TLS)`,
    ],
  ])('maps undici %s to a gateway error that says what happened', (_name, error, name, detail) => {
    const mapped = summary(mapTransportError(error, LIMITS));
    expect(mapped).toEqual({ name, status: 502, detail });
  });

  it('maps every error class undici exports to a 502, 504 or the client-gone 499', () => {
    const statuses = new Set<number>();
    for (const [name, ErrorClass] of Object.entries(undiciErrors)) {
      if (name === 'UndiciError') continue;
      // RequestRetryError and ResponseError destructure a third argument.
      const error = new (ErrorClass as new (message?: string, code?: string, extra?: object) => Error)(
        undefined,
        undefined,
        { headers: {}, data: null, body: null },
      );
      statuses.add(summary(mapTransportError(error, LIMITS)).status);
    }
    expect([...statuses].sort()).toEqual([499, 502, 504]);
  });

  it.each([
    ['a socket error', new undiciErrors.SocketError('other side closed')],
    ['a reset', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })],
  ])('maps %s mid-stream to a connection lost mid-stream, not an unreachable upstream', (_name, error) => {
    expect(summary(mapTransportError(error, LIMITS, 'stream'))).toEqual({
      name: 'UpstreamConnectionLostError',
      status: 502,
      detail: 'The upstream provider closed the connection mid-stream.',
    });
  });

  it('maps a socket error while reading a unary body to a connection lost before the response was complete', () => {
    const error = new undiciErrors.SocketError('other side closed');
    expect(summary(mapTransportError(error, LIMITS, 'response'))).toEqual({
      name: 'UpstreamConnectionLostError',
      status: 502,
      detail: 'The upstream provider closed the connection before its response was complete.',
    });
  });

  it.each(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN'])(
    'maps a %s system error to 502 naming the code',
    (code) => {
      const error = Object.assign(new Error(`connect ${code}`), { code });
      expect(summary(mapTransportError(error, LIMITS))).toEqual({
        name: 'UpstreamUnreachableError',
        status: 502,
        detail: `Could not reach the upstream provider: ${code}`,
      });
    },
  );

  it.each([
    'CERT_HAS_EXPIRED',
    'ERR_TLS_CERT_ALTNAME_INVALID',
    'DEPTH_ZERO_SELF_SIGNED_CERT',
    'ERR_SSL_WRONG_VERSION_NUMBER',
  ])('maps the TLS failure %s to 502 naming it', (code) => {
    const error = Object.assign(new Error('tls'), { code });
    expect(summary(mapTransportError(error, LIMITS)).detail).toBe(
      `Could not reach the upstream provider: TLS error ${code}`,
    );
  });

  it('keeps the cause of a mapped error for the log', () => {
    const cause = new undiciErrors.HeadersTimeoutError();
    const mapped = mapTransportError(cause, LIMITS);
    expect(mapped).toBeInstanceOf(UpstreamTimeoutError);
    expect((mapped as UpstreamTimeoutError).cause).toBe(cause);
  });

  it('returns a gateway error unchanged', () => {
    const error = new UpstreamProtocolError('Malformed response from OpenAI: missing usage');
    expect(mapTransportError(error, LIMITS)).toBe(error);
  });

  it.each([
    ['undici RequestAbortedError', new undiciErrors.RequestAbortedError()],
    ['a DOMException AbortError', new DOMException('This operation was aborted', 'AbortError')],
  ])('maps %s (the client went away) to a 499 that is no server error', (_name, error) => {
    const mapped = mapTransportError(error, LIMITS, 'stream');
    expect(mapped).toBeInstanceOf(ClientClosedRequestError);
    expect(summary(mapped)).toEqual({
      name: 'ClientClosedRequestError',
      status: 499,
      detail: 'The client closed the request before the response was ready.',
    });
  });

  it('returns an error that is no transport error unchanged, so it becomes a 500', () => {
    const error = new TypeError('boom');
    expect(mapTransportError(error, LIMITS)).toBe(error);
  });
});

describe('classifyFailure', () => {
  const defaults = RETRYABLE_STATUSES;
  it.each([
    ['a refused connection', new UpstreamUnreachableError('ECONNREFUSED'), 'retryable'],
    ['a connection dropped mid-answer', new UpstreamConnectionLostError('reset'), 'retryable'],
    ['a timeout', new UpstreamTimeoutError(5), 'retryable'],
    ['an upstream 429', new UpstreamError(429, 'slow'), 'retryable'],
    ['an upstream 500', new UpstreamError(500, 'boom'), 'retryable'],
    ['an upstream 502', new UpstreamError(502, 'bad'), 'retryable'],
    ['an upstream 503', new UpstreamError(503, 'down'), 'retryable'],
    ['an upstream 504', new UpstreamError(504, 'late'), 'retryable'],
    ['an upstream 400', new UpstreamError(400, 'bad'), 'final'],
    ['an upstream 401', new UpstreamError(401, 'key'), 'final'],
    ['an upstream 403', new UpstreamError(403, 'no'), 'final'],
    ['an upstream 404', new UpstreamError(404, 'gone'), 'final'],
    ['an upstream 422', new UpstreamError(422, 'bad'), 'final'],
    ['an answer the gateway cannot read', new UpstreamProtocolError('not JSON'), 'final'],
    ['a request the adapter rejected', new InvalidRequestError(422, 'n must be 1'), 'final'],
    ['a bug', new TypeError('x is undefined'), 'final'],
    ['the client going away', new ClientClosedRequestError(), 'client_gone'],
  ])('classifies %s as %s', (_name, error, kind) => {
    expect(classifyFailure(error, defaults)).toBe(kind);
  });

  it('reads upstream statuses from the given set only', () => {
    expect(classifyFailure(new UpstreamError(500, 'boom'), new Set([503]))).toBe('final');
    expect(classifyFailure(new UpstreamError(529, 'overloaded'), new Set([529]))).toBe('retryable');
    expect(classifyFailure(new UpstreamTimeoutError(5), new Set<number>())).toBe('retryable');
  });

  it('retries the statuses FALLBACK routes fall back on by default', () => {
    expect([...RETRYABLE_STATUSES]).toEqual([...DEFAULT_FALLBACK_STATUSES]);
  });
});
