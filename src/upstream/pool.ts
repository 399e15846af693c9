import { Pool } from 'undici';

export interface PoolOptions {
  connectTimeoutMs: number;
}

/**
 * One keep-alive undici Pool per upstream origin, shared by every endpoint that calls it and
 * kept across config reloads. `retainOnly` closes the pools no endpoint uses any more; undici's
 * `close()` lets their requests in flight finish first.
 */
export class PoolSet {
  readonly #pools = new Map<string, Pool>();
  readonly #options: PoolOptions;
  #tracking: Set<string> | null = null;

  constructor(options: PoolOptions) {
    this.#options = options;
  }

  get(origin: string): Pool {
    this.#tracking?.add(origin);
    let pool = this.#pools.get(origin);
    if (!pool) {
      pool = new Pool(origin, { connect: { timeout: this.#options.connectTimeoutMs } });
      this.#pools.set(origin, pool);
    }
    return pool;
  }

  get origins(): string[] {
    return [...this.#pools.keys()];
  }

  /**
   * Runs `build` (which resolves its pools synchronously, as adapter constructors do) and
   * returns the origins it asked for: what a config snapshot needs kept open.
   */
  track<T>(build: () => T): { value: T; origins: ReadonlySet<string> } {
    const origins = new Set<string>();
    const outer = this.#tracking;
    this.#tracking = origins;
    try {
      const value = build();
      return { value, origins };
    } finally {
      this.#tracking = outer;
      if (outer) for (const origin of origins) outer.add(origin);
    }
  }

  async retainOnly(origins: ReadonlySet<string>): Promise<void> {
    const closing: Promise<void>[] = [];
    for (const [origin, pool] of this.#pools) {
      if (origins.has(origin)) continue;
      this.#pools.delete(origin);
      closing.push(pool.close());
    }
    await Promise.all(closing);
  }

  async close(): Promise<void> {
    await this.retainOnly(new Set());
  }
}
