import { once } from 'node:events';
import type { Redis } from 'ioredis';
import type { CounterStore, CounterStoreLog, CounterWindow } from './counter-store.js';

/** How often an unreachable Redis is reported while requests pass unlimited. */
const REDIS_ERROR_LOG_INTERVAL_MS = 60_000;
/** A Redis that does not answer within this is treated as unreachable for that call. */
const REDIS_COMMAND_TIMEOUT_MS = 1000;
/** How long start-up waits for Redis before serving with limits open. */
const REDIS_READY_TIMEOUT_MS = 3000;
/** Every llmgw key in a shared Redis starts with this. */
const REDIS_KEY_PREFIX = 'llmgw:';

// The same fixed window as MemoryCounterStore: PEXPIRE only when the key has no expiry, which
// is when INCRBY just created it (or a PEXPIRE failed before; the next call repairs that).
const INCREMENT_SCRIPT = `
local count = redis.call('INCRBY', KEYS[1], ARGV[2])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}`;

interface CountingRedis {
  llmgwIncrement(key: string, windowMs: number, amount: number): Promise<[number, number]>;
}

/** Reports Redis failures at most once per interval, and the recovery once. */
class RedisHealth {
  readonly #log: CounterStoreLog;
  #lastReportMs = Number.NEGATIVE_INFINITY;
  #isFailing = false;

  constructor(log: CounterStoreLog) {
    this.#log = log;
  }

  failed(error: unknown): void {
    this.#isFailing = true;
    const now = Date.now();
    if (now - this.#lastReportMs < REDIS_ERROR_LOG_INTERVAL_MS) return;
    this.#lastReportMs = now;
    this.#log.error(
      { err: error },
      'Rate-limit store (Redis) unreachable: requests pass without rate limits until it returns',
    );
  }

  succeeded(): void {
    if (!this.#isFailing) return;
    this.#isFailing = false;
    this.#log.info('Rate-limit store (Redis) reachable again: rate limits are enforced');
  }
}

/**
 * Counters in Redis, shared by every gateway process and replica pointing at it. A call fails
 * fast (no offline queue, 1 s command timeout) and rejects; the caller decides to fail open.
 */
export class RedisCounterStore implements CounterStore {
  readonly #redis: Redis;
  readonly #counting: CountingRedis;
  readonly #onCount: (result: [number, number]) => CounterWindow;
  readonly #onError: (error: unknown) => never;

  private constructor(redis: Redis, health: RedisHealth) {
    this.#redis = redis;
    this.#counting = redis as unknown as CountingRedis;
    this.#onCount = ([count, ttlMs]) => {
      health.succeeded();
      return { count, ttlMs };
    };
    this.#onError = (error) => {
      health.failed(error);
      throw error instanceof Error ? error : new Error(String(error));
    };
  }

  /** Connects, waiting at most REDIS_READY_TIMEOUT_MS; an unreachable Redis still yields a store. */
  static async connect(url: string, log: CounterStoreLog): Promise<RedisCounterStore> {
    // Loaded only when a Redis URL is configured: ioredis adds about 10 MB of RSS.
    const { Redis: RedisClient } = await import('ioredis');
    const health = new RedisHealth(log);
    const redis = new RedisClient(url, {
      // Fail fast instead of queueing while Redis is away: the request then passes (fail open).
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
      connectTimeout: REDIS_READY_TIMEOUT_MS,
      retryStrategy: (attempt) => Math.min(attempt * 100, 2000),
    });
    redis.defineCommand('llmgwIncrement', { numberOfKeys: 1, lua: INCREMENT_SCRIPT });
    redis.on('error', (error: unknown) => {
      health.failed(error);
    });
    redis.on('ready', () => {
      health.succeeded();
    });
    const timer = AbortSignal.timeout(REDIS_READY_TIMEOUT_MS);
    await Promise.race([once(redis, 'ready', { signal: timer }), once(redis, 'error')]).catch(
      () => undefined,
    );
    return new RedisCounterStore(redis, health);
  }

  increment(key: string, windowMs: number, amount = 1): Promise<CounterWindow> {
    return this.#counting
      .llmgwIncrement(REDIS_KEY_PREFIX + key, windowMs, amount)
      .then(this.#onCount, this.#onError);
  }

  close(): void {
    this.#redis.disconnect();
  }
}
