import { describe, expect, it } from 'vitest';
import { limitSchema, parseRenewalPeriod } from '../../src/config/schema.js';

const LIMIT_ERROR =
  'Failed to parse the rate limit configuration.Please make sure limit.calls is a positive number andlimit.renewal_period is a right granularity';

describe('parseRenewalPeriod (reference §2.7)', () => {
  it.each([
    ['second', { multiplier: 1, unit: 'second', seconds: 1 }],
    ['minutes', { multiplier: 1, unit: 'minute', seconds: 60 }],
    ['5 minutes', { multiplier: 5, unit: 'minute', seconds: 300 }],
    ['  Hour  ', { multiplier: 1, unit: 'hour', seconds: 3600 }],
    ['DAY', { multiplier: 1, unit: 'day', seconds: 86_400 }],
    ['2 months', { multiplier: 2, unit: 'month', seconds: 2 * 30 * 86_400 }],
    ['year', { multiplier: 1, unit: 'year', seconds: 360 * 86_400 }],
    ['10second', { multiplier: 10, unit: 'second', seconds: 10 }],
  ])('parses %j', (text, expected) => {
    expect(parseRenewalPeriod(text)).toEqual(expected);
  });

  it.each(['fortnight', '', 'minute;5/second', '0 minutes', '-1 minute', '1.5 hours', 'minutess'])(
    'rejects %j',
    (text) => {
      expect(parseRenewalPeriod(text)).toBeNull();
    },
  );
});

describe('limitSchema', () => {
  it('keeps the configured text and a null key by default', () => {
    expect(limitSchema.parse({ calls: 3, renewal_period: '5 minutes' })).toEqual({
      calls: 3,
      renewalPeriod: '5 minutes',
      key: null,
      period: { multiplier: 5, unit: 'minute', seconds: 300 },
    });
  });

  it.each([
    ['an unknown granularity', { calls: 1, renewal_period: 'fortnight' }, ['renewal_period']],
    ['negative calls', { calls: -1, renewal_period: 'minute' }, ['calls']],
  ])('fails %s with the reference message', (_case, input, path) => {
    expect(
      limitSchema.safeParse(input).error?.issues.map(({ message, path: at }) => ({ message, at })),
    ).toEqual([{ message: LIMIT_ERROR, at: path }]);
  });

  it('rejects fractional calls', () => {
    expect(limitSchema.safeParse({ calls: 1.5, renewal_period: 'minute' }).success).toBe(false);
  });
});
