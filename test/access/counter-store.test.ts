import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterCounterStore } from '../../src/access/cluster-counter-store.js';
import type { CounterStore } from '../../src/access/counter-store.js';
import { MemoryCounterStore } from '../../src/access/memory-counter-store.js';
import { RedisCounterStore } from '../../src/access/redis-counter-store.js';
import { FakePrimary, fakeLog } from '../fakes/cluster-primary.js';
import { TestRedis } from '../helpers/redis.js';

let redis: TestRedis;
let redisStore: RedisCounterStore;

beforeAll(async () => {
  redis = await TestRedis.start();
  redisStore = await RedisCounterStore.connect(redis.url, fakeLog());
});

afterAll(async () => {
  redisStore.close();
  await redis.stop();
});

const STORES: [string, () => CounterStore][] = [
  ['memory', () => new MemoryCounterStore()],
  ['cluster', () => new ClusterCounterStore({ channel: new FakePrimary().connect(), log: fakeLog() })],
  ['redis', () => redisStore],
];

// The same calls give the same answers from every store, so a limit means the same thing in
// one process, across workers and across replicas.
describe.each(STORES)('the %s counter store', (name, create) => {
  const prefix = `contract-${name}:`;

  it('starts a window of the full length at the first call and counts amounts within it', async () => {
    const store = create();
    expect(await store.increment(`${prefix}a`, 60_000)).toEqual({ count: 1, ttlMs: 60_000 });
    const second = await store.increment(`${prefix}a`, 60_000, 4);
    expect(second.count).toBe(5);
    expect(second.ttlMs).toBeGreaterThan(59_000);
    expect(second.ttlMs).toBeLessThanOrEqual(60_000);
  });

  it('counts each key on its own', async () => {
    const store = create();
    await store.increment(`${prefix}b`, 60_000, 3);
    expect(await store.increment(`${prefix}c`, 1_000)).toEqual({ count: 1, ttlMs: 1_000 });
  });

  it('starts the window with a call of amount 0', async () => {
    const store = create();
    expect(await store.increment(`${prefix}d`, 60_000, 0)).toEqual({ count: 0, ttlMs: 60_000 });
    expect((await store.increment(`${prefix}d`, 60_000)).count).toBe(1);
  });
});
