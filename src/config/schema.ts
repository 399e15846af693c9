import { z } from 'zod';
import { ENDPOINT_TYPES, type EndpointType } from '../schemas/endpoint-type.js';
import { pricingSchema } from '../access/pricing.js';

// The shape of the YAML file around `model.config`; each provider validates its own config.

/** Reference §2.4: Python's Unicode `[\w\-\.]+`. */
const ENDPOINT_NAME = /^[\p{L}\p{N}_.-]+$/u;

const nameSchema = z.string().regex(ENDPOINT_NAME, {
  error: (issue) =>
    `The route name provided contains disallowed characters for a url endpoint. '${typeof issue.input === 'string' ? issue.input : JSON.stringify(issue.input)}' is invalid. Names cannot contain spaces or any non alphanumeric characters other than hyphen and underscore.`,
});

const endpointTypeSchema = z.enum(ENDPOINT_TYPES, {
  error: (issue) =>
    issue.input === undefined
      ? 'Field required'
      : `The route_type '${typeof issue.input === 'string' ? issue.input : JSON.stringify(issue.input)}' is not supported.`,
});

const LIMIT_ERROR =
  'Failed to parse the rate limit configuration.Please make sure limit.calls is a positive number andlimit.renewal_period is a right granularity';

const UNIT_SECONDS = {
  second: 1,
  minute: 60,
  hour: 3600,
  day: 86_400,
  month: 30 * 86_400,
  year: 360 * 86_400,
} as const;
type PeriodUnit = keyof typeof UNIT_SECONDS;

/** `limits` grammar: an optional integer multiplier, then a unit with an optional `s`. */
const RENEWAL_PERIOD = /^\s*(\d+)?\s*(second|minute|hour|day|month|year)s?\s*$/i;

export interface RenewalPeriod {
  multiplier: number;
  unit: PeriodUnit;
  seconds: number;
}

export function parseRenewalPeriod(text: string): RenewalPeriod | null {
  const match = RENEWAL_PERIOD.exec(text);
  if (!match) return null;
  const multiplier = match[1] === undefined ? 1 : Number(match[1]);
  const unit = (match[2] ?? '').toLowerCase() as PeriodUnit;
  if (multiplier < 1) return null;
  return { multiplier, unit, seconds: multiplier * UNIT_SECONDS[unit] };
}

export const limitSchema = z
  .object({
    // MLflow parses `<calls>/<renewal_period>`, so a negative count fails with the pair's message.
    calls: z.number().int().min(0, { error: LIMIT_ERROR }),
    renewal_period: z.string(),
    key: z.string().nullish(),
  })
  .transform((limit, context) => {
    const period = parseRenewalPeriod(limit.renewal_period);
    if (!period) {
      context.addIssue({ code: 'custom', message: LIMIT_ERROR, path: ['renewal_period'] });
      return z.NEVER;
    }
    return { calls: limit.calls, renewalPeriod: limit.renewal_period, key: limit.key ?? null, period };
  });
export type RateLimit = z.infer<typeof limitSchema>;

export const modelSchema = z.looseObject({
  provider: z.string({ error: 'A provider must be provided for each gateway route.' }),
  name: z.string().nullish(),
  config: z.record(z.string(), z.unknown()).optional(),
});

/** Retries of the same upstream (beyond MLflow, which never retries); off unless configured. */
export const retrySchema = z
  .strictObject({
    /** Attempts in all, the first included. */
    attempts: z.number().int().min(1).max(10),
    /** The wait before the second attempt; it doubles each time, with full jitter. */
    backoff_ms: z.number().int().min(0).max(60_000).default(250),
    max_backoff_ms: z.number().int().min(0).max(300_000).default(5000),
    /** An upstream's `Retry-After` is honoured up to this; a longer one ends the retries. */
    max_retry_after_seconds: z.number().min(0).max(3600).default(30),
  })
  .transform((retry) => ({
    attempts: retry.attempts,
    backoffMs: retry.backoff_ms,
    maxBackoffMs: Math.max(retry.max_backoff_ms, retry.backoff_ms),
    maxRetryAfterMs: retry.max_retry_after_seconds * 1000,
  }));
export type RetryPolicy = z.infer<typeof retrySchema>;

/** The endpoint around its provider config, with `route_type` already folded in. */
export const endpointShellSchema = z.looseObject({
  name: nameSchema,
  endpoint_type: endpointTypeSchema,
  model: modelSchema,
  limit: limitSchema.nullish(),
  retry: retrySchema.nullish(),
  /** Bounds each upstream call of this endpoint; the gateway-wide timeout when absent. */
  timeout_seconds: z.number().positive().max(3600).nullish(),
  /** USD per million tokens, for client budgets. */
  pricing: pricingSchema.nullish(),
});
export type EndpointShell = z.infer<typeof endpointShellSchema>;

export const ROUTING_STRATEGIES = ['TRAFFIC_SPLIT', 'FALLBACK'] as const;
export type RoutingStrategy = (typeof ROUTING_STRATEGIES)[number];

/** Upstream statuses after which a FALLBACK route tries its next destination, by default. */
export const DEFAULT_FALLBACK_STATUSES = [429, 500, 502, 503, 504] as const;

const PERCENTAGE_RANGE = 'The route destination traffic percentage must between 0 and 100.';

const destinationSchema = z.looseObject({
  name: z.string(),
  traffic_percentage: z
    .number()
    .int()
    .min(0, { error: PERCENTAGE_RANGE })
    .max(100, { error: PERCENTAGE_RANGE })
    .optional(),
});

/** Reference §2.10.1: a traffic route over existing endpoints, plus llmgw's FALLBACK strategy. */
export const trafficRouteSchema = z.looseObject({
  name: nameSchema,
  task_type: endpointTypeSchema,
  destinations: z.array(destinationSchema).min(1),
  routing_strategy: z.enum(ROUTING_STRATEGIES).default('TRAFFIC_SPLIT'),
  /** FALLBACK only: the upstream statuses that move on to the next destination. */
  fallback_on: z.array(z.number().int().min(400).max(599)).min(1).optional(),
});
export type TrafficRouteShell = z.infer<typeof trafficRouteSchema>;

export type { EndpointType };
