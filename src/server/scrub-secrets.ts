import { Secret } from '../config/secrets.js';
import { GatewayError } from '../errors.js';
import { isRecord } from '../schemas/json.js';
import type { Target } from '../routing/execute.js';
import type { Endpoint } from './endpoint-table.js';

/** Replaces every secret value in a text. */
export type Scrub = (text: string) => string;

const REDACTED = '[redacted]';
/**
 * Shorter values are left alone: they cannot be told from ordinary words (a test key `key`
 * would turn `x-api-key` into `x-api-[redacted]`), and no provider issues keys that short.
 */
const MIN_SECRET_CHARS = 8;
/** How far down an error's `cause` chain the log may read upstream text. */
const MAX_CAUSE_DEPTH = 4;

const keepText: Scrub = (text) => text;
const scrubbers = new WeakMap<Endpoint, Scrub>();

/**
 * An upstream that echoes the credential it received (in an error message, say) must not
 * hand it to the client or the log. Each endpoint's scrubber knows the secret values of its
 * own provider config; it is built on the endpoint's first use and lives as long as its
 * snapshot does.
 */
export function scrubberFor(endpoint: Endpoint): Scrub {
  let scrub = scrubbers.get(endpoint);
  if (scrub === undefined) {
    scrub = buildScrub(collectSecrets(endpoint.config.config, new Set()));
    scrubbers.set(endpoint, scrub);
  }
  return scrub;
}

const routeScrubbers = new WeakMap<Target, Scrub>();

/** Every destination's secrets for a route (an error may come from any of them), built once. */
export function scrubberForTarget(target: Target): Scrub {
  if (target.kind === 'endpoint') return scrubberFor(target);
  let scrub = routeScrubbers.get(target);
  if (scrub === undefined) {
    const scrubbers = target.destinations.map((endpoint) => scrubberFor(endpoint));
    scrub = (text) => scrubbers.reduce((scrubbed, each) => each(scrubbed), text);
    routeScrubbers.set(target, scrub);
  }
  return scrub;
}

function buildScrub(secrets: ReadonlySet<string>): Scrub {
  if (secrets.size === 0) return keepText;
  // Longest first, so a secret that contains another is replaced whole.
  const values = [...secrets].sort((a, b) => b.length - a.length);
  return (text) => {
    let scrubbed = text;
    for (const value of values) {
      if (scrubbed.includes(value)) scrubbed = scrubbed.replaceAll(value, REDACTED);
    }
    return scrubbed;
  };
}

function collectSecrets(value: unknown, found: Set<string>): Set<string> {
  if (value instanceof Secret) {
    // The one reveal outside an adapter constructor: the value is only compared, never sent.
    const revealed = value.reveal();
    if (revealed.length >= MIN_SECRET_CHARS) found.add(revealed);
  } else if (Array.isArray(value)) {
    for (const item of value) collectSecrets(item, found);
  } else if (isRecord(value)) {
    for (const item of Object.values(value)) collectSecrets(item, found);
  }
  return found;
}

/**
 * Removes secrets from an error on its way to the client or the log: a gateway error's
 * detail and message, and the message and stack of anything else and of its causes. The
 * error was made for this one request, so it is rewritten in place: its subclass has no
 * generic constructor to rebuild it with.
 */
export function scrubError(error: unknown, scrub: Scrub): unknown {
  if (scrub === keepText) return error;
  let current: unknown = error;
  for (let depth = 0; depth < MAX_CAUSE_DEPTH && current instanceof Error; depth += 1) {
    if (current instanceof GatewayError) {
      (current as { detail: unknown }).detail = scrubValue(current.detail, scrub);
    }
    rewrite(current, 'message', current.message, scrub);
    if (current.stack !== undefined) rewrite(current, 'stack', current.stack, scrub);
    current = current.cause;
  }
  return error;
}

/**
 * Some errors (an abort's DOMException) define `message` as a getter, so plain assignment
 * throws; an own property shadows it. Only a text that held a secret is rewritten.
 */
function rewrite(error: Error, key: 'message' | 'stack', text: string, scrub: Scrub): void {
  const scrubbed = scrub(text);
  if (scrubbed === text) return;
  Object.defineProperty(error, key, { value: scrubbed, writable: true, configurable: true });
}

function scrubValue(value: unknown, scrub: Scrub): unknown {
  if (typeof value === 'string') return scrub(value);
  if (Array.isArray(value)) return value.map((item) => scrubValue(item, scrub));
  if (isRecord(value)) {
    const scrubbed: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) scrubbed[scrub(key)] = scrubValue(item, scrub);
    return scrubbed;
  }
  return value;
}
