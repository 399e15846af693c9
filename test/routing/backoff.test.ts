import { describe, expect, it } from 'vitest';
import { parseRetryAfterMs, retryDelayMs } from '../../src/routing/backoff.js';

const policy = { attempts: 4, backoffMs: 100, maxBackoffMs: 300, maxRetryAfterMs: 2000 };

describe('retryDelayMs', () => {
  it.each([
    [1, 0.5, 50],
    [2, 0.5, 100],
    [3, 0.5, 150],
    [4, 0.99, 297],
  ])(
    'doubles the ceiling per retry up to the maximum, with full jitter (retry %s)',
    (retry, random, delay) => {
      expect(retryDelayMs(policy, retry, null, random)).toBe(delay);
    },
  );

  it("waits as long as the upstream's Retry-After asks, ignoring the backoff", () => {
    expect(retryDelayMs(policy, 1, 1500, 0.5)).toBe(1500);
  });

  it('gives up when Retry-After asks for more than the cap', () => {
    expect(retryDelayMs(policy, 1, 2001, 0.5)).toBeNull();
  });
});

describe('parseRetryAfterMs', () => {
  const now = Date.parse('2026-12-02T08:00:00Z');

  it.each([
    ['3', 3000],
    [' 0 ', 0],
    ['Wed, 02 Dec 2026 08:00:05 GMT', 5000],
    ['Wed, 02 Dec 2026 07:59:00 GMT', 0],
  ])('reads %j', (value, expected) => {
    expect(parseRetryAfterMs(value, now)).toBe(expected);
  });

  it.each([undefined, '', 'soon', '-1'])('ignores %j', (value) => {
    expect(parseRetryAfterMs(value, now)).toBeNull();
  });
});
