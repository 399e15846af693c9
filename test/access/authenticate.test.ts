import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { authenticate, presentedKey } from '../../src/access/authenticate.js';
import { compileEndpointPatterns } from '../../src/access/authorize.js';
import type { AccessConfig, Client } from '../../src/access/clients.js';

const client: Client = {
  name: 'team-a',
  keySha256: createHash('sha256').update('secret-a').digest(),
  endpoints: compileEndpointPatterns(null),
  calls: null,
  tokens: null,
  budget: null,
};
const access: AccessConfig = {
  clients: [client],
  byKeySha256: new Map([[client.keySha256.toString('hex'), client]]),
  protectDocs: false,
  protectMetrics: false,
};

describe('presentedKey', () => {
  it.each([
    [{ authorization: 'Bearer k1' }, 'k1'],
    [{ authorization: 'bearer   k1 ' }, 'k1'],
    [{ 'x-api-key': 'k2' }, 'k2'],
    [{ 'api-key': 'k3' }, 'k3'],
    [{ 'x-goog-api-key': 'k4' }, 'k4'],
    [{ authorization: 'Basic abc', 'x-api-key': 'k5' }, 'k5'],
  ])('reads the key from %j', (headers, key) => {
    expect(presentedKey(headers, {}, false)).toBe(key);
  });

  it('reads ?key= only where the query key is allowed', () => {
    expect(presentedKey({}, { key: 'k6' }, true)).toBe('k6');
    expect(presentedKey({}, { key: 'k6' }, false)).toBeNull();
  });

  it('finds no key in empty or malformed headers', () => {
    expect(presentedKey({ authorization: 'Bearer' }, {}, false)).toBeNull();
    expect(presentedKey({ 'x-api-key': '' }, {}, false)).toBeNull();
  });
});

describe('authenticate', () => {
  it('finds the client whose key hashes to a configured hash', () => {
    expect(authenticate(access, 'secret-a')).toBe(client);
  });

  it('finds no client for another key', () => {
    expect(authenticate(access, 'secret-b')).toBeNull();
    expect(authenticate(access, '')).toBeNull();
  });
});

describe('compileEndpointPatterns', () => {
  it('matches whole names, `*` as any run, and regex characters literally', () => {
    const patterns = compileEndpointPatterns(['a.b', 'x*y', '*-prod']);
    expect(
      ['a.b', 'aXb', 'xy', 'x-any-y', 'x-any-yz', 'chat-prod', 'prod'].map((name) => patterns.allows(name)),
    ).toEqual([true, false, true, true, false, true, false]);
  });

  it('allows nothing for an empty list and everything for none', () => {
    expect(compileEndpointPatterns([]).allows('chat')).toBe(false);
    expect(compileEndpointPatterns(null).allows('chat')).toBe(true);
  });
});
