import { z } from 'zod';
import { UNDECIDED, registerConversion } from './fast-parse.js';

/**
 * Pydantic v2's lax mode for scalar fields, which MLflow's schemas validate with (reference
 * §5.1): what MLflow accepted, the gateway accepts. A value that cannot be converted fails with
 * pydantic's error type and message, carried in the issue's `params.type` for
 * server/validation.ts. The inner schema then only checks bounds.
 */

/** Python's float(): digits with an optional fraction and exponent, surrounding whitespace. */
const FLOAT_STRING = /^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*$/;
/** An integer string; pydantic also takes a fraction of zeros (`"3.00"`). */
const INTEGER_STRING = /^\s*[+-]?\d+(?:\.0*)?\s*$/;

const TRUE_STRINGS = new Set(['1', 'on', 't', 'true', 'y', 'yes']);
const FALSE_STRINGS = new Set(['0', 'off', 'f', 'false', 'n', 'no']);
/** The longest of the accepted strings: longer ones are refused without lower-casing them. */
const LONGEST_BOOL_STRING = 5;

/** Pydantic's error types and messages for the conversions below. */
const LAX_ERRORS = {
  float_type: 'Input should be a valid number',
  float_parsing: 'Input should be a valid number, unable to parse string as a number',
  finite_number: 'Input should be a finite number',
  int_type: 'Input should be a valid integer',
  int_parsing: 'Input should be a valid integer, unable to parse string as an integer',
  int_from_float: 'Input should be a valid integer, got a number with a fractional part',
  bool_type: 'Input should be a valid boolean',
  bool_parsing: 'Input should be a valid boolean, unable to interpret input',
} as const;
type LaxErrorType = keyof typeof LAX_ERRORS;

/** A failed conversion; one instance per error type, so converting allocates nothing. */
class Failure {
  constructor(readonly type: LaxErrorType) {}
}
const FAILURES = Object.fromEntries(
  Object.keys(LAX_ERRORS).map((type) => [type, new Failure(type as LaxErrorType)]),
) as Record<LaxErrorType, Failure>;

function toFloat(value: unknown): unknown {
  if (typeof value === 'number') return finite(value);
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value !== 'string') return FAILURES.float_type;
  return FLOAT_STRING.test(value) ? finite(Number(value)) : FAILURES.float_parsing;
}

function toInt(value: unknown): unknown {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return FAILURES.finite_number;
    return Number.isInteger(value) ? value : FAILURES.int_from_float;
  }
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value !== 'string') return FAILURES.int_type;
  return INTEGER_STRING.test(value) ? finite(Number(value)) : FAILURES.int_parsing;
}

function finite(value: number): unknown {
  return Number.isFinite(value) ? value : FAILURES.finite_number;
}

function toBool(value: unknown): unknown {
  if (typeof value === 'boolean') return value;
  if (value === 1 || value === 0) return value === 1;
  if (typeof value === 'string' && value.length <= LONGEST_BOOL_STRING) {
    const lower = value.toLowerCase();
    if (TRUE_STRINGS.has(lower)) return true;
    if (FALSE_STRINGS.has(lower)) return false;
  }
  return typeof value === 'string' || typeof value === 'number' ? FAILURES.bool_parsing : FAILURES.bool_type;
}

function lax<T extends z.ZodType>(convert: (value: unknown) => unknown, schema: T) {
  const laxSchema = z.preprocess((value, context) => {
    // Absent: the inner schema's default or optional decides, and the OpenAPI document shows it.
    if (value === undefined) return value;
    const converted = convert(value);
    if (!(converted instanceof Failure)) return converted;
    context.addIssue({
      code: 'custom',
      message: LAX_ERRORS[converted.type],
      params: { type: converted.type },
      input: value,
    });
    return z.NEVER;
  }, schema);
  registerConversion(laxSchema, (value) => {
    if (value === undefined) return value;
    const converted = convert(value);
    return converted instanceof Failure ? UNDECIDED : converted;
  });
  return laxSchema;
}

/** A float field: also numeric strings and booleans. */
export function laxFloat<T extends z.ZodType>(schema: T) {
  return lax(toFloat, schema);
}

/**
 * An integer field: also integer strings, whole floats (`2.0`) and booleans. Put bounds before
 * `.int()` in the inner schema, so a huge integer reports the field's bound first.
 */
export function laxInt<T extends z.ZodType>(schema: T) {
  return lax(toInt, schema);
}

/** A boolean field: also 0/1 and "true/false/yes/no/on/off/t/f/y/n/1/0" in any case. */
export function laxBool<T extends z.ZodType>(schema: T) {
  return lax(toBool, schema);
}
