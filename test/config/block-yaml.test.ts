import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { parseBlockYaml } from '../../src/config/block-yaml.js';

/** What the yaml package makes of a text: its value, or null when it reports an error. */
function yamlPackage(text: string): { value: unknown } | null {
  const document = parseDocument(text, { uniqueKeys: true });
  return document.errors.length > 0 ? null : { value: document.toJS() };
}

const EXAMPLES = [
  'config.example.yaml',
  ...readdirSync('examples')
    .filter((file) => file.endsWith('.yaml'))
    .map((file) => join('examples', file)),
];

const ENDPOINT = `endpoints:
  - name: chat
    endpoint_type: llm/v1/chat
    model:
      provider: openai
      name: gpt-4o-mini
      config:
        openai_api_key: $OPENAI_API_KEY
        openai_api_base: http://127.0.0.1:9/v1
    limit: { calls: 10, renewal_period: minute }
`;

describe('parseBlockYaml', () => {
  it.each(EXAMPLES)('reads %s as the yaml package does', (file) => {
    const text = readFileSync(file, 'utf8');
    expect(parseBlockYaml(text)).toEqual(yamlPackage(text));
  });

  it.each([
    ['integers', 'a: 12\nb: -3\nc: +4\nd: 0o17\ne: 0x1F\nf: 007\n'],
    ['floats', 'a: 1.5\nb: .5\nc: 1e3\nd: -2.5E-2\ne: 3.\nf: .inf\ng: -.Inf\n'],
    ['booleans and nulls', 'a: true\nb: False\nc: TRUE\nd: null\ne: ~\nf:\ng: Null\n'],
    ['strings that look close to numbers', 'a: 1.2.3\nb: 0o8\nc: 0xZ\nd: 1_000\ne: yes\nf: on\n'],
    ['quoted scalars', `a: 'it''s'\nb: "x # y"\nc: '12'\nd: ""\ne: 'a' # note\n`],
    ['comments and blank lines', '# head\n\na: 1 # one\n  # indented\nb: x#y\n'],
    ['a sequence at its key’s indent', 'a:\n- 1\n- x\nb: 2\n'],
    ['nested sequences and empty entries', 'a:\n  - - 1\n    - 2\n  -\n  - # none\n  - [ ]\n'],
    ['flow collections', 'a: { b: [1, "two", { c: d }], e: {} }\nf: [ ]\n'],
    ['plain scalars with indicators inside', 'a: http://h:9/v1?x=1&y=2\nb: -x\nc: :x\nd: a - b\n'],
    ['an endpoint list', ENDPOINT],
  ])('resolves %s as the yaml package does', (_case, text) => {
    expect(parseBlockYaml(text)).toEqual(yamlPackage(text));
  });

  it.each([
    ['an anchor and an alias', 'a: &x 1\nb: *x\n'],
    ['a tag', 'a: !!str 1\n'],
    ['a block scalar', 'a: |\n  text\n'],
    ['a multi-line plain scalar', 'a: one\n  two\n'],
    ['a multi-line flow collection', 'a: [1,\n  2]\n'],
    ['a trailing comma in a flow collection', 'a: [1, 2, ]\n'],
    ['a duplicate key', 'a: 1\na: 2\n'],
    ['a duplicate key in a flow mapping', 'a: { b: 1, b: 2 }\n'],
    ['a key the core schema reads as a boolean', 'true: 1\n'],
    ['a numeric key', '429: x\n'],
    ['a quoted key', '"a": 1\n'],
    ['a __proto__ key', '__proto__: 1\n'],
    ['an escape in a double-quoted scalar', 'a: "x\\ty"\n'],
    ['a tab', 'a:\t1\n'],
    ['CRLF line ends', 'a: 1\r\nb: 2\r\n'],
    ['a document marker', '---\na: 1\n'],
    ['a root sequence', '- a\n'],
    ['an indented root', '  a: 1\n'],
    ['an empty file', ''],
    ['a mapping value on the key’s line', 'a: b: c\n'],
    ['a misindented key', 'a:\n    b: 1\n  c: 2\n'],
  ])('leaves %s to the yaml package', (_case, text) => {
    expect(parseBlockYaml(text)).toBeNull();
  });

  it('never reads a text differently from the yaml package', () => {
    const piece = fc.constantFrom(
      ' ',
      '  ',
      '\n',
      '- ',
      ': ',
      ':',
      '#',
      ' #',
      "'",
      '"',
      '{',
      '}',
      '[',
      ']',
      ',',
      'a',
      'key',
      '0',
      '1.5',
      '.inf',
      '0x1F',
      'null',
      'True',
      '~',
      '&a',
      '*a',
      '!t',
      '|',
      '-',
    );
    const edit = fc.record({
      at: fc.nat(),
      cut: fc.nat({ max: 3 }),
      insert: fc.array(piece, { maxLength: 3 }),
    });
    const texts = fc
      .tuple(fc.constantFrom(ENDPOINT, 'a:\n- 1\n- { b: [x, y] }\nc: d\n'), fc.array(edit, { maxLength: 4 }))
      .map(([base, edits]) =>
        edits.reduce<string>((text, { at, cut, insert }) => {
          const position = at % (text.length + 1);
          return text.slice(0, position) + insert.join('') + text.slice(position + cut);
        }, base),
      );
    let quickReads = 0;
    fc.assert(
      fc.property(texts, (text) => {
        const quick = parseBlockYaml(text);
        if (quick === null) return;
        quickReads += 1;
        expect(quick).toEqual(yamlPackage(text));
      }),
      { numRuns: 3000 },
    );
    // The comparison means something only if many edited texts stay in the subset.
    expect(quickReads).toBeGreaterThan(300);
  });
});
