import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  ClusterCounterStore,
  COUNTER_IPC_TIMEOUT_MS,
  serveClusterCounters,
  type CounterWorker,
} from '../../src/access/cluster-counter-store.js';
import { MemoryCounterStore } from '../../src/access/memory-counter-store.js';
import { FakePrimary, fakeLog, type FakeChannel } from '../fakes/cluster-primary.js';

afterEach(() => {
  vi.useRealTimers();
});

const UNREACHABLE_AFTER_TIMEOUT = `Rate-limit counters: the primary process is unreachable (it did not answer within ${COUNTER_IPC_TIMEOUT_MS} ms); this worker counts on its own until it answers`;

function workerStore(channel: FakeChannel, log = fakeLog()) {
  return { store: new ClusterCounterStore({ channel, log }), log };
}

describe('ClusterCounterStore with a primary that answers', () => {
  it('shares one count between workers, each call getting a distinct count', async () => {
    const primary = new FakePrimary();
    const first = workerStore(primary.connect()).store;
    const second = workerStore(primary.connect()).store;
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, index) => (index % 2 === 0 ? first : second).increment('k', 60_000)),
    );
    expect(results.map((result) => result.count).sort((a, b) => a - b)).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
    ]);
  });

  it('sends the key, window and amount, and resolves with the primary count and time left', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: 5_000 });
    const primary = new FakePrimary();
    const channel = primary.connect();
    const { store } = workerStore(channel);
    await store.increment('tokens', 60_000, 40);
    vi.advanceTimersByTime(15_000);
    await expect(store.increment('tokens', 60_000, 2)).resolves.toEqual({ count: 42, ttlMs: 45_000 });
    expect(channel.sent).toEqual([
      { llmgw: 'count', id: 1, key: 'tokens', windowMs: 60_000, amount: 40 },
      { llmgw: 'count', id: 2, key: 'tokens', windowMs: 60_000, amount: 2 },
    ]);
  });
});

describe('ClusterCounterStore when the primary cannot answer', () => {
  it('counts locally once the timeout passes without an answer, and warns once', async () => {
    vi.useFakeTimers();
    const primary = new FakePrimary({ isAnswering: false });
    const { store, log } = workerStore(primary.connect());
    let settled = false;
    const first = store.increment('k', 60_000).then((result) => {
      settled = true;
      return result;
    });
    const second = store.increment('k', 60_000);
    await vi.advanceTimersByTimeAsync(COUNTER_IPC_TIMEOUT_MS - 1);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await first).toEqual({ count: 1, ttlMs: 60_000 });
    expect(await second).toEqual({ count: 2, ttlMs: 60_000 });
    expect(log.warn.mock.calls).toEqual([[UNREACHABLE_AFTER_TIMEOUT]]);
  });

  it('times out each call on its own deadline', async () => {
    vi.useFakeTimers();
    const primary = new FakePrimary({ isAnswering: false });
    const { store } = workerStore(primary.connect());
    const settled: string[] = [];
    void store.increment('early', 60_000).then(() => settled.push('early'));
    await vi.advanceTimersByTimeAsync(600);
    void store.increment('late', 60_000).then(() => settled.push('late'));
    await vi.advanceTimersByTimeAsync(400);
    expect(settled).toEqual(['early']);
    await vi.advanceTimersByTimeAsync(600);
    expect(settled).toEqual(['early', 'late']);
  });

  it('drops a late answer and logs once the primary answers again', async () => {
    vi.useFakeTimers();
    const primary = new FakePrimary({ isAnswering: false });
    const { store, log } = workerStore(primary.connect());
    const timedOut = store.increment('k', 60_000);
    await vi.advanceTimersByTimeAsync(COUNTER_IPC_TIMEOUT_MS);
    expect(await timedOut).toEqual({ count: 1, ttlMs: 60_000 });
    primary.isAnswering = true;
    primary.answerHeld();
    await expect(store.increment('k', 60_000)).resolves.toEqual({ count: 2, ttlMs: 60_000 });
    expect(log.info.mock.calls).toEqual([
      ['Rate-limit counters: the primary process answers again; counts are shared'],
    ]);
  });

  it('counts the calls in flight locally at once when the channel closes', async () => {
    // The clock stands still, so the time left is the whole window however busy the machine is.
    vi.useFakeTimers({ toFake: ['Date'] });
    const primary = new FakePrimary({ isAnswering: false });
    const channel = primary.connect();
    const { store, log } = workerStore(channel);
    const pending = [store.increment('k', 60_000), store.increment('k', 60_000, 3)];
    channel.disconnect();
    expect(await Promise.all(pending)).toEqual([
      { count: 1, ttlMs: 60_000 },
      { count: 4, ttlMs: 60_000 },
    ]);
    expect(log.warn.mock.calls).toEqual([
      [
        'Rate-limit counters: the primary process is unreachable (the IPC channel closed); this worker counts on its own until it answers',
      ],
    ]);
  });

  it('counts locally without sending once the channel is closed', async () => {
    // The clock stands still, so the time left is the whole window however busy the machine is.
    vi.useFakeTimers({ toFake: ['Date'] });
    const primary = new FakePrimary();
    const channel = primary.connect();
    const { store } = workerStore(channel);
    channel.disconnect();
    await expect(store.increment('k', 60_000)).resolves.toEqual({ count: 1, ttlMs: 60_000 });
    await expect(store.increment('k', 60_000)).resolves.toEqual({ count: 2, ttlMs: 60_000 });
    expect(channel.sent).toEqual([]);
  });

  it('counts locally when sending fails', async () => {
    // The clock stands still, so the time left is the whole window however busy the machine is.
    vi.useFakeTimers({ toFake: ['Date'] });
    const primary = new FakePrimary();
    const channel = primary.connect();
    channel.sendError = new Error('channel closed');
    const { store, log } = workerStore(channel);
    await expect(store.increment('k', 60_000)).resolves.toEqual({ count: 1, ttlMs: 60_000 });
    expect(log.warn).toHaveBeenCalledOnce();
  });
});

describe('serveClusterCounters', () => {
  function worker(isConnected = true) {
    return { isConnected: () => isConnected, send: vi.fn<CounterWorker['send']>(() => true) };
  }

  it('ignores messages that are not count requests', () => {
    const source = new EventEmitter();
    serveClusterCounters(source);
    const target = worker();
    for (const message of ['llmgw:shutdown', null, { llmgw: 'count', id: 1, key: 'k' }, 42]) {
      source.emit('message', target, message);
    }
    expect(target.send).not.toHaveBeenCalled();
  });

  it('counts for a worker that disconnected without answering it', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const source = new EventEmitter();
    const store = new MemoryCounterStore();
    serveClusterCounters(source, store);
    const gone = worker(false);
    source.emit('message', gone, { llmgw: 'count', id: 1, key: 'k', windowMs: 1000, amount: 1 });
    expect(gone.send).not.toHaveBeenCalled();
    expect(store.count('k', 1000)).toEqual({ count: 2, ttlMs: 1000 });
  });
});
