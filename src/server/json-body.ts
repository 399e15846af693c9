import { RequestValidationError } from '../errors.js';

/**
 * Requests may carry images and audio as base64; OpenAI accepts bodies of tens of MB. A larger
 * body is a 413 before any of it is parsed.
 */
export const BODY_LIMIT_BYTES = 32 * 1024 * 1024;

/**
 * Arrays and objects nested deeper than this are refused before parsing. Real requests (tool
 * JSON schemas included) stay far below it; without a bound, a 32 MB body of brackets costs
 * V8 seconds to parse and overflows every recursive walk after it.
 */
export const MAX_JSON_DEPTH = 128;

const TOO_DEEP = `nesting deeper than ${MAX_JSON_DEPTH} levels of arrays and objects`;

/**
 * Reference §6.2: a body that is not JSON is a 422 `json_invalid` at the character offset
 * where parsing failed; an empty body is a 422 `missing` (the schema reports it). A body
 * nested deeper than MAX_JSON_DEPTH is a `json_invalid` at the bracket that goes too deep,
 * as pydantic's own JSON parser reports its recursion limit.
 */
export function parseJsonBody(text: string): unknown {
  if (text === '') return undefined;
  if (mayNestTooDeep(text)) {
    const tooDeepAt = depthExceededAt(text);
    if (tooDeepAt >= 0) throw invalidJson(tooDeepAt, TOO_DEEP);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw invalidJson(jsonErrorOffset(text), (error as Error).message);
  }
}

function invalidJson(offset: number, reason: string): RequestValidationError {
  return new RequestValidationError([
    {
      type: 'json_invalid',
      loc: ['body', offset],
      msg: 'JSON decode error',
      input: {},
      ctx: { error: reason },
    },
  ]);
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/**
 * Whether the text holds more opening brackets than MAX_JSON_DEPTH, inside strings or not:
 * only then can it nest too deep. indexOf runs natively, so a typical request (a few dozen
 * brackets) skips the character-by-character scan below.
 */
function mayNestTooDeep(text: string): boolean {
  let count = 0;
  for (const bracket of OPENING_BRACKETS) {
    for (let at = text.indexOf(bracket); at >= 0; at = text.indexOf(bracket, at + 1)) {
      count += 1;
      if (count > MAX_JSON_DEPTH) return true;
    }
  }
  return false;
}

const OPENING_BRACKETS = ['{', '['] as const;

/**
 * The offset of the first bracket nested deeper than MAX_JSON_DEPTH, or -1. One pass over the
 * characters, skipping strings with indexOf (base64 payloads cost almost nothing); it counts
 * brackets without checking them, which is enough: JSON.parse fails at the first unbalanced one.
 */
function depthExceededAt(text: string): number {
  let depth = 0;
  for (let at = 0; at < text.length; at += 1) {
    const char = text.charCodeAt(at);
    if (char === QUOTE) {
      at = closingQuote(text, at);
      if (at < 0) return -1;
    } else if (char === OPEN_BRACKET || char === OPEN_BRACE) {
      depth += 1;
      if (depth > MAX_JSON_DEPTH) return at;
    } else if (char === CLOSE_BRACKET || char === CLOSE_BRACE) {
      depth -= 1;
    }
  }
  return -1;
}

/** The offset of the quote that ends the string opened at `open`, or -1. */
function closingQuote(text: string, open: number): number {
  let at = open;
  for (;;) {
    at = text.indexOf('"', at + 1);
    if (at < 0) return -1;
    let backslashes = 0;
    while (text.charCodeAt(at - 1 - backslashes) === BACKSLASH) backslashes += 1;
    if (backslashes % 2 === 0) return at;
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
 * Iterative, with the open containers on an explicit stack, so no input can overflow the call
 * stack.
 */
export function jsonErrorOffset(text: string): number {
  const scanner: Scanner = { text, at: 0 };
  const valid = scanDocument(scanner) && skipWhitespace(scanner) === text.length;
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

function scanString(scanner: Scanner): boolean {
  scanner.at += 1;
  match(scanner, STRING_BODY);
  if (scanner.text[scanner.at] !== '"') return false;
  scanner.at += 1;
  return true;
}

/** A string, number or literal at the scanner's position. */
function scanScalar(scanner: Scanner): boolean {
  const char = scanner.text[scanner.at];
  if (char === '"') return scanString(scanner);
  const literal = LITERALS.find((word) => scanner.text.startsWith(word, scanner.at));
  if (literal) {
    scanner.at += literal.length;
    return true;
  }
  const start = scanner.at;
  return match(scanner, NUMBER) && scanner.at > start;
}

/** `"key":` inside an object, up to the value. */
function scanMemberName(scanner: Scanner): boolean {
  skipWhitespace(scanner);
  if (scanner.text[scanner.at] !== '"' || !scanString(scanner)) return false;
  skipWhitespace(scanner);
  if (scanner.text[scanner.at] !== ':') return false;
  scanner.at += 1;
  return true;
}

/**
 * One JSON value. `closers` holds the bracket each open container waits for: after a value,
 * either that bracket closes the container or a comma asks for the next member.
 */
function scanDocument(scanner: Scanner): boolean {
  const closers: string[] = [];
  for (;;) {
    skipWhitespace(scanner);
    const char = scanner.text[scanner.at];
    if (char === '{' || char === '[') {
      const close = char === '{' ? '}' : ']';
      scanner.at += 1;
      if (skipWhitespace(scanner) < scanner.text.length && scanner.text[scanner.at] === close) {
        scanner.at += 1;
      } else {
        closers.push(close);
        if (close === '}' && !scanMemberName(scanner)) return false;
        continue;
      }
    } else if (!scanScalar(scanner)) {
      return false;
    }
    // A value ended: close every container it completes, then expect the next member.
    for (;;) {
      const close = closers.at(-1);
      if (close === undefined) return true;
      skipWhitespace(scanner);
      const next = scanner.text[scanner.at];
      if (next === close) {
        scanner.at += 1;
        closers.pop();
        continue;
      }
      if (next !== ',') return false;
      scanner.at += 1;
      if (close === '}' && !scanMemberName(scanner)) return false;
      break;
    }
  }
}
