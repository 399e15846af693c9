import type { z } from 'zod';

/**
 * A fast path in front of zod for the hot parses (the request body, the upstream answer): a
 * parser compiled once per schema from the schema's own definition, covering the zod subset the
 * wire schemas use. It either returns exactly what `schema.parse` would (same values, same key
 * order) or UNDECIDED, and then zod parses as before, so every error still comes from zod.
 * Measured on the chat bench body it costs a fraction of zod's object/pipe/catchall machinery.
 */
export const UNDECIDED: unique symbol = Symbol('undecided');
type Undecided = typeof UNDECIDED;

/** A compiled schema: its value for an input, or UNDECIDED when only zod can say. */
type Parse = (value: unknown) => unknown;

/**
 * What a `z.preprocess` does before its inner schema (schemas/lax.ts), for any input, undefined
 * included: the converted value, or UNDECIDED where the preprocess reports an issue.
 */
export type Conversion = (value: unknown) => unknown;

// The JavaScript kinds a schema can accept: a union tries only the members that admit the
// input's kind, since zod rejects any other kind at the member's first check.
const UNDEFINED = 1;
const NULL = 2;
const STRING = 4;
const NUMBER = 8;
const BOOLEAN = 16;
const ARRAY = 32;
const OBJECT = 64;
const ANY_KIND = 255;

interface Node {
  readonly parse: Parse;
  readonly kinds: number;
}

const UNSUPPORTED: Node = { parse: () => UNDECIDED, kinds: ANY_KIND };

const conversions = new WeakMap<z.ZodType, Conversion>();
const compiled = new WeakMap<z.ZodType, Node>();
const parsers = new WeakMap<z.ZodType, ((input: unknown) => unknown) | null>();

/** Declares a `z.preprocess` schema's conversion, so the fast path can run it too. */
export function registerConversion(schema: z.ZodType, convert: Conversion): void {
  conversions.set(schema, convert);
}

/** The fast parser of a schema, compiled on first use; null when zod must parse every input. */
export function fastParserFor<T>(schema: z.ZodType<T>): ((input: unknown) => T | Undecided) | null {
  let parser = parsers.get(schema);
  if (parser === undefined) {
    const node = compile(schema);
    parser = node === UNSUPPORTED ? null : node.parse;
    parsers.set(schema, parser);
  }
  return parser as ((input: unknown) => T | Undecided) | null;
}

function kindOf(value: unknown): number {
  switch (typeof value) {
    case 'undefined':
      return UNDEFINED;
    case 'string':
      return STRING;
    case 'number':
      return NUMBER;
    case 'boolean':
      return BOOLEAN;
    case 'object':
      return value === null ? NULL : Array.isArray(value) ? ARRAY : OBJECT;
    default:
      return ANY_KIND;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The zod internals the compiler reads; `_zod.def` is zod's documented introspection surface. */
interface Internals {
  def: Record<string, unknown> & { type: string; checks?: readonly { _zod: { def: CheckDef } }[] };
  optin?: 'optional' | 'defaulted';
  optout?: 'optional';
  values?: ReadonlySet<unknown>;
  propValues?: Record<string, ReadonlySet<unknown>>;
}
interface CheckDef {
  check: string;
  value?: unknown;
  inclusive?: boolean;
  format?: string;
  minimum?: number;
  maximum?: number;
}

function internals(schema: unknown): Internals {
  return (schema as { _zod: Internals })._zod;
}

function compile(schema: z.ZodType): Node {
  let node = compiled.get(schema);
  if (node === undefined) {
    node = compileNode(schema);
    compiled.set(schema, node);
  }
  return node;
}

function compileNode(schema: z.ZodType): Node {
  const zod = internals(schema);
  const def = zod.def;
  const checks = (def.checks ?? []).map((check) => check._zod.def);
  if (def.coerce === true) return UNSUPPORTED;
  if (checks.length > 0 && def.type !== 'number' && def.type !== 'array') return UNSUPPORTED;
  switch (def.type) {
    case 'string':
      return { parse: (value) => (typeof value === 'string' ? value : UNDECIDED), kinds: STRING };
    case 'boolean':
      return { parse: (value) => (typeof value === 'boolean' ? value : UNDECIDED), kinds: BOOLEAN };
    case 'number':
      return compileNumber(checks);
    case 'unknown':
    case 'any':
      return { parse: (value) => value, kinds: ANY_KIND };
    case 'literal':
    case 'enum':
      return compileValues(zod.values);
    case 'optional':
      return compileOptional(def.innerType as z.ZodType);
    case 'nullable': {
      const inner = compile(def.innerType as z.ZodType);
      return { parse: (value) => (value === null ? null : inner.parse(value)), kinds: inner.kinds | NULL };
    }
    case 'default':
      return compileDefault(def);
    case 'array':
      return compileArray(compile(def.element as z.ZodType), checks);
    case 'object':
      return compileObject(def);
    case 'record':
      return compileRecord(def);
    case 'union':
      return compileUnion(def);
    case 'pipe':
      return compilePipe(schema, def);
    default:
      return UNSUPPORTED;
  }
}

function compileNumber(checks: readonly CheckDef[]): Node {
  const tests: ((value: number) => boolean)[] = [];
  for (const check of checks) {
    const bound = check.value;
    if (check.check === 'greater_than' && typeof bound === 'number') {
      tests.push(check.inclusive === true ? (value) => value >= bound : (value) => value > bound);
    } else if (check.check === 'less_than' && typeof bound === 'number') {
      tests.push(check.inclusive === true ? (value) => value <= bound : (value) => value < bound);
    } else if (check.check === 'number_format' && check.format === 'safeint') {
      tests.push(Number.isSafeInteger);
    } else {
      return UNSUPPORTED;
    }
  }
  const parse: Parse = (value) => {
    if (typeof value !== 'number' || !Number.isFinite(value)) return UNDECIDED;
    for (const test of tests) if (!test(value)) return UNDECIDED;
    return value;
  };
  return { parse, kinds: NUMBER };
}

function compileValues(values: ReadonlySet<unknown> | undefined): Node {
  if (values === undefined) return UNSUPPORTED;
  let kinds = 0;
  for (const value of values) kinds |= kindOf(value);
  return { parse: (value) => (values.has(value) ? value : UNDECIDED), kinds };
}

function compileOptional(innerType: z.ZodType): Node {
  const inner = compile(innerType);
  // zod lets a defaulted inner schema substitute for absence; any other leaves it undefined.
  const isDefaulted = internals(innerType).optin === 'defaulted';
  const parse: Parse = (value) => {
    if (value !== undefined) return inner.parse(value);
    return isDefaulted ? inner.parse(value) : undefined;
  };
  return { parse, kinds: inner.kinds | UNDEFINED };
}

function compileDefault(def: Internals['def']): Node {
  const inner = compile(def.innerType as z.ZodType);
  // Read per use, as zod does: the getter clones an object default and calls a function one.
  const parse: Parse = (value) => {
    if (value === undefined) return def.defaultValue;
    const result = inner.parse(value);
    return result === undefined ? def.defaultValue : result;
  };
  return { parse, kinds: inner.kinds | UNDEFINED };
}

function compileArray(element: Node, checks: readonly CheckDef[]): Node {
  let minimum = 0;
  let maximum = Infinity;
  for (const check of checks) {
    if (check.check === 'min_length' && check.minimum !== undefined) minimum = check.minimum;
    else if (check.check === 'max_length' && check.maximum !== undefined) maximum = check.maximum;
    else return UNSUPPORTED;
  }
  const parse: Parse = (value) => {
    if (!Array.isArray(value) || value.length < minimum || value.length > maximum) return UNDECIDED;
    const output: unknown[] = new Array(value.length);
    for (let index = 0; index < value.length; index += 1) {
      const item = element.parse(value[index]);
      if (item === UNDECIDED) return UNDECIDED;
      output[index] = item;
    }
    return output;
  };
  return { parse, kinds: ARRAY };
}

/** How zod treats a shape key missing from the input, from its schema's optin/optout. */
enum Absent {
  /** Required: zod reports it (or its schema fails on undefined). */
  Undecided,
  /** Nothing is written. */
  Skip,
  /** The schema's value for undefined is written when it is not undefined. */
  WriteDefined,
  /** The schema's value for undefined is always written. */
  Write,
}

function absentRule(schema: z.ZodType): Absent {
  const { optin, optout } = internals(schema);
  if (optin === undefined) return Absent.Undecided;
  if (optout === 'optional') return optin === 'optional' ? Absent.Skip : Absent.WriteDefined;
  return optin === 'defaulted' ? Absent.Write : Absent.WriteDefined;
}

function compileObject(def: Internals['def']): Node {
  const shape = def.shape as Record<string, z.ZodType>;
  const catchall = def.catchall === undefined ? null : internals(def.catchall).def.type;
  if (catchall !== null && catchall !== 'unknown') return UNSUPPORTED;
  const keys = Object.keys(shape);
  if (Object.getOwnPropertySymbols(shape).length > 0 || Object.hasOwn(shape, '__proto__')) return UNSUPPORTED;
  const parsers = keys.map((key) => compile(shape[key] as z.ZodType).parse);
  const lines = keys.map((key, position) => fieldSource(key, position, absentRule(shape[key] as z.ZodType)));
  const extras = catchall === 'unknown' ? LOOSE_SOURCE : '';
  const source = `${OBJECT_HEAD}${lines.join('')}${extras}return output;}`;
  try {
    // A function generated per object schema, as zod's own JIT does: named loads and stores
    // stay monomorphic, where one shared site reading keys by name measured slower than zod.
    // eslint-disable-next-line @typescript-eslint/no-implied-eval -- the source is built from the schema's keys, JSON-quoted
    const factory = new Function('parsers', 'isObject', 'UNDECIDED', 'keys', source) as (
      ...args: unknown[]
    ) => Parse;
    return { parse: factory(parsers, isObject, UNDECIDED, new Set(keys)), kinds: OBJECT };
  } catch {
    // Code generation is disabled (--disallow-code-generation-from-strings): zod parses alone.
    return UNSUPPORTED;
  }
}

const OBJECT_HEAD =
  'return function parse(value) {if (!isObject(value)) return UNDECIDED;const output = {};let member, result;';
const LOOSE_SOURCE =
  "for (const key in value) if (!keys.has(key) && key !== '__proto__') output[key] = value[key];";

/** The source writing one shape key as zod's object parser would, or returning UNDECIDED. */
function fieldSource(key: string, position: number, absent: Absent): string {
  const name = JSON.stringify(key);
  const parse = `result = parsers[${String(position)}](member); if (result === UNDECIDED) return UNDECIDED;`;
  const present = `${parse} output[${name}] = result;`;
  let missing: string;
  switch (absent) {
    case Absent.Undecided:
      missing = 'return UNDECIDED;';
      break;
    case Absent.Skip:
      missing = '';
      break;
    case Absent.WriteDefined:
      missing = `${parse} if (result !== undefined) output[${name}] = result;`;
      break;
    case Absent.Write:
      missing = `${parse} output[${name}] = result;`;
      break;
  }
  return `member = value[${name}]; if (member !== undefined) {${present}} else if (${name} in value) return UNDECIDED; else {${missing}}`;
}

function compileRecord(def: Internals['def']): Node {
  const key = internals(def.keyType).def;
  if (key.type !== 'string' || key.coerce === true || (key.checks ?? []).length > 0) return UNSUPPORTED;
  if (def.mode !== undefined) return UNSUPPORTED;
  const element = compile(def.valueType as z.ZodType);
  const parse: Parse = (value) => {
    // zod takes plain objects only and refuses symbol keys; anything unusual is left to it.
    if (!isObject(value) || Object.getPrototypeOf(value) !== Object.prototype) return UNDECIDED;
    if (Object.hasOwn(value, 'constructor') || Object.getOwnPropertySymbols(value).length > 0) {
      return UNDECIDED;
    }
    const output: Record<string, unknown> = {};
    for (const name of Object.keys(value)) {
      if (name === '__proto__') continue;
      const item = element.parse(value[name]);
      if (item === UNDECIDED) return UNDECIDED;
      output[name] = item;
    }
    return output;
  };
  return { parse, kinds: OBJECT };
}

function compileUnion(def: Internals['def']): Node {
  const options = def.options as z.ZodType[];
  if (typeof def.discriminator === 'string') return compileDiscriminated(def.discriminator, def, options);
  if (def.inclusive !== undefined) return UNSUPPORTED;
  const nodes = options.map(compile);
  const kinds = nodes.reduce((all, node) => all | node.kinds, 0);
  // zod returns the first member that accepts. A member that cannot take the input's kind
  // certainly refuses it; the first that can decides, since an undecided member might accept.
  const parse: Parse = (value) => {
    const kind = kindOf(value);
    for (const node of nodes) if ((node.kinds & kind) !== 0) return node.parse(value);
    return UNDECIDED;
  };
  return { parse, kinds };
}

function compileDiscriminated(discriminator: string, def: Internals['def'], options: z.ZodType[]): Node {
  if (def.unionFallback !== undefined) return UNSUPPORTED;
  const byTag = new Map<unknown, Node>();
  for (const option of options) {
    const tags = internals(option).propValues?.[discriminator];
    if (tags === undefined) return UNSUPPORTED;
    for (const tag of tags) if (!byTag.has(tag)) byTag.set(tag, compile(option));
  }
  const parse: Parse = (value) => {
    if (!isObject(value)) return UNDECIDED;
    const tag = value[discriminator];
    if (tag === undefined) return UNDECIDED;
    const option = byTag.get(tag);
    return option === undefined ? UNDECIDED : option.parse(value);
  };
  return { parse, kinds: OBJECT };
}

function compilePipe(schema: z.ZodType, def: Internals['def']): Node {
  const convert = conversions.get(schema);
  if (convert === undefined) return UNSUPPORTED;
  const inner = compile(def.out as z.ZodType);
  const parse: Parse = (value) => {
    const converted = convert(value);
    return converted === UNDECIDED ? UNDECIDED : inner.parse(converted);
  };
  return { parse, kinds: ANY_KIND };
}
