import { errors as undiciErrors } from 'undici';
import { describe, expect, it } from 'vitest';
import { GatewayError, UpstreamProtocolError, UpstreamTimeoutError } from '../../src/errors.js';
import {
  mapTransportError,
  reasonPhrase,
  unsupportedContentType,
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

describe('mapTransportError (reference [D6])', () => {
  it.each([
    ['a headers timeout', new undiciErrors.HeadersTimeoutError()],
    ['a body timeout', new undiciErrors.BodyTimeoutError()],
  ])('maps %s to 504 naming the configured seconds', (_name, error) => {
    expect(summary(mapTransportError(error, 7))).toEqual({
      name: 'UpstreamTimeoutError',
      status: 504,
      detail: 'The upstream provider did not respond within 7 seconds.',
    });
  });

  it('maps a connect timeout to 502', () => {
    expect(summary(mapTransportError(new undiciErrors.ConnectTimeoutError(), 7))).toEqual({
      name: 'UpstreamUnreachableError',
      status: 502,
      detail: 'Could not reach the upstream provider: connection timed out',
    });
  });

  it('maps a socket error to 502', () => {
    expect(summary(mapTransportError(new undiciErrors.SocketError('other side closed'), 7))).toEqual({
      name: 'UpstreamUnreachableError',
      status: 502,
      detail: 'Could not reach the upstream provider: the connection was closed unexpectedly',
    });
  });

  it.each(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN'])(
    'maps a %s system error to 502 naming the code',
    (code) => {
      const error = Object.assign(new Error(`connect ${code}`), { code });
      expect(summary(mapTransportError(error, 7))).toEqual({
        name: 'UpstreamUnreachableError',
        status: 502,
        detail: `Could not reach the upstream provider: ${code}`,
      });
    },
  );

  it('keeps the cause of a mapped error for the log', () => {
    const cause = new undiciErrors.HeadersTimeoutError();
    const mapped = mapTransportError(cause, 7);
    expect(mapped).toBeInstanceOf(UpstreamTimeoutError);
    expect((mapped as UpstreamTimeoutError).cause).toBe(cause);
  });

  it('returns a gateway error unchanged', () => {
    const error = new UpstreamProtocolError('Malformed response from OpenAI: missing usage');
    expect(mapTransportError(error, 7)).toBe(error);
  });

  it('returns the abort of a request the gateway cancelled unchanged', () => {
    const error = new undiciErrors.RequestAbortedError();
    expect(mapTransportError(error, 7)).toBe(error);
  });

  it('returns an unknown error unchanged, so it becomes a 500', () => {
    const error = new TypeError('boom');
    expect(mapTransportError(error, 7)).toBe(error);
  });
});
