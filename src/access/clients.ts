import { createHash } from 'node:crypto';
import { z } from 'zod';
import { resolveSecret } from '../config/secrets.js';
import { limitSchema, parseRenewalPeriod, type RenewalPeriod } from '../config/schema.js';
import { compileEndpointPatterns, type EndpointPatterns } from './authorize.js';
import type { Pricing } from './pricing.js';

// The `clients:` and `access:` sections: who may call the gateway, what, and how much.

/** Names go into logs, metrics and counter keys, so they stay plain. */
const CLIENT_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const SHA256_HEX = /^[0-9a-fA-F]{64}$/;
const PERIOD_ERROR =
  "renewal_period must be a unit (second, minute, hour, day, month, year), optionally after a count: 'day', '30 days'";

function withPeriod<T extends { renewal_period: string }>(
  value: T,
  context: z.RefinementCtx,
): (T & { period: RenewalPeriod }) | typeof z.NEVER {
  const period = parseRenewalPeriod(value.renewal_period);
  if (!period) {
    context.addIssue({ code: 'custom', message: PERIOD_ERROR, path: ['renewal_period'] });
    return z.NEVER;
  }
  return { ...value, period };
}

const tokenLimitSchema = z
  .strictObject({ tokens: z.number().int().min(0), renewal_period: z.string() })
  .transform(withPeriod);

const budgetSchema = z
  .strictObject({ usd: z.number().min(0), renewal_period: z.string() })
  .transform(withPeriod);

const clientSchema = z.strictObject({
  name: z.string().regex(CLIENT_NAME, { error: 'a client name is 1–64 letters, digits, `_`, `.` or `-`' }),
  key: z.unknown().optional(),
  key_sha256: z.string().regex(SHA256_HEX, { error: 'key_sha256 must be 64 hex digits' }).optional(),
  endpoints: z.array(z.string().min(1)).optional(),
  limit: limitSchema.nullish(),
  token_limit: tokenLimitSchema.nullish(),
  budget: budgetSchema.nullish(),
});

const accessOptionsSchema = z.strictObject({
  protect_docs: z.boolean().default(false),
  protect_metrics: z.boolean().default(false),
});

/** A cap on one counter: `cap` units per `windowMs`, counted under `key` in the counter store. */
export interface WindowCap {
  readonly key: string;
  readonly cap: number;
  readonly windowMs: number;
  /** `1 minute`, `30 days`: how the window reads in messages. */
  readonly period: string;
}

/** One configured client, resolved at load: its key exists only as a hash. */
export interface Client {
  readonly name: string;
  readonly keySha256: Buffer;
  readonly endpoints: EndpointPatterns;
  readonly calls: WindowCap | null;
  readonly tokens: WindowCap | null;
  /** In micro-USD. */
  readonly budget: WindowCap | null;
}

/** The access section of a loaded config. No `clients:` means the gateway is open. */
export interface AccessConfig {
  readonly clients: readonly Client[];
  /** Hex sha256 of a key → its client. */
  readonly byKeySha256: ReadonlyMap<string, Client>;
  readonly protectDocs: boolean;
  readonly protectMetrics: boolean;
}

export type IssuePath = (string | number)[];
export type ReportIssue = (path: IssuePath, message: string) => void;

/** What the loader knows about endpoints and routes, for the budget's pricing rule. */
export interface PricedTargets {
  endpoints: readonly { name: string; pricing: Pricing | null }[];
  routes: readonly { name: string; destinations: readonly { name: string }[] }[];
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function cap(key: string, amount: number, period: RenewalPeriod): WindowCap {
  return {
    key: `client:${key}:${period.seconds}`,
    cap: amount,
    windowMs: period.seconds * 1000,
    period: `${period.multiplier} ${period.unit}${period.multiplier === 1 ? '' : 's'}`,
  };
}

/**
 * Reads `clients:` and `access:` from the parsed file, reporting each problem with its path.
 * Returns undefined when neither section is present (the gateway stays open).
 */
export function loadAccess(
  root: unknown,
  targets: PricedTargets,
  report: ReportIssue,
): AccessConfig | undefined {
  if (typeof root !== 'object' || root === null) return undefined;
  const { clients: rawClients, access: rawAccess } = root as Record<string, unknown>;
  if (rawClients === undefined && rawAccess === undefined) return undefined;
  const options = accessOptionsSchema.safeParse(rawAccess ?? {});
  if (!options.success) {
    for (const issue of options.error.issues) report(['access', ...pathOf(issue)], issue.message);
  }
  if (rawClients !== undefined && rawClients !== null && !Array.isArray(rawClients)) {
    report(['clients'], "'clients' must be a list of clients");
  }
  const entries: unknown[] = Array.isArray(rawClients) ? rawClients : [];
  const clients: Client[] = [];
  entries.forEach((entry, index) => {
    const client = loadClient(entry, ['clients', index], targets, report);
    if (client) clients.push(client);
  });
  const byKeySha256 = new Map<string, Client>();
  const names = new Set<string>();
  clients.forEach((client, index) => {
    const hex = client.keySha256.toString('hex');
    if (names.has(client.name)) report(['clients', index, 'name'], `Duplicate client name '${client.name}'`);
    if (byKeySha256.has(hex))
      report(['clients', index], `Client '${client.name}' uses the same key as another client`);
    names.add(client.name);
    byKeySha256.set(hex, client);
  });
  return {
    clients,
    byKeySha256,
    protectDocs: options.data?.protect_docs ?? false,
    protectMetrics: options.data?.protect_metrics ?? false,
  };
}

function pathOf(issue: z.core.$ZodIssue): IssuePath {
  return issue.path.filter((key) => typeof key !== 'symbol');
}

function loadClient(
  entry: unknown,
  path: IssuePath,
  targets: PricedTargets,
  report: ReportIssue,
): Client | null {
  const parsed = clientSchema.safeParse(entry);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) report([...path, ...pathOf(issue)], issue.message);
    return null;
  }
  const { name, key, key_sha256: keySha256, endpoints, limit, token_limit: tokenLimit, budget } = parsed.data;
  const hash = keyHash(key, keySha256, path, report);
  if (hash === null) return null;
  const patterns = compileEndpointPatterns(endpoints ?? null);
  if (budget) {
    const unpriced = unpricedTargets(patterns, targets);
    for (const endpoint of unpriced) {
      report(
        [...path, 'budget'],
        `Client '${name}' has a budget but may call endpoint '${endpoint}', which has no pricing`,
      );
    }
    if (unpriced.length > 0) return null;
  }
  return {
    name,
    keySha256: hash,
    endpoints: patterns,
    calls: limit ? cap(`${name}:calls`, limit.calls, limit.period) : null,
    tokens: tokenLimit ? cap(`${name}:tokens`, tokenLimit.tokens, tokenLimit.period) : null,
    budget: budget ? cap(`${name}:usd`, Math.round(budget.usd * 1_000_000), budget.period) : null,
  };
}

function keyHash(
  key: unknown,
  keySha256: string | undefined,
  path: IssuePath,
  report: ReportIssue,
): Buffer | null {
  if ((key === undefined) === (keySha256 === undefined)) {
    report(path, 'A client needs exactly one of `key` and `key_sha256`');
    return null;
  }
  if (keySha256 !== undefined) return Buffer.from(keySha256, 'hex');
  const secret = resolveSecret(key);
  if (typeof secret === 'string') {
    report([...path, 'key'], secret);
    return null;
  }
  return createHash('sha256').update(secret.reveal()).digest();
}

/** Endpoints the client may reach, directly or through a route, that have no `pricing`. */
function unpricedTargets(patterns: EndpointPatterns, targets: PricedTargets): string[] {
  const reachable = new Set<string>();
  for (const endpoint of targets.endpoints) if (patterns.allows(endpoint.name)) reachable.add(endpoint.name);
  for (const route of targets.routes) {
    if (!patterns.allows(route.name)) continue;
    for (const destination of route.destinations) reachable.add(destination.name);
  }
  return targets.endpoints
    .filter((endpoint) => reachable.has(endpoint.name) && endpoint.pricing === null)
    .map((endpoint) => endpoint.name);
}
