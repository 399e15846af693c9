import { describe, expect, it } from 'vitest';
import { RequestValidationError } from '../../src/errors.js';
import { jsonErrorOffset, parseJsonBody } from '../../src/server/json-body.js';

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
