import type { CounterStore, CounterWindow } from './counter-store.js';

/** How often expired windows are dropped; between sweeps they cost one small object each. */
export const SWEEP_INTERVAL_MS = 60_000;

interface Window {
  count: number;
  expiresAtMs: number;
}

/**
 * Counters in this process's memory: the store of a single process, of the cluster primary
 * serving its workers, and of a worker whose primary is unreachable. Expired windows are swept
 * on an increment at most once per SWEEP_INTERVAL_MS, so no timer runs and memory holds only
 * the keys counted within the last window plus one interval.
 */
export class MemoryCounterStore implements CounterStore {
  readonly #windows = new Map<string, Window>();
  #nextSweepMs = Date.now() + SWEEP_INTERVAL_MS;

  /** The keys currently held, expired or not (for tests and diagnostics). */
  get size(): number {
    return this.#windows.size;
  }

  increment(key: string, windowMs: number, amount = 1): Promise<CounterWindow> {
    return Promise.resolve(this.count(key, windowMs, amount));
  }

  /** `increment` without the promise, for callers that answer synchronously (the primary). */
  count(key: string, windowMs: number, amount = 1): CounterWindow {
    const now = Date.now();
    if (now >= this.#nextSweepMs) this.#sweep(now);
    let window = this.#windows.get(key);
    if (window === undefined || window.expiresAtMs <= now) {
      window = { count: amount, expiresAtMs: now + windowMs };
      this.#windows.set(key, window);
    } else {
      window.count += amount;
    }
    return { count: window.count, ttlMs: window.expiresAtMs - now };
  }

  #sweep(now: number): void {
    this.#nextSweepMs = now + SWEEP_INTERVAL_MS;
    for (const [key, window] of this.#windows) {
      if (window.expiresAtMs <= now) this.#windows.delete(key);
    }
  }
}
