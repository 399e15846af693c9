import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { admitClient, readClientUsage, recordClientUsage } from '../../src/access/client-limits.js';
import { compileEndpointPatterns } from '../../src/access/authorize.js';
import type { Client } from '../../src/access/clients.js';
import type { CounterStore } from '../../src/access/counter-store.js';
import { MemoryCounterStore } from '../../src/access/memory-counter-store.js';

const log = { info: vi.fn(), warn: vi.fn(), error: vi.fn() };
const PRICING = { input_per_million: 1, output_per_million: 2 };

function client(caps: Partial<Pick<Client, 'calls' | 'tokens' | 'budget'>>): Client {
  return {
    name: 'a',
    keySha256: createHash('sha256').update('k').digest(),
    endpoints: compileEndpointPatterns(null),
    calls: null,
    tokens: null,
    budget: null,
    ...caps,
  };
}

const calls = { key: 'client:a:calls:60', cap: 2, windowMs: 60_000, period: '1 minute' };
const tokens = { key: 'client:a:tokens:60', cap: 100, windowMs: 60_000, period: '1 minute' };
const budget = { key: 'client:a:usd:86400', cap: 300, windowMs: 86_400_000, period: '1 day' };

let store: MemoryCounterStore;
beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
  store = new MemoryCounterStore();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('admitClient', () => {
  it('admits exactly `calls` requests per window, then refuses until it renews', async () => {
    const limited = client({ calls });
    expect(await admitClient(store, limited, log)).toBeNull();
    expect(await admitClient(store, limited, log)).toBeNull();
    vi.advanceTimersByTime(15_000);
    expect(await admitClient(store, limited, log)).toEqual({
      kind: 'calls',
      cap: 2,
      count: 3,
      retryAfterSeconds: 45,
      message: "Rate limit exceeded for client 'a': 2 calls per 1 minute; renews in 45 s",
    });
    vi.advanceTimersByTime(45_000);
    expect(await admitClient(store, limited, log)).toBeNull();
  });

  it('admits while tokens are below the cap and refuses once usage reaches it', async () => {
    const limited = client({ tokens });
    expect(await admitClient(store, limited, log)).toBeNull();
    await recordClientUsage(store, limited, { inputTokens: 60, outputTokens: 39 }, null, log);
    expect(await admitClient(store, limited, log)).toBeNull();
    await recordClientUsage(store, limited, { inputTokens: 1, outputTokens: 0 }, null, log);
    expect(await admitClient(store, limited, log)).toMatchObject({
      kind: 'tokens',
      count: 100,
      message: "Token limit exceeded for client 'a': 100 tokens per 1 minute; renews in 60 s",
    });
  });

  it('refuses once the spend reaches the budget, naming it in USD', async () => {
    const limited = client({ budget });
    const recorded = await recordClientUsage(
      store,
      limited,
      { inputTokens: 100, outputTokens: 100 },
      PRICING,
      log,
    );
    expect(recorded).toEqual({ tokens: 200, costMicroUsd: 300 });
    expect(await admitClient(store, limited, log)).toEqual({
      kind: 'budget',
      cap: 300,
      count: 300,
      retryAfterSeconds: 86_400,
      message: "Budget exhausted for client 'a': 0.0003 USD per 1 day; renews in 86400 s",
    });
  });

  it('lets the request pass when the counter store fails', async () => {
    const broken: CounterStore = { increment: () => Promise.reject(new Error('down')) };
    expect(await admitClient(broken, client({ calls }), log)).toBeNull();
    expect(log.error).toHaveBeenCalledWith(
      { err: new Error('down'), client: 'a' },
      'client limits not checked: the counter store failed',
    );
  });
});

describe('readClientUsage', () => {
  it('shows each window without counting anything', async () => {
    const limited = client({ calls, tokens, budget });
    await admitClient(store, limited, log);
    await recordClientUsage(store, limited, { inputTokens: 10, outputTokens: 20 }, PRICING, log);
    vi.advanceTimersByTime(10_000);
    const expected = {
      client: 'a',
      calls: { limit: 2, used: 1, remaining: 1, renewal_period: '1 minute', resets_in_seconds: 50 },
      tokens: { limit: 100, used: 30, remaining: 70, renewal_period: '1 minute', resets_in_seconds: 50 },
      budget_usd: {
        limit: 0.0003,
        used: 0.00005,
        remaining: 0.00025,
        renewal_period: '1 day',
        resets_in_seconds: 86_390,
      },
    };
    expect(await readClientUsage(store, limited)).toEqual(expected);
    expect(await readClientUsage(store, limited)).toEqual(expected);
  });
});
