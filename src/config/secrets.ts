import { statSync, readFileSync } from 'node:fs';
import { inspect } from 'node:util';
import { z } from 'zod';

const REDACTED = '[redacted]';

/**
 * An API key resolved from the config. It renders as `[redacted]` everywhere (string
 * conversion, JSON, util.inspect and so pino); only adapter constructors call `reveal()`.
 */
export class Secret {
  readonly #value: string;
  /** Where the key came from, safe to print: `$OPENAI_API_KEY`, `file /run/key`, `literal`. */
  readonly source: string;

  constructor(value: string, source: string) {
    this.#value = value;
    this.source = source;
  }

  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }
}

const NOT_A_STRING =
  'The api key provided is not a string. Please provide either an environment variable key, a path to a file containing the api key, or the api key itself';

const TRAILING_NEWLINE = /\r?\n$/;

/**
 * Reference §2.9: `$NAME` reads a non-empty environment variable; a string naming an existing
 * regular file reads its contents (one trailing newline removed, [D10]); anything else is the
 * key itself.
 */
export function resolveSecret(raw: unknown, env: NodeJS.ProcessEnv = process.env): Secret | string {
  if (typeof raw !== 'string') return NOT_A_STRING;
  if (raw.startsWith('$')) {
    const name = raw.slice(1);
    const value = env[name];
    if (value === undefined || value === '') return `Environment variable '${name}' is not set`;
    return new Secret(value, raw);
  }
  if (isRegularFile(raw)) {
    try {
      return new Secret(readFileSync(raw, 'utf8').replace(TRAILING_NEWLINE, ''), `file ${raw}`);
    } catch (error) {
      return `The api key file '${raw}' could not be read: ${(error as NodeJS.ErrnoException).code ?? 'unknown error'}`;
    }
  }
  return new Secret(raw, 'literal');
}

function isRegularFile(path: string): boolean {
  try {
    return statSync(path, { throwIfNoEntry: false })?.isFile() ?? false;
  } catch {
    // MLflow ignores errors probing the path (a name too long, say) and uses the literal.
    return false;
  }
}

/** The values resolved during the load running now; null outside a load. */
let loadCache: Map<string, Secret | string> | null = null;

/**
 * Runs a synchronous config load in which each distinct key value is resolved once: 1,000
 * endpoints sharing one key cost one file probe (a stat, ~8 us), not 1,000. Nothing is kept
 * after the load, so a key file rewritten before the next load is read again.
 */
export function withSecretCache<T>(load: () => T): T {
  const outer = loadCache;
  loadCache = outer ?? new Map();
  try {
    return load();
  } finally {
    loadCache = outer;
  }
}

function resolveOnce(raw: unknown): Secret | string {
  if (loadCache === null || typeof raw !== 'string') return resolveSecret(raw);
  let resolved = loadCache.get(raw);
  if (resolved === undefined) {
    resolved = resolveSecret(raw);
    loadCache.set(raw, resolved);
  }
  return resolved;
}

/** A zod field that resolves a secret at config load and fails with the reference's message. */
export const secretSchema = z.unknown().transform((raw, context) => {
  const resolved = resolveOnce(raw);
  if (typeof resolved === 'string') {
    context.addIssue({ code: 'custom', message: resolved });
    return z.NEVER;
  }
  return resolved;
});
