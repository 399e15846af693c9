import type { CounterStore, CounterStoreLog } from './counter-store.js';
import type { Client, WindowCap } from './clients.js';
import { costMicroUsd, microUsdToUsd, type Pricing, type TokenUsage } from './pricing.js';

// Per-client caps on the shared counter store, so they hold exactly across workers (the
// primary counts) and replicas (Redis counts). Requests count one each as they are admitted;
// tokens and spend are admitted while the window is below its cap and counted once the
// upstream says what was used, so a request in flight when a cap is reached still finishes.

export type ClientLimitKind = 'calls' | 'tokens' | 'budget';

/** Why a client's request is refused: the cap it hit and the window's state. */
export interface ClientLimitRefusal {
  readonly kind: ClientLimitKind;
  /** In the cap's unit: calls, tokens or micro-USD. */
  readonly cap: number;
  readonly count: number;
  readonly retryAfterSeconds: number;
  readonly message: string;
}

/** Counter keys of client limits, apart from endpoint limits' `rate-limit:` keys. */
const KEY_PREFIX = 'access:';

function seconds(ttlMs: number): number {
  return Math.max(1, Math.ceil(ttlMs / 1000));
}

function describe(kind: ClientLimitKind, client: Client, cap: WindowCap, renewsInSeconds: number): string {
  const renews = `renews in ${renewsInSeconds} s`;
  switch (kind) {
    case 'calls':
      return `Rate limit exceeded for client '${client.name}': ${cap.cap} calls per ${cap.period}; ${renews}`;
    case 'tokens':
      return `Token limit exceeded for client '${client.name}': ${cap.cap} tokens per ${cap.period}; ${renews}`;
    case 'budget':
      return `Budget exhausted for client '${client.name}': ${microUsdToUsd(cap.cap)} USD per ${cap.period}; ${renews}`;
  }
}

interface Check {
  kind: ClientLimitKind;
  cap: WindowCap;
  amount: number;
}

function checksOf(client: Client): Check[] {
  const checks: Check[] = [];
  // Order is the order of precedence when several caps refuse at once.
  if (client.budget) checks.push({ kind: 'budget', cap: client.budget, amount: 0 });
  if (client.tokens) checks.push({ kind: 'tokens', cap: client.tokens, amount: 0 });
  if (client.calls) checks.push({ kind: 'calls', cap: client.calls, amount: 1 });
  return checks;
}

/**
 * Counts one request against the client's caps; resolves with the refusal when one is used
 * up, else null. A counter store that cannot be reached lets the request pass (fail open, as
 * endpoint limits do) and is logged.
 */
export async function admitClient(
  store: CounterStore,
  client: Client,
  log: CounterStoreLog,
): Promise<ClientLimitRefusal | null> {
  const checks = checksOf(client);
  if (checks.length === 0) return null;
  let windows;
  try {
    windows = await Promise.all(
      checks.map((check) => store.increment(KEY_PREFIX + check.cap.key, check.cap.windowMs, check.amount)),
    );
  } catch (error) {
    log.error({ err: error, client: client.name }, 'client limits not checked: the counter store failed');
    return null;
  }
  for (const [index, check] of checks.entries()) {
    const window = windows[index];
    if (!window) continue;
    // A counted call may bring the count to the cap; a token or spend window must be below it.
    const isOver = check.amount > 0 ? window.count > check.cap.cap : window.count >= check.cap.cap;
    if (!isOver) continue;
    const retryAfterSeconds = seconds(window.ttlMs);
    return {
      kind: check.kind,
      cap: check.cap.cap,
      count: window.count,
      retryAfterSeconds,
      message: describe(check.kind, client, check.cap, retryAfterSeconds),
    };
  }
  return null;
}

/** What one answered request used, as counted against the client's token and spend caps. */
export interface RecordedUsage {
  tokens: number;
  costMicroUsd: number;
}

/**
 * Adds a finished request's tokens and cost to the client's windows. `pricing` is the serving
 * endpoint's; config load refuses a budgeted client that could reach an unpriced endpoint.
 */
export async function recordClientUsage(
  store: CounterStore,
  client: Client,
  usage: TokenUsage,
  pricing: Pricing | null,
  log: CounterStoreLog,
): Promise<RecordedUsage> {
  const tokens = usage.inputTokens + usage.outputTokens;
  const cost = pricing ? costMicroUsd(pricing, usage) : 0;
  const increments: Promise<unknown>[] = [];
  if (client.tokens && tokens > 0) {
    increments.push(store.increment(KEY_PREFIX + client.tokens.key, client.tokens.windowMs, tokens));
  }
  if (client.budget && cost > 0) {
    increments.push(store.increment(KEY_PREFIX + client.budget.key, client.budget.windowMs, cost));
  }
  try {
    await Promise.all(increments);
  } catch (error) {
    log.error({ err: error, client: client.name }, 'client usage not counted: the counter store failed');
  }
  return { tokens, costMicroUsd: cost };
}

/** One cap's window as the usage route shows it. */
export interface CapUsage {
  limit: number;
  used: number;
  remaining: number;
  renewal_period: string;
  resets_in_seconds: number | null;
}

function capUsage(cap: WindowCap, count: number, ttlMs: number, scale: number): CapUsage {
  return {
    limit: cap.cap / scale,
    used: count / scale,
    remaining: Math.max(0, cap.cap - count) / scale,
    renewal_period: cap.period,
    // A window that never started (count 0) has no reset time yet.
    resets_in_seconds: count === 0 ? null : seconds(ttlMs),
  };
}

export interface ClientUsage {
  client: string;
  calls: CapUsage | null;
  tokens: CapUsage | null;
  budget_usd: CapUsage | null;
}

/** The client's windows, read without counting anything (increments of 0). */
export async function readClientUsage(store: CounterStore, client: Client): Promise<ClientUsage> {
  const read = async (cap: WindowCap | null, scale: number): Promise<CapUsage | null> => {
    if (!cap) return null;
    const window = await store.increment(KEY_PREFIX + cap.key, cap.windowMs, 0);
    return capUsage(cap, window.count, window.ttlMs, scale);
  };
  const [calls, tokens, budget] = await Promise.all([
    read(client.calls, 1),
    read(client.tokens, 1),
    read(client.budget, 1_000_000),
  ]);
  return { client: client.name, calls, tokens, budget_usd: budget };
}
