import {
  ClientClosedRequestError,
  RateLimitedError,
  UpstreamError,
  UpstreamTimeoutError,
} from '../errors.js';
import type { AdapterLogger, CallContext } from '../providers/base.js';
import type { Cancellation } from '../upstream/cancellation.js';
import type { Endpoint } from '../server/endpoint-table.js';
import { classifyFailure, RETRYABLE_STATUSES } from '../upstream/errors.js';
import { parseRetryAfterMs, retryDelayMs } from './backoff.js';
import type { Route } from './route.js';

// The routing layer: which endpoint serves a call, how often it is tried, and when to give up.
// Fastify-free, so every ingress (gateway routes, /v1, native client APIs) shares it.

/** What a request names: one endpoint, or a traffic route over several. */
export type Target = Endpoint | Route;

/** The answer and who gave it. */
export interface Served<T> {
  endpoint: Endpoint;
  value: T;
  /** Upstream attempts made in all, the serving one included. */
  attempts: number;
  /** The call context the serving attempt was given (stream terminators are keyed by its signal). */
  call: CallContext;
}

/** Implemented by telemetry (metrics, traces); the executor only calls it. */
export interface AttemptObserver {
  /**
   * `attempt` counts the request's upstream attempts from 1, across destinations. A destination
   * skipped for its limit gets only `attemptFinished(…, 'rate_limited')`, numbered with the
   * attempts made before it.
   */
  attemptStarted(endpoint: Endpoint, attempt: number): void;
  attemptFinished(
    endpoint: Endpoint,
    attempt: number,
    outcome: 'success' | 'retryable' | 'final' | 'client_gone' | 'rate_limited',
    error?: unknown,
  ): void;
  firstChunk?(endpoint: Endpoint): void;
}

export interface ExecuteContext {
  /** Aborted when the client goes away. */
  readonly signal: AbortSignal;
  /**
   * The same event without an AbortSignal: when given, attempts get it in their call context
   * and `signal` is only read where a real signal is needed (it may be made on first read).
   */
  readonly cancellation?: Cancellation | undefined;
  log: AdapterLogger;
  observer?: AttemptObserver | undefined;
  /**
   * Counts one call against a destination's `limit` and rejects with RateLimitedError when
   * the window is used up. Called once per destination tried, only for endpoints with a limit.
   */
  admit?: ((endpoint: Endpoint) => Promise<void>) | undefined;
  /** In `now`'s clock: no retry or fallback starts past it (the gateway timeout from request start). */
  deadlineMs?: number | undefined;
  now?: (() => number) | undefined;
  /** In [0, 1): traffic split picks and backoff jitter. */
  random?: (() => number) | undefined;
  /** Waits between retries; must reject when `signal` aborts. */
  sleep?: ((ms: number, signal: AbortSignal) => Promise<void>) | undefined;
}

type Attempt<T> = (endpoint: Endpoint, call: CallContext) => Promise<T>;

/** One JSON answer, from the first destination and attempt that gives one. */
export function executeUnary<T>(
  target: Target,
  context: ExecuteContext,
  attempt: Attempt<T>,
): Promise<Served<T>> {
  if (isPlain(target)) return executePlain(target, context, attempt);
  return executeRouted(target, context, attempt, runUnary);
}

/**
 * A stream, committed to one destination. When another attempt could still follow, the first
 * chunk is awaited here, so a failure before it moves on and nothing was sent to the client.
 */
export function executeStream<C>(
  target: Target,
  context: ExecuteContext,
  attempt: Attempt<AsyncIterable<C>>,
): Promise<Served<AsyncIterable<C>>> {
  if (isPlain(target)) return executePlainStream(target, context, attempt);
  return executeRouted(target, context, attempt, runStream);
}

/** A name on a snapshot: endpoints and routes share one namespace (reference §2.10.1). */
export function resolveTarget(targets: ReadonlyMap<string, Target>, name: string): Target | undefined {
  return targets.get(name);
}

/** An endpoint with no retry and no timeout of its own: one call, no timers, no prefetch. */
function isPlain(target: Target): target is Endpoint {
  return target.kind === 'endpoint' && target.retry === null && target.attemptTimeoutMs === null;
}

async function executePlain<T>(
  endpoint: Endpoint,
  context: ExecuteContext,
  attempt: Attempt<T>,
): Promise<Served<T>> {
  if (context.admit && endpoint.limit) await context.admit(endpoint);
  const observer = context.observer;
  observer?.attemptStarted(endpoint, 1);
  const call = callOf(context);
  try {
    const value = await attempt(endpoint, call);
    observer?.attemptFinished(endpoint, 1, 'success');
    return { endpoint, value, attempts: 1, call };
  } catch (error) {
    observer?.attemptFinished(endpoint, 1, outcomeOf(error, isClientGone(context)), error);
    throw error;
  }
}

async function executePlainStream<C>(
  endpoint: Endpoint,
  context: ExecuteContext,
  attempt: Attempt<AsyncIterable<C>>,
): Promise<Served<AsyncIterable<C>>> {
  const served = await executePlain(endpoint, context, attempt);
  const observer = context.observer;
  if (observer?.firstChunk === undefined) return served;
  return { ...served, value: reportFirstChunk(served.value, () => observer.firstChunk?.(endpoint)) };
}

async function* reportFirstChunk<C>(chunks: AsyncIterable<C>, report: () => void): AsyncGenerator<C> {
  let isFirst = true;
  for await (const chunk of chunks) {
    if (isFirst) report();
    isFirst = false;
    yield chunk;
  }
}

/** One try of one endpoint: the call's value, or the error it failed with. */
type Run<T> = (
  endpoint: Endpoint,
  call: CallContext,
  attempt: Attempt<T>,
  disarm: () => void,
  context: ExecuteContext,
) => Promise<T>;

async function runUnary<T>(
  endpoint: Endpoint,
  call: CallContext,
  attempt: Attempt<T>,
  disarm: () => void,
): Promise<T> {
  try {
    return await attempt(endpoint, call);
  } finally {
    disarm();
  }
}

async function runStream<C>(
  endpoint: Endpoint,
  call: CallContext,
  attempt: Attempt<AsyncIterable<C>>,
  disarm: () => void,
  context: ExecuteContext,
): Promise<AsyncIterable<C>> {
  let iterator: AsyncIterator<C> | undefined;
  try {
    iterator = (await attempt(endpoint, call))[Symbol.asyncIterator]();
    const first = await iterator.next();
    context.observer?.firstChunk?.(endpoint);
    return prepend(first, iterator);
  } catch (error) {
    // Release the upstream connection at once; its own failure adds nothing.
    void iterator?.return?.().catch(ignore);
    throw error;
  } finally {
    // The per-attempt timeout bounds the wait for the first chunk only.
    disarm();
  }
}

async function* prepend<C>(first: IteratorResult<C>, iterator: AsyncIterator<C>): AsyncGenerator<C> {
  if (first.done === true) return;
  yield first.value;
  // yield* forwards an early return() to the upstream iterator, which closes its connection.
  yield* { [Symbol.asyncIterator]: () => iterator };
}

function ignore(): void {
  // A stream abandoned before its first chunk: nobody reads its failure.
}

/** Tries destinations in order, each with its retries, until one answers or none may follow. */
async function executeRouted<T>(
  target: Target,
  context: ExecuteContext,
  attempt: Attempt<T>,
  run: Run<T>,
): Promise<Served<T>> {
  const now = context.now ?? Date.now;
  const random = context.random ?? Math.random;
  const isRoute = target.kind === 'route';
  const destinations = isRoute ? destinationsOf(target, random) : [target];
  const fallbackStatuses = isRoute && target.strategy === 'FALLBACK' ? target.fallbackStatuses : null;
  let attempts = 0;
  let last: unknown = undefined;
  for (const endpoint of destinations) {
    if (attempts > 0 && isPastDeadline(context, now, 0)) break;
    if (context.admit && endpoint.limit) {
      try {
        await context.admit(endpoint);
      } catch (error) {
        if (!(isRoute && error instanceof RateLimitedError)) throw error;
        context.observer?.attemptFinished(endpoint, attempts, 'rate_limited', error);
        last = error;
        continue;
      }
    }
    for (let retry = 0; ; retry += 1) {
      attempts += 1;
      context.observer?.attemptStarted(endpoint, attempts);
      const call = attemptCall(endpoint, context);
      try {
        const value = await run(endpoint, call.context, attempt, call.disarm, context);
        context.observer?.attemptFinished(endpoint, attempts, 'success');
        return { endpoint, value, attempts, call: call.context };
      } catch (thrown) {
        const error = timeoutOf(call.context) ?? thrown;
        const failure = classify(error, isClientGone(context), fallbackStatuses);
        context.observer?.attemptFinished(endpoint, attempts, failure.outcome, error);
        if (failure.outcome !== 'retryable') throw error;
        last = error;
        const delayMs = failure.canRetry ? nextDelayMs(endpoint, retry + 1, error, now, random) : null;
        if (delayMs === null || isPastDeadline(context, now, delayMs)) {
          if (!failure.canFallBack) throw error;
          break;
        }
        await (context.sleep ?? sleep)(delayMs, context.signal);
      }
    }
  }
  // TRAFFIC_SPLIT gets here only when no destination had room; FALLBACK when all failed.
  throw last;
}

function destinationsOf(route: Route, random: () => number): readonly Endpoint[] {
  return route.strategy === 'FALLBACK' ? route.destinations : route.split.order(random());
}

function isPastDeadline(context: ExecuteContext, now: () => number, delayMs: number): boolean {
  return context.deadlineMs !== undefined && now() + delayMs >= context.deadlineMs;
}

/** The wait before retry number `retry` of this endpoint, or null when no retry follows. */
function nextDelayMs(
  endpoint: Endpoint,
  retry: number,
  error: unknown,
  now: () => number,
  random: () => number,
): number | null {
  const policy = endpoint.retry;
  if (policy === null || retry >= policy.attempts) return null;
  const retryAfter = error instanceof UpstreamError ? error.retryAfter : null;
  return retryDelayMs(policy, retry, parseRetryAfterMs(retryAfter ?? undefined, now()), random());
}

interface Failure {
  outcome: 'retryable' | 'final' | 'client_gone';
  /** Worth another attempt at the same endpoint (its `retry` policy decides how many). */
  canRetry: boolean;
  /** Worth the next destination of a FALLBACK route. */
  canFallBack: boolean;
}

function classify(
  error: unknown,
  isClientGone: boolean,
  fallbackStatuses: ReadonlySet<number> | null,
): Failure {
  if (isClientGone) return { outcome: 'client_gone', canRetry: false, canFallBack: false };
  const canRetry = classifyFailure(error, RETRYABLE_STATUSES) === 'retryable';
  const canFallBack = fallbackStatuses !== null && classifyFailure(error, fallbackStatuses) === 'retryable';
  const outcome = canRetry || canFallBack ? 'retryable' : classifyFailure(error, RETRYABLE_STATUSES);
  return { outcome, canRetry, canFallBack };
}

function outcomeOf(error: unknown, isClientGone: boolean): Failure['outcome'] {
  return classify(error, isClientGone, null).outcome;
}

function isClientGone(context: ExecuteContext): boolean {
  return context.cancellation?.isCancelled ?? context.signal.aborted;
}

/** A per-attempt timeout fired: whatever the adapter made of the abort, it is a 504. */
function timeoutOf(call: CallContext): UpstreamTimeoutError | null {
  // A call with a cancellation has no timer of its own (see attemptCall).
  if (call.cancellation !== undefined) return null;
  const signal = call.signal;
  return signal.aborted && signal.reason instanceof UpstreamTimeoutError ? signal.reason : null;
}

/** The call context of an attempt without a timeout of its own: the request's cancellation, if any. */
function callOf(context: ExecuteContext): CallContext {
  const cancellation = context.cancellation;
  return cancellation === undefined
    ? { signal: context.signal, log: context.log }
    : new CancellableCall(cancellation, context.log);
}

class CancellableCall implements CallContext {
  readonly cancellation: Cancellation;
  readonly log: AdapterLogger;

  constructor(cancellation: Cancellation, log: AdapterLogger) {
    this.cancellation = cancellation;
    this.log = log;
  }

  /** Made on first read only: unary JSON calls subscribe to the cancellation instead. */
  get signal(): AbortSignal {
    return this.cancellation.signal;
  }
}

const NO_TIMER = (): void => undefined;

/**
 * The call context of one attempt: the client's signal, or, when the endpoint sets
 * `timeout_seconds`, a signal that also aborts with UpstreamTimeoutError when it runs out.
 */
function attemptCall(
  endpoint: Endpoint,
  context: ExecuteContext,
): { context: CallContext; disarm: () => void } {
  const timeoutMs = endpoint.attemptTimeoutMs;
  if (timeoutMs === null) return { context: callOf(context), disarm: NO_TIMER };
  const controller = new AbortController();
  const clientSignal = context.signal;
  const forwardAbort = (): void => {
    controller.abort(clientSignal.reason);
  };
  if (clientSignal.aborted) forwardAbort();
  else clientSignal.addEventListener('abort', forwardAbort, { once: true });
  const timer = setTimeout(() => {
    controller.abort(new UpstreamTimeoutError(timeoutMs / 1000));
  }, timeoutMs);
  return {
    context: { signal: controller.signal, log: context.log },
    disarm: () => {
      clearTimeout(timer);
    },
  };
}

/** Waits `ms`, or rejects with the signal's reason when the client goes away first. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(new ClientClosedRequestError(signal.reason));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new ClientClosedRequestError(signal.reason));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
