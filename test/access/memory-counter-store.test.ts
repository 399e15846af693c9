import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MemoryCounterStore, SWEEP_INTERVAL_MS } from '../../src/access/memory-counter-store.js';

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'], now: 1_000_000 });
});

afterEach(() => {
  vi.useRealTimers();
});

describe('MemoryCounterStore', () => {
  it('counts calls in a window that starts at the first one and reports the time left', () => {
    const store = new MemoryCounterStore();
    expect(store.count('k', 60_000)).toEqual({ count: 1, ttlMs: 60_000 });
    vi.advanceTimersByTime(20_000);
    expect(store.count('k', 60_000)).toEqual({ count: 2, ttlMs: 40_000 });
    vi.advanceTimersByTime(39_999);
    expect(store.count('k', 60_000)).toEqual({ count: 3, ttlMs: 1 });
  });

  it('starts a new window with the first call at or after the end of the last one', () => {
    const store = new MemoryCounterStore();
    store.count('k', 60_000);
    store.count('k', 60_000);
    vi.advanceTimersByTime(60_000);
    expect(store.count('k', 60_000)).toEqual({ count: 1, ttlMs: 60_000 });
    vi.advanceTimersByTime(1_000);
    expect(store.count('k', 60_000)).toEqual({ count: 2, ttlMs: 59_000 });
  });

  it('adds the amount given', () => {
    const store = new MemoryCounterStore();
    expect(store.count('tokens', 60_000, 120)).toEqual({ count: 120, ttlMs: 60_000 });
    expect(store.count('tokens', 60_000, 30)).toEqual({ count: 150, ttlMs: 60_000 });
    expect(store.count('tokens', 60_000, 0)).toEqual({ count: 150, ttlMs: 60_000 });
  });

  it('keeps each key apart', () => {
    const store = new MemoryCounterStore();
    store.count('a', 60_000);
    store.count('a', 60_000);
    expect(store.count('b', 10_000)).toEqual({ count: 1, ttlMs: 10_000 });
  });

  it('resolves increment with the same count', async () => {
    const store = new MemoryCounterStore();
    await store.increment('k', 5_000);
    await expect(store.increment('k', 5_000, 2)).resolves.toEqual({ count: 3, ttlMs: 5_000 });
  });

  it('drops expired windows once the sweep interval has passed, keeping live ones', () => {
    const store = new MemoryCounterStore();
    for (let index = 0; index < 50; index += 1) store.count(`short-${index}`, 1_000);
    store.count('long', 3_600_000);
    expect(store.size).toBe(51);
    vi.advanceTimersByTime(SWEEP_INTERVAL_MS - 1);
    store.count('trigger', 1_000);
    expect(store.size).toBe(52);
    vi.advanceTimersByTime(1);
    store.count('trigger', 1_000);
    expect(store.size).toBe(2);
    expect(store.count('long', 3_600_000)).toEqual({ count: 2, ttlMs: 3_600_000 - SWEEP_INTERVAL_MS });
  });
});
