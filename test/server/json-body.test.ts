import { describe, expect, it } from 'vitest';
import { RequestValidationError } from '../../src/errors.js';
import { MAX_JSON_DEPTH, jsonErrorOffset, parseJsonBody } from '../../src/server/json-body.js';

const V8_POSITION = /position (\d+)/;

/** Invalid bodies and the offset where parsing fails, as pydantic reports it. */
const INVALID: [string, number][] = [
  ['{bad', 1],
  ['{"messages":[}', 13],
  ['{"a":1,}', 7],
  ['[1,2', 4],
  ['{"a":"x', 7],
  ['tru', 0],
  ['{"a" 1}', 5],
  ['{"a":1} x', 8],
  ['{"a":01}', 6],
  ['{"a":"\u0001"}', 6],
  ['  ', 2],
  ['{"a":[1,]}', 8],
];

describe('jsonErrorOffset', () => {
  it.each(INVALID)('finds the failing offset of %j at %i', (text, offset) => {
    expect(jsonErrorOffset(text)).toBe(offset);
  });

  it.each(INVALID.filter(([text]) => V8_POSITION.test(errorOf(text))))(
    'agrees with V8 where V8 reports a position (%j)',
    (text) => {
      expect(jsonErrorOffset(text)).toBe(Number(V8_POSITION.exec(errorOf(text))?.[1]));
    },
  );

  it.each([
    '{"messages":[{"role":"user","content":"h\\u00e9 \\"x\\""}]}',
    '[1, -2.5e3, true, null, {}]',
    ' "s" ',
  ])('accepts valid JSON %j (offset = length)', (text) => {
    expect(jsonErrorOffset(text)).toBe(text.length);
  });
});

describe('parseJsonBody', () => {
  it('throws a json_invalid 422 located at the failing character', () => {
    const error = catchError(() => parseJsonBody('{"messages":[}'));
    expect(error).toBeInstanceOf(RequestValidationError);
    expect((error as RequestValidationError).issues).toEqual([
      {
        type: 'json_invalid',
        loc: ['body', 13],
        msg: 'JSON decode error',
        input: {},
        ctx: { error: errorOf('{"messages":[}') },
      },
    ]);
  });

  it('reads an empty body as no body', () => {
    expect(parseJsonBody('')).toBeUndefined();
  });
});

const PREFIX = '{"messages":[{"role":"user","content":"x"}],"stop":';
/** The body of the issue: a `stop` nested `depth` arrays deep. */
function nested(depth: number): string {
  return `${PREFIX}${'['.repeat(depth)}${']'.repeat(depth)}}`;
}
/** The offset of the first bracket past the limit in `nested(…)`: the object is level 1. */
const TOO_DEEP_AT = PREFIX.length + MAX_JSON_DEPTH - 1;

function tooDeep(offset: number): unknown[] {
  return [
    {
      type: 'json_invalid',
      loc: ['body', offset],
      msg: 'JSON decode error',
      input: {},
      ctx: { error: 'nesting deeper than 128 levels of arrays and objects' },
    },
  ];
}

describe('parseJsonBody: nesting depth', () => {
  it('accepts arrays and objects nested exactly MAX_JSON_DEPTH deep', () => {
    const body = parseJsonBody(nested(MAX_JSON_DEPTH - 1)) as { stop: unknown };
    let depth = 1;
    for (let value = body.stop; Array.isArray(value); value = value[0] as unknown) depth += 1;
    expect(depth).toBe(MAX_JSON_DEPTH);
  });

  it('refuses a body 20,000 levels deep at the first bracket past the limit', () => {
    expect(issuesOf(() => parseJsonBody(nested(20_000)))).toEqual(tooDeep(TOO_DEEP_AT));
  });

  it('refuses the same body cut off mid-way at the same bracket', () => {
    expect(issuesOf(() => parseJsonBody(nested(20_000).slice(0, 25_000)))).toEqual(tooDeep(TOO_DEEP_AT));
  });

  it('counts objects as levels too', () => {
    const text = '{"a":'.repeat(MAX_JSON_DEPTH + 1) + '1' + '}'.repeat(MAX_JSON_DEPTH + 1);
    expect(issuesOf(() => parseJsonBody(text))).toEqual(tooDeep(5 * MAX_JSON_DEPTH));
  });

  it('ignores brackets inside strings, escaped quotes included', () => {
    const text = JSON.stringify({ a: `\\"${'['.repeat(500)}`, b: '\\' });
    expect(parseJsonBody(text)).toEqual(JSON.parse(text));
  });

  it('finds the failing offset of deeply nested invalid JSON without overflowing the stack', () => {
    expect(jsonErrorOffset('['.repeat(200_000))).toBe(200_000);
    expect(jsonErrorOffset(`${'['.repeat(200_000)}}`)).toBe(200_000);
  });
});

function issuesOf(run: () => unknown): unknown {
  const error = catchError(run);
  expect(error).toBeInstanceOf(RequestValidationError);
  return (error as RequestValidationError).issues;
}

function errorOf(text: string): string {
  try {
    JSON.parse(text);
    return '';
  } catch (error) {
    return (error as Error).message;
  }
}

function catchError(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  return undefined;
}
