import rateLimit, { type FastifyRateLimitStore } from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { CounterStore, CounterStoreLog } from '../access/counter-store.js';
import { MemoryCounterStore } from '../access/memory-counter-store.js';
import { RedisCounterStore } from '../access/redis-counter-store.js';
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

/** Endpoint limits' keys in the shared counter store; client limits use other prefixes. */
const ENDPOINT_KEY_PREFIX = 'rate-limit:';

type IncrementCallback = (error: Error | null, result?: { current: number; ttl: number }) => void;

/** Adapts the counter store to @fastify/rate-limit's store interface. */
function rateLimitStoreClass(counters: CounterStore): new () => FastifyRateLimitStore {
  return class CounterStoreAdapter implements FastifyRateLimitStore {
    incr(key: string, callback: IncrementCallback, timeWindow?: number): void {
      counters.increment(ENDPOINT_KEY_PREFIX + key, timeWindow ?? 0).then(
        ({ count, ttlMs }) => {
          callback(null, { current: count, ttl: ttlMs });
        },
        (error: unknown) => {
          callback(error instanceof Error ? error : new Error(String(error)));
        },
      );
    }

    child(): FastifyRateLimitStore {
      return this;
    }
  };
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
  /** `redis://…`: counters shared by every process using it. */
  redisUrl?: string | undefined;
  /**
   * Without Redis, where the counters live: a cluster worker passes its primary's store
   * (ClusterCounterStore). Default: this process's memory.
   */
  counterStore?: ((log: CounterStoreLog) => CounterStore) | undefined;
}

async function openCounterStore(app: FastifyInstance, options: RateLimitOptions): Promise<CounterStore> {
  if (options.redisUrl !== undefined) {
    const redis = await RedisCounterStore.connect(options.redisUrl, app.log);
    app.addHook('onClose', () => {
      redis.close();
    });
    return redis;
  }
  return options.counterStore?.(app.log) ?? new MemoryCounterStore();
}

/**
 * Registers @fastify/rate-limit over the counter store, and the per-endpoint check. Resolves
 * with the store, which client limits (src/access) count on too.
 */
export async function registerRateLimit(
  app: FastifyInstance,
  options: RateLimitOptions,
): Promise<CounterStore> {
  const counters = await openCounterStore(app, options);
  await app.register(rateLimit, {
    global: false,
    // A store error (Redis unreachable) lets the request pass: fail open.
    skipOnError: true,
    store: rateLimitStoreClass(counters),
  });
  app.decorate(
    'checkRateLimit',
    app.createRateLimit({
      keyGenerator: (request) => planOf(request).key,
      max: (request) => planOf(request).calls,
      timeWindow: (request) => planOf(request).windowMs,
    }),
  );
  return counters;
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
