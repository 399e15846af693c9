import { describe, expect, it } from 'vitest';
import type { RetryPolicy } from '../../src/config/schema.js';
import type { TrafficRouteConfig } from '../../src/config/traffic-routes.js';
import {
  InvalidRequestError,
  RateLimitedError,
  UpstreamError,
  UpstreamTimeoutError,
  UpstreamUnreachableError,
} from '../../src/errors.js';
import type { CallContext } from '../../src/providers/base.js';
import {
  executeStream,
  executeUnary,
  type AttemptObserver,
  type ExecuteContext,
} from '../../src/routing/execute.js';
import { buildRoute, type Route } from '../../src/routing/route.js';
import { Cancellation } from '../../src/upstream/cancellation.js';
import type { Endpoint } from '../../src/server/endpoint-table.js';

const LOG = { debug: () => undefined, warn: () => undefined };

/** Only the fields the executor reads. */
function endpoint(
  name: string,
  options: { retry?: RetryPolicy; attemptTimeoutMs?: number; hasLimit?: boolean } = {},
): Endpoint {
  return {
    kind: 'endpoint',
    name,
    type: 'llm/v1/chat',
    retry: options.retry ?? null,
    attemptTimeoutMs: options.attemptTimeoutMs ?? null,
    limit: options.hasLimit === true ? { key: name, calls: 1, windowMs: 1000, message: 'full' } : null,
  } as unknown as Endpoint;
}

function route(
  strategy: 'FALLBACK' | 'TRAFFIC_SPLIT',
  destinations: [Endpoint, number | null][],
  fallbackStatuses: number[] = [429, 500, 502, 503, 504],
): Route {
  const config: TrafficRouteConfig = {
    name: 'r',
    taskType: 'llm/v1/chat',
    strategy,
    destinations: destinations.map(([target, trafficPercentage]) => ({
      name: target.name,
      trafficPercentage,
    })),
    fallbackStatuses,
  };
  return buildRoute(config, new Map(destinations.map(([target]) => [target.name, target])));
}

const RETRY: RetryPolicy = { attempts: 3, backoffMs: 100, maxBackoffMs: 1000, maxRetryAfterMs: 5000 };

/** A context whose clock, randomness and sleeps are the test's; records sleeps and attempts. */
function testContext(overrides: Partial<ExecuteContext> = {}) {
  const sleeps: number[] = [];
  const events: string[] = [];
  const observer: AttemptObserver = {
    attemptStarted: (target, attempt) => events.push(`start ${target.name} ${attempt}`),
    attemptFinished: (target, attempt, outcome) => events.push(`${outcome} ${target.name} ${attempt}`),
    firstChunk: (target) => events.push(`first chunk ${target.name}`),
  };
  const context: ExecuteContext = {
    signal: new AbortController().signal,
    log: LOG,
    observer,
    now: () => 1000,
    random: () => 0.5,
    sleep: (ms) => {
      sleeps.push(ms);
      return Promise.resolve();
    },
    ...overrides,
  };
  return { context, sleeps, events };
}

/** An attempt function answering from a script per endpoint name, in order; records calls. */
function scripted(script: Record<string, (() => Promise<string>)[]>) {
  const calls: string[] = [];
  const attempt = (target: Endpoint, _call: CallContext): Promise<string> => {
    calls.push(target.name);
    const next = script[target.name]?.shift();
    if (!next) throw new Error(`no answer scripted for ${target.name}`);
    return next();
  };
  return { calls, attempt };
}

const ok = (value: string) => () => Promise.resolve(value);
const fail = (error: Error) => () => Promise.reject(error);
const unavailable = () => new UpstreamError(503, 'Service Unavailable');

describe('executeUnary', () => {
  it('calls a plain endpoint once with the client signal', async () => {
    const a = endpoint('a');
    const { context, events } = testContext();
    let seen: AbortSignal | null = null;
    const served = await executeUnary(a, context, (_target, call) => {
      seen = call.signal;
      return Promise.resolve('answer');
    });
    expect(served).toEqual({
      endpoint: a,
      value: 'answer',
      attempts: 1,
      call: { signal: context.signal, log: LOG },
    });
    expect(seen).toBe(context.signal);
    expect(events).toEqual(['start a 1', 'success a 1']);
  });

  it("hands a request's cancellation to the attempt, and makes its signal only when read", async () => {
    const a = endpoint('a');
    const { context } = testContext();
    const cancellation = new Cancellation();
    const withCancellation: ExecuteContext = {
      ...context,
      cancellation,
      get signal(): AbortSignal {
        return cancellation.signal;
      },
    };
    let seen: CallContext | null = null;
    await executeUnary(a, withCancellation, (_target, call) => {
      seen = call;
      return Promise.resolve('answer');
    });
    const call = seen as CallContext | null;
    expect(call?.cancellation).toBe(cancellation);
    cancellation.cancel();
    // Read after the cancel: made then, and already aborted.
    expect(call?.signal.aborted).toBe(true);
    expect(call?.signal).toBe(cancellation.signal);
  });

  it.each<[string, Error]>([
    ['a 503', unavailable()],
    ['a 429', new UpstreamError(429, 'slow down')],
    ['a timeout', new UpstreamTimeoutError(5)],
    ['a refused connection', new UpstreamUnreachableError('ECONNREFUSED')],
  ])('falls back to the next destination after %s', async (_name, error) => {
    const [a, b] = [endpoint('a'), endpoint('b')];
    const { context, events } = testContext();
    const { calls, attempt } = scripted({ a: [fail(error)], b: [ok('from b')] });
    const served = await executeUnary(
      route('FALLBACK', [
        [a, null],
        [b, null],
      ]),
      context,
      attempt,
    );
    expect(served).toMatchObject({ endpoint: b, value: 'from b', attempts: 2 });
    expect(calls).toEqual(['a', 'b']);
    expect(events).toEqual(['start a 1', 'retryable a 1', 'start b 2', 'success b 2']);
  });

  it('sends a 400 of the upstream to the client without trying another destination', async () => {
    const [a, b] = [endpoint('a'), endpoint('b')];
    const { context } = testContext();
    const error = new UpstreamError(400, 'bad request');
    const { calls, attempt } = scripted({ a: [fail(error)], b: [ok('from b')] });
    await expect(
      executeUnary(
        route('FALLBACK', [
          [a, null],
          [b, null],
        ]),
        context,
        attempt,
      ),
    ).rejects.toBe(error);
    expect(calls).toEqual(['a']);
  });

  it('never sends a request the adapter rejected to another destination', async () => {
    const [a, b] = [endpoint('a'), endpoint('b')];
    const { context } = testContext();
    const error = new InvalidRequestError(422, 'n must be 1');
    const { calls, attempt } = scripted({ a: [fail(error)], b: [ok('from b')] });
    await expect(
      executeUnary(
        route('FALLBACK', [
          [a, null],
          [b, null],
        ]),
        context,
        attempt,
      ),
    ).rejects.toBe(error);
    expect(calls).toEqual(['a']);
  });

  it('gives the last failure when every destination fails', async () => {
    const [a, b] = [endpoint('a'), endpoint('b')];
    const { context } = testContext();
    const last = new UpstreamError(502, 'bad gateway');
    const { attempt } = scripted({ a: [fail(unavailable())], b: [fail(last)] });
    await expect(
      executeUnary(
        route('FALLBACK', [
          [a, null],
          [b, null],
        ]),
        context,
        attempt,
      ),
    ).rejects.toBe(last);
  });

  it('falls back only on the statuses of fallback_on', async () => {
    const [a, b] = [endpoint('a'), endpoint('b')];
    const { context } = testContext();
    const error = new UpstreamError(500, 'boom');
    const { calls, attempt } = scripted({ a: [fail(error)], b: [ok('from b')] });
    const target = route(
      'FALLBACK',
      [
        [a, null],
        [b, null],
      ],
      [503],
    );
    await expect(executeUnary(target, context, attempt)).rejects.toBe(error);
    expect(calls).toEqual(['a']);
  });

  it('skips a FALLBACK destination over its limit', async () => {
    const [a, b] = [endpoint('a', { hasLimit: true }), endpoint('b')];
    const admit = (target: Endpoint) =>
      target.name === 'a' ? Promise.reject(new RateLimitedError('full', 1)) : Promise.resolve();
    const { context, events } = testContext({ admit });
    const { calls, attempt } = scripted({ b: [ok('from b')] });
    const served = await executeUnary(
      route('FALLBACK', [
        [a, null],
        [b, null],
      ]),
      context,
      attempt,
    );
    expect(served.endpoint).toBe(b);
    expect(calls).toEqual(['b']);
    expect(events).toEqual(['rate_limited a 0', 'start b 1', 'success b 1']);
  });

  it('gives the limit error of a plain endpoint over its limit to the client', async () => {
    const a = endpoint('a', { hasLimit: true });
    const error = new RateLimitedError('full', 1);
    const { context } = testContext({ admit: () => Promise.reject(error) });
    const { calls, attempt } = scripted({ a: [ok('from a')] });
    await expect(executeUnary(a, context, attempt)).rejects.toBe(error);
    expect(calls).toEqual([]);
  });
});

describe('TRAFFIC_SPLIT', () => {
  it.each([
    [0, 'a'],
    [0.79, 'a'],
    [0.8, 'b'],
    [0.99, 'b'],
  ])('sends random %d of an 80/20 split to %s', async (random, expected) => {
    const [a, b] = [endpoint('a'), endpoint('b')];
    const { context } = testContext({ random: () => random });
    const { attempt } = scripted({ a: [ok('from a')], b: [ok('from b')] });
    const served = await executeUnary(
      route('TRAFFIC_SPLIT', [
        [a, 80],
        [b, 20],
      ]),
      context,
      attempt,
    );
    expect(served.endpoint.name).toBe(expected);
  });

  it('follows the percentages over many picks', async () => {
    const [a, b] = [endpoint('a'), endpoint('b')];
    const target = route('TRAFFIC_SPLIT', [
      [a, 30],
      [b, 70],
    ]);
    const counts = { a: 0, b: 0 };
    for (let index = 0; index < 100; index += 1) {
      const { context } = testContext({ random: () => index / 100 });
      const served = await executeUnary(target, context, (chosen) => Promise.resolve(chosen.name));
      counts[served.value as 'a' | 'b'] += 1;
    }
    expect(counts).toEqual({ a: 30, b: 70 });
  });

  it('always picks the first destination of a 100/0 split', async () => {
    const [a, b] = [endpoint('a'), endpoint('b')];
    const target = route('TRAFFIC_SPLIT', [
      [a, 100],
      [b, 0],
    ]);
    for (const random of [0, 0.5, 0.999_999]) {
      const { context } = testContext({ random: () => random });
      const served = await executeUnary(target, context, (chosen) => Promise.resolve(chosen.name));
      expect(served.value).toBe('a');
    }
  });

  it('does not move an upstream failure to the other destination', async () => {
    const [a, b] = [endpoint('a'), endpoint('b')];
    const { context } = testContext({ random: () => 0 });
    const error = unavailable();
    const { calls, attempt } = scripted({ a: [fail(error)], b: [ok('from b')] });
    await expect(
      executeUnary(
        route('TRAFFIC_SPLIT', [
          [a, 50],
          [b, 50],
        ]),
        context,
        attempt,
      ),
    ).rejects.toBe(error);
    expect(calls).toEqual(['a']);
  });

  it('skips the picked destination when it is over its limit and another has room', async () => {
    const [a, b] = [endpoint('a', { hasLimit: true }), endpoint('b')];
    const admit = (target: Endpoint) =>
      target.name === 'a' ? Promise.reject(new RateLimitedError('full', 1)) : Promise.resolve();
    const { context } = testContext({ random: () => 0, admit });
    const { attempt } = scripted({ b: [ok('from b')] });
    const served = await executeUnary(
      route('TRAFFIC_SPLIT', [
        [a, 90],
        [b, 10],
      ]),
      context,
      attempt,
    );
    expect(served.endpoint).toBe(b);
  });
});

describe('retries', () => {
  it('retries the same upstream with exponential backoff and full jitter', async () => {
    const a = endpoint('a', { retry: RETRY });
    const { context, sleeps, events } = testContext({ random: () => 0.5 });
    const { calls, attempt } = scripted({ a: [fail(unavailable()), fail(unavailable()), ok('third')] });
    const served = await executeUnary(a, context, attempt);
    expect(served).toMatchObject({ value: 'third', attempts: 3 });
    expect(calls).toEqual(['a', 'a', 'a']);
    expect(sleeps).toEqual([50, 100]);
    expect(events).toEqual([
      'start a 1',
      'retryable a 1',
      'start a 2',
      'retryable a 2',
      'start a 3',
      'success a 3',
    ]);
  });

  it('stops after `attempts` and gives the last failure', async () => {
    const a = endpoint('a', { retry: { ...RETRY, attempts: 2 } });
    const { context, sleeps } = testContext();
    const last = new UpstreamError(502, 'second');
    const { calls, attempt } = scripted({ a: [fail(unavailable()), fail(last)] });
    await expect(executeUnary(a, context, attempt)).rejects.toBe(last);
    expect(calls).toEqual(['a', 'a']);
    expect(sleeps).toEqual([50]);
  });

  it("waits the upstream's Retry-After instead of the backoff", async () => {
    const a = endpoint('a', { retry: RETRY });
    const { context, sleeps } = testContext();
    const { attempt } = scripted({ a: [fail(new UpstreamError(429, 'slow down', '2')), ok('later')] });
    await executeUnary(a, context, attempt);
    expect(sleeps).toEqual([2000]);
  });

  it('does not retry when Retry-After asks for longer than max_retry_after_seconds', async () => {
    const a = endpoint('a', { retry: RETRY });
    const { context, sleeps } = testContext();
    const error = new UpstreamError(429, 'slow down', '60');
    const { attempt } = scripted({ a: [fail(error), ok('later')] });
    await expect(executeUnary(a, context, attempt)).rejects.toBe(error);
    expect(sleeps).toEqual([]);
  });

  it('does not retry a 400', async () => {
    const a = endpoint('a', { retry: RETRY });
    const { context } = testContext();
    const error = new UpstreamError(400, 'bad');
    const { calls, attempt } = scripted({ a: [fail(error), ok('later')] });
    await expect(executeUnary(a, context, attempt)).rejects.toBe(error);
    expect(calls).toEqual(['a']);
  });

  it('starts no retry past the overall deadline', async () => {
    const a = endpoint('a', { retry: RETRY });
    const { context, sleeps } = testContext({ deadlineMs: 1040 });
    const error = unavailable();
    const { calls, attempt } = scripted({ a: [fail(error), ok('later')] });
    await expect(executeUnary(a, context, attempt)).rejects.toBe(error);
    expect(calls).toEqual(['a']);
    expect(sleeps).toEqual([]);
  });

  it('starts no fallback past the overall deadline', async () => {
    const [a, b] = [endpoint('a'), endpoint('b')];
    let now = 1000;
    const { context } = testContext({ deadlineMs: 1500, now: () => now });
    const error = unavailable();
    const { calls, attempt } = scripted({
      a: [
        () => {
          now = 1500;
          return Promise.reject(error);
        },
      ],
      b: [ok('from b')],
    });
    await expect(
      executeUnary(
        route('FALLBACK', [
          [a, null],
          [b, null],
        ]),
        context,
        attempt,
      ),
    ).rejects.toBe(error);
    expect(calls).toEqual(['a']);
  });

  it('retries a destination before falling back to the next', async () => {
    const [a, b] = [endpoint('a', { retry: { ...RETRY, attempts: 2 } }), endpoint('b')];
    const { context } = testContext();
    const { calls, attempt } = scripted({ a: [fail(unavailable()), fail(unavailable())], b: [ok('from b')] });
    const served = await executeUnary(
      route('FALLBACK', [
        [a, null],
        [b, null],
      ]),
      context,
      attempt,
    );
    expect(served).toMatchObject({ endpoint: b, attempts: 3 });
    expect(calls).toEqual(['a', 'a', 'b']);
  });

  it('stops when the client goes away during the wait', async () => {
    const a = endpoint('a', { retry: RETRY });
    const controller = new AbortController();
    const { context } = testContext({
      signal: controller.signal,
      sleep: (_ms, signal) => {
        controller.abort();
        return Promise.reject(signal.reason as Error);
      },
    });
    const { calls, attempt } = scripted({ a: [fail(unavailable()), ok('later')] });
    await expect(executeUnary(a, context, attempt)).rejects.toThrow();
    expect(calls).toEqual(['a']);
  });
});

describe('per-attempt timeout', () => {
  /** An upstream that never answers: settles only when its signal aborts. */
  const hang = (_target: Endpoint, call: CallContext) =>
    new Promise<string>((_resolve, reject) => {
      call.signal.addEventListener('abort', () => {
        reject(new Error('aborted'));
      });
    });

  it('ends an attempt after timeout_seconds with a 504 and falls back', async () => {
    const [a, b] = [endpoint('a', { attemptTimeoutMs: 20 }), endpoint('b')];
    const { context, events } = testContext();
    const served = await executeUnary(
      route('FALLBACK', [
        [a, null],
        [b, null],
      ]),
      context,
      (target, call) => (target.name === 'a' ? hang(target, call) : Promise.resolve('from b')),
    );
    expect(served.value).toBe('from b');
    expect(events).toEqual(['start a 1', 'retryable a 1', 'start b 2', 'success b 2']);
  });

  it('gives a plain endpoint UpstreamTimeoutError with its own timeout', async () => {
    const a = endpoint('a', { attemptTimeoutMs: 20 });
    const { context } = testContext();
    await expect(executeUnary(a, context, hang)).rejects.toEqual(new UpstreamTimeoutError(0.02));
  });
});

async function collect<C>(chunks: AsyncIterable<C>): Promise<C[]> {
  const all: C[] = [];
  for await (const chunk of chunks) all.push(chunk);
  return all;
}

/** A stream that yields `chunks`, then throws `error` when given. */
function upstreamStream(chunks: string[], error?: Error) {
  async function* generate(): AsyncGenerator<string> {
    for (const chunk of chunks) yield await Promise.resolve(chunk);
    if (error !== undefined) throw error;
  }
  return { chunks: generate() };
}

describe('executeStream', () => {
  it('falls back when the first destination fails before its first chunk', async () => {
    const [a, b] = [endpoint('a'), endpoint('b')];
    const { context, events } = testContext();
    const first = upstreamStream([], unavailable());
    const second = upstreamStream(['x', 'y']);
    const served = await executeStream(
      route('FALLBACK', [
        [a, null],
        [b, null],
      ]),
      context,
      (target) => Promise.resolve(target.name === 'a' ? first.chunks : second.chunks),
    );
    expect(served.endpoint).toBe(b);
    expect(await collect(served.value)).toEqual(['x', 'y']);
    expect(events).toEqual(['start a 1', 'retryable a 1', 'start b 2', 'first chunk b', 'success b 2']);
  });

  it('ends the stream with the error after the first chunk, without falling back', async () => {
    const [a, b] = [endpoint('a', { retry: RETRY }), endpoint('b')];
    const { context } = testContext();
    const error = unavailable();
    const calls: string[] = [];
    const served = await executeStream(
      route('FALLBACK', [
        [a, null],
        [b, null],
      ]),
      context,
      (target) => {
        calls.push(target.name);
        return Promise.resolve(upstreamStream(['x'], error).chunks);
      },
    );
    const received: string[] = [];
    await expect(
      (async () => {
        for await (const chunk of served.value) received.push(chunk);
      })(),
    ).rejects.toBe(error);
    expect(received).toEqual(['x']);
    expect(calls).toEqual(['a']);
  });

  it('releases a stream whose first chunk does not come in time', async () => {
    const [a, b] = [endpoint('a', { attemptTimeoutMs: 20 }), endpoint('b')];
    const { context } = testContext();
    const returned = { a: false };
    const slow = (signal: AbortSignal): AsyncIterable<string> => ({
      [Symbol.asyncIterator]: () => ({
        next: () =>
          new Promise((_resolve, reject) => {
            signal.addEventListener('abort', () => {
              reject(signal.reason as Error);
            });
          }),
        return: () => {
          returned.a = true;
          return Promise.resolve({ done: true, value: undefined });
        },
      }),
    });
    const served = await executeStream(
      route('FALLBACK', [
        [a, null],
        [b, null],
      ]),
      context,
      (target, call) =>
        Promise.resolve(target.name === 'a' ? slow(call.signal) : upstreamStream(['x']).chunks),
    );
    expect(served.endpoint).toBe(b);
    expect(returned.a).toBe(true);
    expect(await collect(served.value)).toEqual(['x']);
  });

  it('hands a plain endpoint its stream as the adapter returned it', async () => {
    const a = endpoint('a');
    const { context } = testContext({ observer: undefined });
    const stream = upstreamStream(['x']);
    const served = await executeStream(a, context, () => Promise.resolve(stream.chunks));
    expect(served.value).toBe(stream.chunks);
  });

  it('retries a stream that fails before its first chunk', async () => {
    const a = endpoint('a', { retry: RETRY });
    const { context, sleeps } = testContext();
    const streams = [upstreamStream([], unavailable()), upstreamStream(['x'])];
    const served = await executeStream(a, context, () => Promise.resolve(streams.shift()!.chunks));
    expect(await collect(served.value)).toEqual(['x']);
    expect(served.attempts).toBe(2);
    expect(sleeps).toEqual([50]);
  });
});
