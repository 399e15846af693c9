import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RedisCounterStore } from '../../src/access/redis-counter-store.js';
import { fakeLog } from '../fakes/cluster-primary.js';
import { TestRedis } from '../helpers/redis.js';

let redis: TestRedis;
let inspector: Redis;
const stores: RedisCounterStore[] = [];

beforeAll(async () => {
  redis = await TestRedis.start();
  inspector = new Redis(redis.url);
});

afterEach(async () => {
  for (const store of stores.splice(0)) store.close();
  await inspector.flushall();
});

afterAll(async () => {
  inspector.disconnect();
  await redis.stop();
});

async function connect(log = fakeLog()): Promise<RedisCounterStore> {
  const store = await RedisCounterStore.connect(redis.url, log);
  stores.push(store);
  return store;
}

describe('RedisCounterStore', () => {
  it('counts under llmgw:<key> with the window as the key expiry', async () => {
    const store = await connect();
    expect(await store.increment('rate-limit:chat:60', 60_000)).toEqual({ count: 1, ttlMs: 60_000 });
    expect(await inspector.get('llmgw:rate-limit:chat:60')).toBe('1');
    const ttlMs = await inspector.pttl('llmgw:rate-limit:chat:60');
    expect(ttlMs).toBeGreaterThan(59_000);
    expect(ttlMs).toBeLessThanOrEqual(60_000);
  });

  it('adds the amount given and keeps the window of the first call', async () => {
    const store = await connect();
    await store.increment('tokens', 60_000, 100);
    await inspector.pexpire('llmgw:tokens', 30_000);
    const second = await store.increment('tokens', 60_000, 25);
    expect(second.count).toBe(125);
    expect(second.ttlMs).toBeGreaterThan(29_000);
    expect(second.ttlMs).toBeLessThanOrEqual(30_000);
  });

  it('starts a new window once the key has expired', async () => {
    const store = await connect();
    await store.increment('k', 60_000);
    await store.increment('k', 60_000);
    // What Redis does when the expiry passes.
    await inspector.del('llmgw:k');
    expect(await store.increment('k', 60_000)).toEqual({ count: 1, ttlMs: 60_000 });
  });

  it('gives a key left without expiry one on the next call', async () => {
    const store = await connect();
    await inspector.set('llmgw:k', '7');
    expect(await store.increment('k', 10_000)).toEqual({ count: 8, ttlMs: 10_000 });
    expect(await inspector.pttl('llmgw:k')).toBeGreaterThan(9_000);
  });

  it('rejects while Redis is down, logs it once, and logs the recovery', async () => {
    const log = fakeLog();
    const store = await connect(log);
    await redis.stop();
    await expect(store.increment('k', 60_000)).rejects.toThrow();
    await expect(store.increment('k', 60_000)).rejects.toThrow();
    expect(log.error.mock.calls.map(([, message]) => message)).toEqual([
      'Rate-limit store (Redis) unreachable: requests pass without rate limits until it returns',
    ]);
    const recovered = new Promise<void>((resolve) => {
      log.info.mockImplementation(() => {
        resolve();
      });
    });
    await redis.start();
    await recovered;
    expect(log.info.mock.calls).toEqual([
      ['Rate-limit store (Redis) reachable again: rate limits are enforced'],
    ]);
    expect(await store.increment('k', 60_000)).toEqual({ count: 1, ttlMs: 60_000 });
  });
});
