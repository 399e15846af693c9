import type { CounterStore, CounterStoreLog, CounterWindow } from './counter-store.js';
import { MemoryCounterStore } from './memory-counter-store.js';

/** How long a worker waits for the primary's count before counting the call itself. */
export const COUNTER_IPC_TIMEOUT_MS = 1000;

/** Worker → primary: count `amount` for `key`. */
interface CountRequest {
  llmgw: 'count';
  id: number;
  key: string;
  windowMs: number;
  amount: number;
}

/** Primary → worker: the count after request `id`. */
interface CountReply {
  llmgw: 'counted';
  id: number;
  count: number;
  ttlMs: number;
}

function isCountRequest(message: unknown): message is CountRequest {
  if (typeof message !== 'object' || message === null) return false;
  const candidate = message as Partial<CountRequest>;
  return (
    candidate.llmgw === 'count' &&
    typeof candidate.id === 'number' &&
    typeof candidate.key === 'string' &&
    typeof candidate.windowMs === 'number' &&
    typeof candidate.amount === 'number'
  );
}

function isCountReply(message: unknown): message is CountReply {
  if (typeof message !== 'object' || message === null) return false;
  const candidate = message as Partial<CountReply>;
  return (
    candidate.llmgw === 'counted' &&
    typeof candidate.id === 'number' &&
    typeof candidate.count === 'number' &&
    typeof candidate.ttlMs === 'number'
  );
}

/** A worker as the primary sees it (node:cluster's Worker). */
export interface CounterWorker {
  isConnected(): boolean;
  send(message: CountReply, callback: (error: Error | null) => void): boolean;
}

/** Where the primary hears its workers (node:cluster's `cluster` object). */
export interface CounterWorkerSource {
  on(event: 'message', listener: (worker: CounterWorker, message: unknown) => void): unknown;
}

// A worker that disconnected between the check and the send is being replaced; its caller
// already counts locally, so the failed reply needs no handling (and must not throw).
const ignoreSendError = (): void => undefined;

/**
 * The primary's side: one memory store holds the counts of all workers, so a limit is exact
 * however many workers serve. Counting is synchronous in the primary's single thread, so
 * concurrent calls from different workers cannot both see the last free slot.
 */
export function serveClusterCounters(
  source: CounterWorkerSource,
  store: MemoryCounterStore = new MemoryCounterStore(),
): void {
  source.on('message', (worker, message) => {
    if (!isCountRequest(message)) return;
    const { count, ttlMs } = store.count(message.key, message.windowMs, message.amount);
    if (!worker.isConnected()) return;
    worker.send({ llmgw: 'counted', id: message.id, count, ttlMs }, ignoreSendError);
  });
}

/** A worker's end of the IPC channel (`process` in a cluster worker). */
export interface CounterChannel {
  readonly connected: boolean;
  send(message: CountRequest, callback: (error: Error | null) => void): void;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  on(event: 'disconnect', listener: () => void): unknown;
}

/** `process` as a CounterChannel; only meaningful in a process forked with IPC. */
export function processChannel(): CounterChannel {
  return {
    get connected() {
      return process.connected;
    },
    send(message, callback) {
      process.send?.(message, undefined, undefined, callback);
    },
    on(event: 'message' | 'disconnect', listener: (message: unknown) => void) {
      return process.on(event, listener);
    },
  };
}

interface PendingCount {
  resolve: (window: CounterWindow) => void;
  key: string;
  windowMs: number;
  amount: number;
  deadlineMs: number;
}

export interface ClusterCounterStoreOptions {
  log: CounterStoreLog;
  channel?: CounterChannel;
  timeoutMs?: number;
}

/**
 * A worker's counters, kept by the primary. When the primary cannot answer (channel closed, or
 * no answer within the timeout) the call is counted in this worker's own memory instead: the
 * request is neither held nor let through uncounted, and the limit holds per worker until the
 * primary answers again. A worker whose primary is gone drains and exits (server/shutdown.ts),
 * so that state lasts one grace period at most.
 */
export class ClusterCounterStore implements CounterStore {
  readonly #channel: CounterChannel;
  readonly #log: CounterStoreLog;
  readonly #timeoutMs: number;
  readonly #pending = new Map<number, PendingCount>();
  readonly #local = new MemoryCounterStore();
  #nextId = 0;
  #timer: NodeJS.Timeout | null = null;
  #isCountingLocally = false;

  constructor(options: ClusterCounterStoreOptions) {
    this.#channel = options.channel ?? processChannel();
    this.#log = options.log;
    this.#timeoutMs = options.timeoutMs ?? COUNTER_IPC_TIMEOUT_MS;
    this.#channel.on('message', (message) => {
      if (isCountReply(message)) this.#settle(message);
    });
    this.#channel.on('disconnect', () => {
      this.#fallBackAll('the IPC channel closed');
    });
  }

  increment(key: string, windowMs: number, amount = 1): Promise<CounterWindow> {
    if (!this.#channel.connected) {
      this.#countingLocally('the IPC channel is closed');
      return Promise.resolve(this.#local.count(key, windowMs, amount));
    }
    this.#nextId += 1;
    const id = this.#nextId;
    return new Promise((resolve) => {
      const deadlineMs = Date.now() + this.#timeoutMs;
      this.#pending.set(id, { resolve, key, windowMs, amount, deadlineMs });
      this.#channel.send({ llmgw: 'count', id, key, windowMs, amount }, this.#onSent);
      this.#armTimer();
    });
  }

  readonly #onSent = (error: Error | null): void => {
    if (error) this.#fallBackAll('sending to it failed');
  };

  #settle(reply: CountReply): void {
    const pending = this.#pending.get(reply.id);
    // A late answer to a call already counted locally is dropped: that call is done.
    if (!pending) return;
    this.#pending.delete(reply.id);
    if (this.#isCountingLocally) {
      this.#isCountingLocally = false;
      this.#log.info('Rate-limit counters: the primary process answers again; counts are shared');
    }
    pending.resolve({ count: reply.count, ttlMs: reply.ttlMs });
  }

  // One timer for all calls in flight: they share one timeout, so the oldest expires first.
  #armTimer(): void {
    if (this.#timer !== null) return;
    const oldest = this.#pending.values().next();
    if (oldest.done === true) return;
    this.#timer = setTimeout(this.#expire, Math.max(0, oldest.value.deadlineMs - Date.now()));
    this.#timer.unref();
  }

  readonly #expire = (): void => {
    this.#timer = null;
    const now = Date.now();
    for (const [id, pending] of this.#pending) {
      if (pending.deadlineMs > now) break;
      this.#pending.delete(id);
      this.#countingLocally(`it did not answer within ${this.#timeoutMs} ms`);
      this.#countLocally(pending);
    }
    this.#armTimer();
  };

  #fallBackAll(reason: string): void {
    if (this.#pending.size === 0) return;
    this.#countingLocally(reason);
    const calls = [...this.#pending.values()];
    this.#pending.clear();
    for (const pending of calls) this.#countLocally(pending);
  }

  #countLocally(pending: PendingCount): void {
    pending.resolve(this.#local.count(pending.key, pending.windowMs, pending.amount));
  }

  #countingLocally(reason: string): void {
    if (this.#isCountingLocally) return;
    this.#isCountingLocally = true;
    this.#log.warn(
      `Rate-limit counters: the primary process is unreachable (${reason}); this worker counts on its own until it answers`,
    );
  }
}
