/**
 * The one counter store behind every limit: fixed windows counted by key. A key's window starts
 * at its first increment and lasts `windowMs`; the next increment after it ends starts a new one.
 * In memory (one process), in the cluster primary (workers, over IPC) or in Redis (replicas),
 * with the same window semantics in all three.
 */
export interface CounterStore {
  /**
   * Adds `amount` (≥ 0) to the key's count in its current window and resolves with the count
   * after the addition and the milliseconds left in the window. Rejects only when the backing
   * store is unreachable (Redis); callers decide whether that fails open.
   */
  increment(key: string, windowMs: number, amount?: number): Promise<CounterWindow>;
}

export interface CounterWindow {
  count: number;
  ttlMs: number;
}

/** The part of pino's logger the stores use, so this folder needs no Fastify types. */
export interface CounterStoreLog {
  info(message: string): void;
  warn(message: string): void;
  error(details: Record<string, unknown>, message: string): void;
}
