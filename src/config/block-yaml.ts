// The plain block subset of YAML most configs are written in, parsed in one pass over the lines.
// The yaml package parses a 1,000-endpoint file (200 kB) in about 120 ms on a small machine:
// most of a reload. This reads such a file in a few ms and gives up (null) on anything outside
// the subset (anchors, tags, flow collections, block and multi-line scalars, escapes, duplicate
// or unusual keys), so the yaml package stays the judge of every other file and of every error.

/** A parsed file: the same value as the yaml package's `parse` (YAML 1.2, core schema). */
export interface BlockYaml {
  value: Record<string, unknown>;
}

interface Line {
  indent: number;
  /** The line without its indentation; never blank, never a whole-line comment. */
  text: string;
}

/** Gives up on a file outside the subset; caught once, at the top. */
class OutsideSubset extends Error {}

// A plain key the core schema resolves to a string; `__proto__` would need defineProperty.
const KEY = /^([A-Za-z_][A-Za-z0-9_./-]*):(?: +|$)/;
const NON_STRING_KEY = /^(?:[Nn]ull|NULL|[Tt]rue|TRUE|[Ff]alse|FALSE|__proto__)$/;
// Plain scalars may not start with an indicator, save `-?:` before a non-space (YAML 1.2 §7.3.3).
const PLAIN_START = /^(?:[,[\]{}#&*!|>'"%@`]|[-?:](?: |$))/;
const SINGLE_QUOTED = /^'((?:[^']|'')*)'(?: +#.*| *)$/;
const DOUBLE_QUOTED = /^"([^"\\]*)"(?: +#.*| *)$/;
const COMMENT = / #/;
const TRAILER = /^(?: +#.*| *)$/;
// In a flow collection a plain scalar also ends at `,`, `]` or `}`; a `#` there is left out.
const FLOW_PLAIN = /^[^,[\]{}#]*/;
const FLOW_QUOTED = /^(?:'(?:[^']|'')*'|"[^"\\]*")/;
const FLOW_KEY = /^([A-Za-z_][A-Za-z0-9_./-]*): +/;
// The yaml package's core schema tests, in its order.
const NULL = /^(?:~|[Nn]ull|NULL)?$/;
const BOOL = /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/;
const INT_OCT = /^0o[0-7]+$/;
const INT = /^[-+]?[0-9]+$/;
const INT_HEX = /^0x[0-9a-fA-F]+$/;
const FLOAT_NAN = /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/;
const FLOAT_EXP = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/;
const FLOAT = /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/;

/** The file's value, or null when it is outside the subset (the yaml package must parse it). */
export function parseBlockYaml(text: string): BlockYaml | null {
  // Tabs, CRs, a BOM and control characters need the full grammar's rules.
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0009\u000b-\u001f\u007f\ufeff]/.test(text)) return null;
  try {
    const lines = toLines(text);
    const first = lines[0];
    if (first === undefined || first.indent !== 0 || first.text.startsWith('-')) return null;
    const parser = new BlockParser(lines);
    const value = parser.mapping(0, 0);
    if (parser.index !== lines.length) return null;
    return { value };
  } catch (error) {
    if (error instanceof OutsideSubset) return null;
    throw error;
  }
}

function toLines(text: string): Line[] {
  const lines: Line[] = [];
  for (const raw of text.split('\n')) {
    let indent = 0;
    while (raw.charCodeAt(indent) === 32) indent += 1;
    const body = raw.slice(indent).trimEnd();
    if (body === '' || body.startsWith('#')) continue;
    // Directives and document markers start a multi-document stream.
    if (indent === 0 && (body.startsWith('%') || body.startsWith('---') || body.startsWith('...')))
      throw new OutsideSubset();
    lines.push({ indent, text: body });
  }
  return lines;
}

class BlockParser {
  index = 0;
  readonly #lines: Line[];

  constructor(lines: Line[]) {
    this.#lines = lines;
  }

  /** The entries at `indent` from the current line on; a key's value may be a nested block. */
  mapping(indent: number, parentIndent: number): Record<string, unknown> {
    const value: Record<string, unknown> = {};
    for (let line = this.#lines[this.index]; line !== undefined; line = this.#lines[this.index]) {
      if (line.indent < indent) {
        if (line.indent > parentIndent) throw new OutsideSubset();
        break;
      }
      const match = line.indent === indent ? KEY.exec(line.text) : null;
      const key = match?.[1];
      if (match === null || key === undefined || !isPlainKey(key) || Object.hasOwn(value, key))
        throw new OutsideSubset();
      this.index += 1;
      value[key] = this.#value(line.text.slice(match[0].length), indent, true);
    }
    return value;
  }

  /** `- ` entries at `indent`; an entry's text after the dash is read as a line of its own. */
  #sequence(indent: number): unknown[] {
    const items: unknown[] = [];
    for (let line = this.#lines[this.index]; line !== undefined; line = this.#lines[this.index]) {
      if (line.indent !== indent || !isEntry(line.text)) break;
      let offset = 1;
      while (line.text.charCodeAt(offset) === 32) offset += 1;
      const rest = line.text.slice(offset);
      if (rest === '' || rest.startsWith('#')) {
        this.index += 1;
        items.push(this.#nested(indent, false));
      } else if (KEY.test(rest) || isEntry(rest)) {
        // `- key: value` opens a mapping (or `- - x` a sequence) at the column after the dash.
        this.#lines[this.index] = { indent: indent + offset, text: rest };
        items.push(this.#block(indent + offset, indent));
      } else {
        this.index += 1;
        items.push(this.#scalarValue(rest, indent));
      }
    }
    return items;
  }

  #block(indent: number, parentIndent: number): unknown {
    const line = this.#lines[this.index];
    return line !== undefined && isEntry(line.text)
      ? this.#sequence(indent)
      : this.mapping(indent, parentIndent);
  }

  /** What follows `key:` on its line, else the block below it. */
  #value(rest: string, indent: number, isMappingValue: boolean): unknown {
    if (rest === '' || rest.startsWith('#')) return this.#nested(indent, isMappingValue);
    return this.#scalarValue(rest, indent);
  }

  /** A block on the next lines, more indented (a mapping's sequence may sit at its indent). */
  #nested(indent: number, isMappingValue: boolean): unknown {
    const next = this.#lines[this.index];
    if (next === undefined) return null;
    if (next.indent > indent) return this.#block(next.indent, indent);
    if (isMappingValue && next.indent === indent && isEntry(next.text)) return this.#sequence(indent);
    return null;
  }

  /** A one-line scalar; a more indented next line would continue it, which the subset leaves out. */
  #scalarValue(text: string, indent: number): unknown {
    const next = this.#lines[this.index];
    if (next !== undefined && next.indent > indent) throw new OutsideSubset();
    return scalar(text);
  }
}

/** YAML caps an implicit key at 1024 characters. */
function isPlainKey(key: string): boolean {
  return key.length <= 1000 && !NON_STRING_KEY.test(key);
}

function isEntry(text: string): boolean {
  return text === '-' || text.startsWith('- ');
}

function scalar(text: string): unknown {
  const first = text[0];
  if (first === '{' || first === '[') {
    const flow = new FlowReader(text);
    const value = flow.node();
    if (!TRAILER.test(text.slice(flow.index))) throw new OutsideSubset();
    return value;
  }
  if (first === "'") {
    const quoted = SINGLE_QUOTED.exec(text)?.[1];
    if (quoted === undefined) throw new OutsideSubset();
    return quoted.replaceAll("''", "'");
  }
  if (first === '"') {
    const quoted = DOUBLE_QUOTED.exec(text)?.[1];
    if (quoted === undefined) throw new OutsideSubset();
    return quoted;
  }
  const comment = COMMENT.exec(text);
  const plain = comment === null ? text : text.slice(0, comment.index).trimEnd();
  if (PLAIN_START.test(plain) || plain.includes(': ') || plain.endsWith(':')) throw new OutsideSubset();
  return resolvePlain(plain);
}

/** The core schema's reading of a plain scalar, as the yaml package resolves it. */
function resolvePlain(text: string): unknown {
  if (NULL.test(text)) return null;
  if (BOOL.test(text)) return text[0] === 't' || text[0] === 'T';
  if (INT_OCT.test(text)) return parseInt(text.slice(2), 8);
  if (INT.test(text)) return parseInt(text, 10);
  if (INT_HEX.test(text)) return parseInt(text.slice(2), 16);
  if (FLOAT_NAN.test(text))
    return text.slice(-3).toLowerCase() === 'nan'
      ? Number.NaN
      : text.startsWith('-')
        ? Number.NEGATIVE_INFINITY
        : Number.POSITIVE_INFINITY;
  if (FLOAT_EXP.test(text) || FLOAT.test(text)) return parseFloat(text);
  return text;
}

/** One-line flow collections (`{ a: 1, b: [x, 'y'] }`) of keys and scalars the subset allows. */
class FlowReader {
  index = 0;
  readonly #text: string;

  constructor(text: string) {
    this.#text = text;
  }

  node(): unknown {
    this.#skipSpaces();
    const first = this.#text[this.index];
    if (first === '{') return this.#mapping();
    if (first === '[') return this.#sequence();
    const rest = this.#text.slice(this.index);
    const quoted = FLOW_QUOTED.exec(rest)?.[0];
    const token = quoted ?? FLOW_PLAIN.exec(rest)?.[0] ?? '';
    this.index += token.length;
    const trimmed = token.trim();
    if (trimmed === '' && quoted === undefined) throw new OutsideSubset();
    return scalar(trimmed);
  }

  #mapping(): Record<string, unknown> {
    const value: Record<string, unknown> = {};
    this.index += 1;
    if (this.#closes('}')) return value;
    do {
      this.#skipSpaces();
      const match = FLOW_KEY.exec(this.#text.slice(this.index));
      const key = match?.[1];
      if (match === null || key === undefined || !isPlainKey(key) || Object.hasOwn(value, key))
        throw new OutsideSubset();
      this.index += match[0].length;
      value[key] = this.node();
    } while (this.#separator('}'));
    return value;
  }

  #sequence(): unknown[] {
    const items: unknown[] = [];
    this.index += 1;
    if (this.#closes(']')) return items;
    do items.push(this.node());
    while (this.#separator(']'));
    return items;
  }

  #closes(close: string): boolean {
    this.#skipSpaces();
    if (this.#text[this.index] !== close) return false;
    this.index += 1;
    return true;
  }

  /** True after a `,` (another entry follows); false after the closing bracket. */
  #separator(close: string): boolean {
    this.#skipSpaces();
    const next = this.#text[this.index];
    this.index += 1;
    if (next === close) return false;
    // A trailing comma, or anything but a comma, is left to the yaml package.
    if (next !== ',' || this.#closes(close)) throw new OutsideSubset();
    return true;
  }

  #skipSpaces(): void {
    while (this.#text.charCodeAt(this.index) === 32) this.index += 1;
  }
}
