import type { z } from 'zod';
import { RequestValidationError, type ValidationIssue } from '../errors.js';

/**
 * Validates a request body against a gateway schema: the typed value, or a 422 whose detail
 * has FastAPI/pydantic's `type` and `loc` (reference §6.2). Null members are dropped first, at
 * every depth, as MLflow does before a provider sees the request (§5.1).
 */
export function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  const input = dropNulls(body);
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw new RequestValidationError(result.error.issues.map((issue) => toValidationIssue(issue, input)));
}

/** Removes null-valued object members in place (the body is ours, freshly parsed). */
function dropNulls(value: unknown): unknown {
  if (Array.isArray(value)) {
    for (const item of value) dropNulls(item);
  } else if (typeof value === 'object' && value !== null) {
    const record = value as Record<string, unknown>;
    for (const key in record) {
      const member = record[key];
      // eslint-disable-next-line @typescript-eslint/no-dynamic-delete -- walking arbitrary client JSON
      if (member === null) delete record[key];
      else if (typeof member === 'object') dropNulls(member);
    }
  }
  return value;
}

const EXPECTED_TYPE: Record<string, { type: string; msg: string }> = {
  string: { type: 'string_type', msg: 'Input should be a valid string' },
  number: { type: 'float_type', msg: 'Input should be a valid number' },
  int: { type: 'int_type', msg: 'Input should be a valid integer' },
  boolean: { type: 'bool_type', msg: 'Input should be a valid boolean' },
  array: { type: 'list_type', msg: 'Input should be a valid list' },
  object: { type: 'dict_type', msg: 'Input should be a valid dictionary' },
  record: { type: 'dict_type', msg: 'Input should be a valid dictionary' },
};

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let value = root;
  for (const key of path) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

function toValidationIssue(issue: z.core.$ZodIssue, root: unknown): ValidationIssue {
  const path = issue.path.filter((key): key is string | number => typeof key !== 'symbol');
  const loc: (string | number)[] = ['body', ...path];
  const input = valueAt(root, path);
  switch (issue.code) {
    case 'invalid_type': {
      if (input === undefined)
        return {
          type: 'missing',
          loc,
          msg: 'Field required',
          input: valueAt(root, path.slice(0, -1)) ?? null,
        };
      const expected = EXPECTED_TYPE[issue.expected] ?? {
        type: `${issue.expected}_type`,
        msg: issue.message,
      };
      return { type: expected.type, loc, msg: expected.msg, input };
    }
    case 'too_small':
      if (issue.origin === 'array') {
        const actual = Array.isArray(input) ? input.length : 0;
        return {
          type: 'too_short',
          loc,
          msg: `List should have at least ${String(issue.minimum)} item after validation, not ${actual}`,
          input,
          ctx: { field_type: 'List', min_length: Number(issue.minimum), actual_length: actual },
        };
      }
      return issue.inclusive === false
        ? {
            type: 'greater_than',
            loc,
            msg: `Input should be greater than ${String(issue.minimum)}`,
            input,
            ctx: { gt: Number(issue.minimum) },
          }
        : {
            type: 'greater_than_equal',
            loc,
            msg: `Input should be greater than or equal to ${String(issue.minimum)}`,
            input,
            ctx: { ge: Number(issue.minimum) },
          };
    case 'too_big':
      if (issue.origin === 'array') {
        return {
          type: 'too_long',
          loc,
          msg: issue.message,
          input,
          ctx: { max_length: Number(issue.maximum) },
        };
      }
      return issue.inclusive === false
        ? {
            type: 'less_than',
            loc,
            msg: `Input should be less than ${String(issue.maximum)}`,
            input,
            ctx: { lt: Number(issue.maximum) },
          }
        : {
            type: 'less_than_equal',
            loc,
            msg: `Input should be less than or equal to ${String(issue.maximum)}`,
            input,
            ctx: { le: Number(issue.maximum) },
          };
    case 'invalid_union':
      return issue.discriminator !== undefined
        ? { type: 'union_tag_invalid', loc, msg: 'Input tag does not match any of the expected tags', input }
        : { type: 'union_type', loc, msg: 'Input does not match any of the allowed types', input };
    case 'invalid_value':
      return {
        type: 'literal_error',
        loc,
        msg: `Input should be ${issue.values.map((value) => JSON.stringify(value)).join(' or ')}`,
        input,
        ctx: { expected: issue.values.map((value) => JSON.stringify(value)).join(' or ') },
      };
    default:
      return { type: 'value_error', loc, msg: issue.message, input };
  }
}
