import { once } from 'node:events';
import rateLimit, { type FastifyRateLimitStore } from '@fastify/rate-limit';
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import type { RateLimit } from '../config/schema.js';
import { RateLimitedError } from '../errors.js';

/**
 * An endpoint's `limit`, resolved once per config load. Counters are keyed by endpoint name and
 * window length, not by client or path: the limit is the endpoint's, whichever route reaches it
 * (MLflow keys by client address and path and never limits /v1; we close that hole on purpose).
 * A reload that keeps the window keeps the count, and a changed `calls` applies at once.
 */
export interface LimitPlan {
  readonly key: string;
  readonly calls: number;
  readonly windowMs: number;
  /** Reference §7: `Rate limit exceeded: <calls> per <multiplier> <unit>`. */
  readonly message: string;
}

export function planLimit(endpointName: string, limit: RateLimit | null): LimitPlan | null {
  if (!limit) return null;
  const { multiplier, unit, seconds } = limit.period;
  return {
    key: `${endpointName}:${seconds}`,
    calls: limit.calls,
    windowMs: seconds * 1000,
    message: `Rate limit exceeded: ${limit.calls} per ${multiplier} ${unit}`,
  };
}

/** How often an unreachable Redis is reported while requests pass unlimited. */
export const REDIS_ERROR_LOG_INTERVAL_MS = 60_000;
/** A Redis that does not answer within this is treated as unreachable for that request. */
const REDIS_COMMAND_TIMEOUT_MS = 1000;
/** How long start-up waits for Redis before serving with limits open. */
const REDIS_READY_TIMEOUT_MS = 3000;
const REDIS_KEY_PREFIX = 'llmgw:rate-limit:';

// A fixed window that starts at the key's first counted request, like the library's own store;
// a key left without expiry (a failed PEXPIRE) gets one on the next call.
const INCREMENT_SCRIPT = `
local current = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if current == 1 or ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {current, ttl}`;

type IncrementCallback = (error: Error | null, result?: { current: number; ttl: number }) => void;

interface CountingRedis {
  llmgwIncrement(key: string, windowMs: number): Promise<[number, number]>;
}

/** Reports Redis failures at most once per interval, and the recovery once. */
class RedisHealth {
  readonly #log: FastifyBaseLogger;
  #lastReportMs = Number.NEGATIVE_INFINITY;
  #isFailing = false;

  constructor(log: FastifyBaseLogger) {
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

/** The @fastify/rate-limit store interface over Redis, shared by every gateway process. */
function redisStoreClass(redis: Redis, health: RedisHealth): new () => FastifyRateLimitStore {
  const counting = redis as unknown as CountingRedis;
  return class RedisCounterStore implements FastifyRateLimitStore {
    incr(key: string, callback: IncrementCallback, timeWindow?: number): void {
      counting.llmgwIncrement(REDIS_KEY_PREFIX + key, timeWindow ?? 0).then(
        ([current, ttl]) => {
          health.succeeded();
          callback(null, { current, ttl });
        },
        (error: unknown) => {
          health.failed(error);
          callback(error instanceof Error ? error : new Error(String(error)));
        },
      );
    }

    child(): FastifyRateLimitStore {
      return this;
    }
  };
}

async function connectRedis(url: string, health: RedisHealth): Promise<Redis> {
  // Loaded only when a Redis URL is configured: ioredis adds about 10 MB of RSS.
  const { Redis: RedisClient } = await import('ioredis');
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
  await Promise.race([once(redis, 'ready', { signal: timer }), once(redis, 'error')]).catch(() => undefined);
  return redis;
}

type LimitCheck = ReturnType<FastifyInstance['createRateLimit']>;

declare module 'fastify' {
  interface FastifyInstance {
    /** Counts one call against an endpoint's limit (see `enforceRateLimit`). */
    checkRateLimit: LimitCheck;
  }
}

const plans = new WeakMap<FastifyRequest, LimitPlan>();

function planOf(request: FastifyRequest): LimitPlan {
  const plan = plans.get(request);
  if (!plan) throw new Error('enforceRateLimit sets the plan before counting');
  return plan;
}

export interface RateLimitOptions {
  /** `redis://…`: counters shared by every process using it; otherwise in memory. */
  redisUrl?: string | undefined;
}

/** Registers @fastify/rate-limit (in memory, or Redis) and the per-endpoint check. */
export async function registerRateLimit(app: FastifyInstance, options: RateLimitOptions): Promise<void> {
  let store: (new () => FastifyRateLimitStore) | undefined;
  if (options.redisUrl !== undefined) {
    const health = new RedisHealth(app.log);
    const redis = await connectRedis(options.redisUrl, health);
    app.addHook('onClose', () => {
      redis.disconnect();
    });
    store = redisStoreClass(redis, health);
  }
  await app.register(rateLimit, {
    global: false,
    // A store error (Redis unreachable) lets the request pass: fail open.
    skipOnError: true,
    // The in-memory store is an LRU; one entry per limited endpoint and window.
    cache: 100_000,
    ...(store ? { store } : {}),
  });
  app.decorate(
    'checkRateLimit',
    app.createRateLimit({
      keyGenerator: (request) => planOf(request).key,
      max: (request) => planOf(request).calls,
      timeWindow: (request) => planOf(request).windowMs,
    }),
  );
}

/**
 * Counts one call against the endpoint's limit, after body validation and before the provider
 * is called (reference §7); throws RateLimitedError (429) when the window is used up. Headers go
 * on the raw response so streamed replies carry them too.
 */
export async function enforceRateLimit(
  plan: LimitPlan,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<void> {
  plans.set(request, plan);
  const result = await request.server.checkRateLimit(request);
  // ttl 0: the store failed and the request passes unlimited, so there is nothing to report.
  if (result.isAllowed || result.ttl === 0) return;
  const raw = reply.raw;
  raw.setHeader('x-ratelimit-limit', result.max);
  raw.setHeader('x-ratelimit-remaining', result.remaining);
  raw.setHeader('x-ratelimit-reset', result.ttlInSeconds);
  if (result.isExceeded) throw new RateLimitedError(plan.message, result.ttlInSeconds);
}
