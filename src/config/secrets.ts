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

/** A zod field that resolves a secret at config load and fails with the reference's message. */
export const secretSchema = z.unknown().transform((raw, context) => {
  const resolved = resolveSecret(raw);
  if (typeof resolved === 'string') {
    context.addIssue({ code: 'custom', message: resolved });
    return z.NEVER;
  }
  return resolved;
});
