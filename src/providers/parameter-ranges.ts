import { InvalidRequestError } from '../errors.js';

/**
 * A numeric parameter whose accepted range differs from the gateway's (OpenAI's). `min`/`max`
 * are the gateway values the provider can take; `clampTo`, when set, is the provider's narrower
 * range, onto which accepted values are clamped because its bounds mean the same thing there
 * (Cohere's `p` stops at 0.99, where OpenAI's `top_p: 1` means "no cut-off" too).
 */
interface NumberRule {
  readonly kind: 'number';
  readonly min: number;
  readonly max: number;
  readonly isInteger?: boolean;
  readonly clampTo?: readonly [min: number, max: number];
}

/** An array parameter (`stop`) the provider caps at `max` items; dropping items would change the answer. */
interface CountRule {
  readonly kind: 'count';
  readonly max: number;
}

/**
 * A parameter the provider has no field for. `neutral` is the one value that asks for nothing
 * (a penalty of 0), so sending it is the same as leaving the field out; any other value is refused.
 */
interface UnsupportedRule {
  readonly kind: 'unsupported';
  readonly neutral?: number;
}

type ParameterRule = NumberRule | CountRule | UnsupportedRule;

/** One provider's rules, keyed by the gateway's (OpenAI's) field name. */
export type ParameterRules = Readonly<Record<string, ParameterRule>>;

/** A provider's rules, frozen at module load; `label` names the provider in refusals. */
export interface ParameterTable {
  readonly label: string;
  readonly entries: readonly (readonly [field: string, rule: ParameterRule])[];
}

export function parameterTable(label: string, rules: ParameterRules): ParameterTable {
  return Object.freeze({ label, entries: Object.freeze(Object.entries(rules)) });
}

/** What happens to one value: kept as is, replaced, or left out of the upstream body. */
type Outcome = { kind: 'keep' } | { kind: 'set'; value: number } | { kind: 'drop' };

const KEEP: Outcome = { kind: 'keep' };
const DROP: Outcome = { kind: 'drop' };

function refuse(field: string, detail: string): never {
  throw new InvalidRequestError(422, detail, field);
}

function rangeText(rule: NumberRule): string {
  const what = rule.isInteger === true ? 'an integer' : 'a number';
  if (rule.max === Number.POSITIVE_INFINITY) return `must be ${what} of at least ${rule.min}`;
  return `must be ${what} between ${rule.min} and ${rule.max}`;
}

function unsupportedText(field: string, rule: UnsupportedRule, label: string): string {
  const only =
    rule.neutral === undefined ? '' : ` (only ${rule.neutral}, which asks for nothing, is accepted)`;
  return `Parameter ${field} is not supported by ${label}${only}.`;
}

function checkNumber(field: string, value: unknown, rule: NumberRule, label: string): Outcome {
  const isValid =
    typeof value === 'number' &&
    value >= rule.min &&
    value <= rule.max &&
    (rule.isInteger !== true || Number.isInteger(value));
  if (!isValid) refuse(field, `Invalid value for ${field}: ${rangeText(rule)} for ${label}.`);
  if (rule.clampTo === undefined) return KEEP;
  const [low, high] = rule.clampTo;
  const clamped = Math.min(Math.max(value, low), high);
  return clamped === value ? KEEP : { kind: 'set', value: clamped };
}

function checkValue(field: string, value: unknown, rule: ParameterRule, label: string): Outcome {
  switch (rule.kind) {
    case 'number':
      return checkNumber(field, value, rule, label);
    case 'count':
      if (Array.isArray(value) && value.length > rule.max) {
        refuse(
          field,
          `Invalid value for ${field}: ${label} accepts at most ${rule.max}, got ${value.length}.`,
        );
      }
      return KEEP;
    case 'unsupported':
      if (rule.neutral !== undefined && value === rule.neutral) return DROP;
      return refuse(field, unsupportedText(field, rule, label));
  }
}

/**
 * Checks a request against a provider's table before any upstream call: a value the provider
 * cannot take is a 422 naming the field, a value its bounds mean the same by is clamped. The
 * request comes back unchanged (the same object) unless a value was clamped or dropped.
 */
export function applyParameterRules<T extends Record<string, unknown>>(request: T, table: ParameterTable): T {
  let result = request;
  for (const [field, rule] of table.entries) {
    const value = request[field];
    if (value === undefined || value === null) continue;
    const outcome = checkValue(field, value, rule, table.label);
    if (outcome.kind === 'keep') continue;
    if (result === request) result = { ...request };
    if (outcome.kind === 'set') Reflect.set(result, field, outcome.value);
    else Reflect.deleteProperty(result, field);
  }
  return result;
}
