import type { z } from 'zod';
import { RequestValidationError, type ValidationIssue } from '../errors.js';
import { UNDECIDED, fastParserFor } from '../schemas/fast-parse.js';

/**
 * Validates a request body against a gateway schema: the typed value, or a 422 whose detail
 * has FastAPI/pydantic's `type` and `loc` (reference §6.2). Null members are dropped first, at
 * every depth, as MLflow does before a provider sees the request (§5.1).
 */
export function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  const input = dropNulls(body);
  const fast = fastParserFor(schema)?.(input) ?? UNDECIDED;
  if (fast !== UNDECIDED) return fast;
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues: ValidationIssue[] = [];
  for (const issue of result.error.issues) addIssue(issues, issue, [], input);
  throw new RequestValidationError(firstPerLocation(issues));
}

/**
 * Removes null-valued object members in place (the body is ours, freshly parsed). Iterative:
 * the parser already bounds nesting, but no walk over client JSON may recurse.
 */
function dropNulls(value: unknown): unknown {
  const pending: unknown[] = [value];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    if (Array.isArray(next)) {
      for (const item of next) if (typeof item === 'object' && item !== null) pending.push(item);
    } else if (typeof next === 'object' && next !== null) {
      const record = next as Record<string, unknown>;
      for (const key in record) {
        const member = record[key];
        // eslint-disable-next-line @typescript-eslint/no-dynamic-delete -- walking arbitrary client JSON
        if (member === null) delete record[key];
        else if (typeof member === 'object') pending.push(member);
      }
    }
  }
  return value;
}

/**
 * Pydantic reports one error per location: a field's first failing check. zod may report two
 * (a bound, then the safe-integer check), so later ones at the same location are dropped.
 */
function firstPerLocation(issues: ValidationIssue[]): ValidationIssue[] {
  if (issues.length < 2) return issues;
  const seen = new Set<string>();
  return issues.filter((issue) => {
    const key = JSON.stringify(issue.loc);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

type Path = readonly (string | number)[];

function valueAt(root: unknown, path: Path): unknown {
  let value = root;
  for (const key of path) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

/**
 * Adds pydantic's items for one zod issue. A union whose input has the container type of exactly
 * one member (a content list whose part has an unknown `type`) reports that member's errors,
 * as pydantic's would, rather than a bare "matches none".
 */
function addIssue(out: ValidationIssue[], issue: z.core.$ZodIssue, prefix: Path, root: unknown): void {
  const path = [...prefix, ...issue.path.filter((key): key is string | number => typeof key !== 'symbol')];
  if (issue.code === 'invalid_union' && issue.discriminator === undefined) {
    const member = soleMatchingMember(issue.errors);
    if (member) {
      for (const inner of member) addIssue(out, inner, path, root);
      return;
    }
  }
  out.push(toValidationIssue(issue, path, root));
}

/**
 * The issues of the union member that got furthest: past the type check at the union's own
 * path, with the fewest issues. Null when members tie with different complaints (`[1.5]` is
 * neither a list of strings nor a list of tokens): then nothing is more helpful than "none".
 */
function soleMatchingMember(
  members: readonly (readonly z.core.$ZodIssue[])[],
): readonly z.core.$ZodIssue[] | null {
  let found: readonly z.core.$ZodIssue[] | null = null;
  let isTied = false;
  for (const member of members) {
    if (member.some((inner) => inner.code === 'invalid_type' && inner.path.length === 0)) continue;
    if (found === null || member.length < found.length) {
      found = member;
      isTied = false;
    } else if (member.length === found.length && signature(member) !== signature(found)) {
      isTied = true;
    }
  }
  return isTied ? null : found;
}

/** What a member complains about, to tell a real tie from two members saying the same. */
function signature(issues: readonly z.core.$ZodIssue[]): string {
  return issues.map((issue) => `${issue.code}@${issue.path.join('.')}`).join(' ');
}

const TYPE_ERRORS: Record<string, { type: string; msg: string }> = {
  string: { type: 'string_type', msg: 'Input should be a valid string' },
  number: { type: 'float_type', msg: 'Input should be a valid number' },
  int: { type: 'int_type', msg: 'Input should be a valid integer' },
  boolean: { type: 'bool_type', msg: 'Input should be a valid boolean' },
  array: { type: 'list_type', msg: 'Input should be a valid list' },
  object: { type: 'dict_type', msg: 'Input should be a valid dictionary' },
  record: { type: 'dict_type', msg: 'Input should be a valid dictionary' },
};

/** The pydantic error type a lax conversion (schemas/lax.ts) put in its issue's params. */
function laxErrorType(issue: z.core.$ZodIssue): string | null {
  if (issue.code !== 'custom') return null;
  const type: unknown = issue.params?.type;
  return typeof type === 'string' ? type : null;
}

function missing(path: Path, root: unknown): ValidationIssue {
  return {
    type: 'missing',
    loc: ['body', ...path],
    msg: 'Field required',
    input: valueAt(root, path.slice(0, -1)) ?? null,
  };
}

/** A discriminated union with no or an unknown tag: pydantic's `union_tag_*` at the item. */
function tagError(issue: z.core.$ZodIssueInvalidUnion, path: Path, root: unknown): ValidationIssue {
  const discriminator = `'${issue.discriminator ?? ''}'`;
  const itemPath = path.at(-1) === issue.discriminator ? path.slice(0, -1) : path;
  const loc = ['body', ...itemPath];
  const input = valueAt(root, itemPath);
  const tag = valueAt(root, [...itemPath, issue.discriminator ?? '']);
  if (tag === undefined) {
    return {
      type: 'union_tag_not_found',
      loc,
      msg: `Unable to extract tag using discriminator ${discriminator}`,
      input,
      ctx: { discriminator },
    };
  }
  const options = 'options' in issue ? (issue.options ?? []) : [];
  const expectedTags = options.map((option) => `'${String(option)}'`).join(', ');
  const tagText = typeof tag === 'string' ? tag : JSON.stringify(tag);
  return {
    type: 'union_tag_invalid',
    loc,
    msg: `Input tag '${tagText}' found using ${discriminator} does not match any of the expected tags: ${expectedTags}`,
    input,
    ctx: { discriminator, tag: tagText, expected_tags: expectedTags },
  };
}

function toValidationIssue(issue: z.core.$ZodIssue, path: Path, root: unknown): ValidationIssue {
  const loc: (string | number)[] = ['body', ...path];
  const input = valueAt(root, path);
  if (input === undefined && issue.code !== 'invalid_union') return missing(path, root);
  switch (issue.code) {
    case 'invalid_type': {
      const error = TYPE_ERRORS[issue.expected] ?? {
        type: `${issue.expected}_type`,
        msg: `Input should be a valid ${issue.expected}`,
      };
      return { type: error.type, loc, msg: error.msg, input };
    }
    case 'too_small':
      return tooSmall(issue, loc, input);
    case 'too_big':
      return tooBig(issue, loc, input);
    case 'invalid_union':
      if (issue.discriminator !== undefined) return tagError(issue, path, root);
      if (input === undefined) return missing(path, root);
      return { type: 'union_type', loc, msg: 'Input does not match any of the allowed types', input };
    case 'invalid_value': {
      const expected = issue.values.map((value) => JSON.stringify(value)).join(' or ');
      return { type: 'literal_error', loc, msg: `Input should be ${expected}`, input, ctx: { expected } };
    }
    default:
      return { type: laxErrorType(issue) ?? 'value_error', loc, msg: issue.message, input };
  }
}

function tooSmall(
  issue: z.core.$ZodIssueTooSmall,
  loc: (string | number)[],
  input: unknown,
): ValidationIssue {
  const minimum = Number(issue.minimum);
  if (issue.origin === 'array') {
    const actual = Array.isArray(input) ? input.length : 0;
    return {
      type: 'too_short',
      loc,
      msg: `List should have at least ${minimum} item${minimum === 1 ? '' : 's'} after validation, not ${actual}`,
      input,
      ctx: { field_type: 'List', min_length: minimum, actual_length: actual },
    };
  }
  return issue.inclusive === false
    ? {
        type: 'greater_than',
        loc,
        msg: `Input should be greater than ${minimum}`,
        input,
        ctx: { gt: minimum },
      }
    : {
        type: 'greater_than_equal',
        loc,
        msg: `Input should be greater than or equal to ${minimum}`,
        input,
        ctx: { ge: minimum },
      };
}

function tooBig(issue: z.core.$ZodIssueTooBig, loc: (string | number)[], input: unknown): ValidationIssue {
  const maximum = Number(issue.maximum);
  if (issue.origin === 'array') {
    const actual = Array.isArray(input) ? input.length : 0;
    return {
      type: 'too_long',
      loc,
      msg: `List should have at most ${maximum} item${maximum === 1 ? '' : 's'} after validation, not ${actual}`,
      input,
      ctx: { field_type: 'List', max_length: maximum, actual_length: actual },
    };
  }
  return issue.inclusive === false
    ? { type: 'less_than', loc, msg: `Input should be less than ${maximum}`, input, ctx: { lt: maximum } }
    : {
        type: 'less_than_equal',
        loc,
        msg: `Input should be less than or equal to ${maximum}`,
        input,
        ctx: { le: maximum },
      };
}
