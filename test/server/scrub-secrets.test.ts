import { describe, expect, it } from 'vitest';
import { Secret } from '../../src/config/secrets.js';
import { UpstreamError } from '../../src/errors.js';
import type { Endpoint } from '../../src/server/endpoint-table.js';
import { scrubberFor, scrubError } from '../../src/server/scrub-secrets.js';

/** Only `config.config` is read, so the rest of the endpoint is left out. */
function endpointWith(providerConfig: unknown): Endpoint {
  return { config: { config: providerConfig } } as unknown as Endpoint;
}

const KEY = 'sk-proj-abcdef0123456789';
const SECRET_KEY = 'aws-secret-9876543210';

describe('scrubberFor', () => {
  it('replaces every secret of the provider config, nested ones included, with [redacted]', () => {
    const scrub = scrubberFor(
      endpointWith({
        openai_api_key: new Secret(KEY, 'literal'),
        openai_api_base: 'https://api.openai.com/v1',
        aws_config: { aws_secret_access_key: new Secret(SECRET_KEY, '$AWS_SECRET_ACCESS_KEY') },
      }),
    );
    expect(scrub(`key ${KEY} and ${SECRET_KEY}, again ${KEY}; base https://api.openai.com/v1`)).toBe(
      'key [redacted] and [redacted], again [redacted]; base https://api.openai.com/v1',
    );
  });

  it('replaces a secret that contains another secret whole', () => {
    const scrub = scrubberFor(
      endpointWith({ a: new Secret('abcdefgh', 'literal'), b: new Secret('abcdefgh-long-key', 'literal') }),
    );
    expect(scrub('got abcdefgh-long-key')).toBe('got [redacted]');
  });

  it('leaves values shorter than 8 characters alone: no real key is that short', () => {
    const scrub = scrubberFor(endpointWith({ key: new Secret('key', 'literal') }));
    expect(scrub('invalid x-api-key')).toBe('invalid x-api-key');
  });

  it('builds the scrubber once per endpoint', () => {
    const endpoint = endpointWith({ openai_api_key: new Secret(KEY, 'literal') });
    expect(scrubberFor(endpoint)).toBe(scrubberFor(endpoint));
  });
});

describe('scrubError', () => {
  const scrub = scrubberFor(endpointWith({ key: new Secret(KEY, 'literal') }));

  it('scrubs a gateway error detail of any shape, keeping its class and status', () => {
    const error = new UpstreamError(401, { message: `bad ${KEY}`, list: [KEY, 1], [KEY]: true });
    const scrubbed = scrubError(error, scrub);
    expect(scrubbed).toBe(error);
    expect({ name: error.name, status: error.status, detail: error.detail }).toEqual({
      name: 'UpstreamError',
      status: 401,
      detail: { message: 'bad [redacted]', list: ['[redacted]', 1], '[redacted]': true },
    });
    expect(error.message).not.toContain(KEY);
  });

  it('scrubs the message, stack and causes of an unknown error before the log sees them', () => {
    const cause = new Error(`socket said ${KEY}`);
    const error = new TypeError(`failed with ${KEY}`, { cause });
    scrubError(error, scrub);
    expect([error.message, cause.message]).toEqual(['failed with [redacted]', 'socket said [redacted]']);
    expect(`${error.stack ?? ''}${cause.stack ?? ''}`).not.toContain(KEY);
  });

  it("scrubs an abort's DOMException, whose message is a getter, without throwing", () => {
    const abort = new DOMException(`aborted ${KEY}`, 'AbortError');
    const error = new TypeError('fetch failed', { cause: abort });
    expect(() => scrubError(error, scrub)).not.toThrow();
    expect(abort.message).toBe('aborted [redacted]');
    expect(abort.name).toBe('AbortError');
  });

  it('leaves errors alone for an endpoint without secrets', () => {
    const error = new UpstreamError(400, `text ${KEY}`);
    scrubError(error, scrubberFor(endpointWith({ base: 'http://x' })));
    expect(error.detail).toBe(`text ${KEY}`);
  });
});
