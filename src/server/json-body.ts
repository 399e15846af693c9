import { RequestValidationError } from '../errors.js';

/**
 * Reference §6.2: a body that is not JSON is a 422 `json_invalid` at the character offset
 * where parsing failed; an empty body is a 422 `missing` (the schema reports it).
 */
export function parseJsonBody(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    const message = (error as Error).message;
    throw new RequestValidationError([
      {
        type: 'json_invalid',
        loc: ['body', jsonErrorOffset(text)],
        msg: 'JSON decode error',
        input: {},
        ctx: { error: message },
      },
    ]);
  }
}

const WHITESPACE = /[ \t\n\r]*/y;
const NUMBER = /-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
// eslint-disable-next-line no-control-regex -- JSON strings may not contain raw control characters
const STRING_BODY = /(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*/y;
const LITERALS = ['true', 'false', 'null'];

/**
 * The offset of the first character that makes `text` invalid JSON (its length when the text
 * ends too early). Runs only on the error path: V8's messages do not always carry a position.
 */
export function jsonErrorOffset(text: string): number {
  const scanner = { text, at: 0 };
  const valid = scanValue(scanner) && skipWhitespace(scanner) === text.length;
  return valid ? text.length : Math.min(scanner.at, text.length);
}

interface Scanner {
  text: string;
  at: number;
}

function skipWhitespace(scanner: Scanner): number {
  WHITESPACE.lastIndex = scanner.at;
  WHITESPACE.exec(scanner.text);
  scanner.at = WHITESPACE.lastIndex;
  return scanner.at;
}

function match(scanner: Scanner, pattern: RegExp): boolean {
  pattern.lastIndex = scanner.at;
  if (pattern.exec(scanner.text) === null) return false;
  scanner.at = pattern.lastIndex;
  return true;
}

function scanValue(scanner: Scanner): boolean {
  skipWhitespace(scanner);
  const char = scanner.text[scanner.at];
  if (char === '{') return scanContainer(scanner, '}', true);
  if (char === '[') return scanContainer(scanner, ']', false);
  if (char === '"') return scanString(scanner);
  const literal = LITERALS.find((word) => scanner.text.startsWith(word, scanner.at));
  if (literal) {
    scanner.at += literal.length;
    return true;
  }
  const start = scanner.at;
  return match(scanner, NUMBER) && scanner.at > start;
}

function scanString(scanner: Scanner): boolean {
  scanner.at += 1;
  match(scanner, STRING_BODY);
  if (scanner.text[scanner.at] !== '"') return false;
  scanner.at += 1;
  return true;
}

/** An object (`{"k": v, …}`) or an array (`[v, …]`), starting at its opening bracket. */
function scanContainer(scanner: Scanner, close: string, isObject: boolean): boolean {
  scanner.at += 1;
  if (skipWhitespace(scanner) < scanner.text.length && scanner.text[scanner.at] === close) {
    scanner.at += 1;
    return true;
  }
  for (;;) {
    if (isObject) {
      skipWhitespace(scanner);
      if (scanner.text[scanner.at] !== '"' || !scanString(scanner)) return false;
      skipWhitespace(scanner);
      if (scanner.text[scanner.at] !== ':') return false;
      scanner.at += 1;
    }
    if (!scanValue(scanner)) return false;
    skipWhitespace(scanner);
    const char = scanner.text[scanner.at];
    if (char === close) {
      scanner.at += 1;
      return true;
    }
    if (char !== ',') return false;
    scanner.at += 1;
  }
}
