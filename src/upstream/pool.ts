import { Pool } from 'undici';

export interface PoolOptions {
  connectTimeoutMs: number;
}

/**
 * One keep-alive undici Pool per upstream origin, shared by every endpoint that calls it and
 * kept across config reloads. Each config snapshot holds its origins (`track`) until it is
 * neither serving nor running a request (`release`); a pool closes when no snapshot holds it,
 * so a request never finds its pool closed, whatever the order of overlapping reloads.
 */
export class PoolSet {
  readonly #pools = new Map<string, Pool>();
  /** Per origin, how many live snapshots hold it. */
  readonly #holders = new Map<string, number>();
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

  /** The origins with an open pool. */
  get origins(): string[] {
    return [...this.#pools.keys()];
  }

  /**
   * Runs `build` (which resolves its pools synchronously, as adapter constructors do) and holds
   * the origins it asked for until `release(origins)`. A build that throws holds nothing.
   */
  track<T>(build: () => T): { value: T; origins: ReadonlySet<string> } {
    const origins = new Set<string>();
    this.#tracking = origins;
    let value: T;
    try {
      value = build();
    } catch (error) {
      // Pools just made have no requests, so closing them cannot fail a caller.
      void this.#closeUnheld(origins);
      throw error;
    } finally {
      this.#tracking = null;
    }
    for (const origin of origins) this.#holders.set(origin, (this.#holders.get(origin) ?? 0) + 1);
    return { value, origins };
  }

  /** Drops one hold on each origin; a pool nobody holds any more closes after its requests. */
  release(origins: ReadonlySet<string>): Promise<void> {
    const unheld: string[] = [];
    for (const origin of origins) {
      const holders = (this.#holders.get(origin) ?? 0) - 1;
      if (holders > 0) {
        this.#holders.set(origin, holders);
        continue;
      }
      this.#holders.delete(origin);
      unheld.push(origin);
    }
    return this.#closeUnheld(unheld);
  }

  async close(): Promise<void> {
    this.#holders.clear();
    await this.#closeUnheld(this.origins);
  }

  async #closeUnheld(origins: Iterable<string>): Promise<void> {
    const closing: Promise<void>[] = [];
    for (const origin of origins) {
      const pool = this.#pools.get(origin);
      if (!pool || this.#holders.has(origin)) continue;
      this.#pools.delete(origin);
      closing.push(pool.close());
    }
    await Promise.all(closing);
  }
}
