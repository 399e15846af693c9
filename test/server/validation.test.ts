import { describe, expect, it } from 'vitest';
import { RequestValidationError, type ValidationIssue } from '../../src/errors.js';
import { chatRequestSchema } from '../../src/schemas/chat.js';
import { completionsRequestSchema } from '../../src/schemas/completions.js';
import { embeddingsRequestSchema } from '../../src/schemas/embeddings.js';
import { parseBody } from '../../src/server/validation.js';

const HI = [{ role: 'user', content: 'hi' }];

function issuesOf(run: () => unknown): ValidationIssue[] {
  try {
    run();
  } catch (error) {
    if (error instanceof RequestValidationError) return error.issues;
    throw error;
  }
  throw new Error('expected a RequestValidationError');
}

function chatIssues(extra: Record<string, unknown>): ValidationIssue[] {
  return issuesOf(() => parseBody(chatRequestSchema, { messages: HI, ...extra }));
}

describe('parseBody: pydantic lax coercions (reference §5.1)', () => {
  it.each([
    ['temperature', '0.3', 0.3],
    ['temperature', ' 1e-1 ', 0.1],
    ['temperature', '.5', 0.5],
    ['temperature', 1, 1],
    ['temperature', true, 1],
    ['n', '2', 2],
    ['n', ' 3 ', 3],
    ['n', '+4', 4],
    ['n', '2.00', 2],
    ['n', 2.0, 2],
    ['n', true, 1],
    ['max_tokens', '16', 16],
    ['stream', 'true', true],
    ['stream', 'TRUE', true],
    ['stream', 'Yes', true],
    ['stream', 'on', true],
    ['stream', 't', true],
    ['stream', 'y', true],
    ['stream', '1', true],
    ['stream', 1, true],
    ['stream', 'false', false],
    ['stream', 'No', false],
    ['stream', 'OFF', false],
    ['stream', 'f', false],
    ['stream', 'n', false],
    ['stream', '0', false],
    ['stream', 0, false],
  ])('accepts %s = %j as %j', (field, value, expected) => {
    const request = parseBody(chatRequestSchema, { messages: HI, [field]: value });
    expect(request[field]).toBe(expected);
  });

  it('coerces the same fields on completions', () => {
    expect(
      parseBody(completionsRequestSchema, { prompt: 'x', temperature: '0.3', n: '2', stream: 'true' }),
    ).toEqual({
      prompt: 'x',
      temperature: 0.3,
      n: 2,
      stream: true,
    });
  });

  it('coerces a tool definition’s strict flag', () => {
    const request = parseBody(chatRequestSchema, {
      messages: HI,
      tools: [{ type: 'function', function: { name: 'f', strict: 'yes' } }],
    });
    expect(request.tools).toEqual([{ type: 'function', function: { name: 'f', strict: true } }]);
  });

  it('keeps a list of numeric strings as strings and coerces token lists', () => {
    expect(parseBody(embeddingsRequestSchema, { input: ['1', '2'] }).input).toEqual(['1', '2']);
    expect(parseBody(embeddingsRequestSchema, { input: [1, '2'] }).input).toEqual([1, 2]);
  });
});

describe('parseBody: pydantic error types', () => {
  it.each([
    ['n', 1.5, 'int_from_float', 'Input should be a valid integer, got a number with a fractional part'],
    ['n', '1.5', 'int_parsing', 'Input should be a valid integer, unable to parse string as an integer'],
    ['n', 'two', 'int_parsing', 'Input should be a valid integer, unable to parse string as an integer'],
    ['n', [2], 'int_type', 'Input should be a valid integer'],
    ['n', {}, 'int_type', 'Input should be a valid integer'],
    [
      'max_tokens',
      2.5,
      'int_from_float',
      'Input should be a valid integer, got a number with a fractional part',
    ],
    [
      'temperature',
      'warm',
      'float_parsing',
      'Input should be a valid number, unable to parse string as a number',
    ],
    ['temperature', '1e999', 'finite_number', 'Input should be a finite number'],
    ['temperature', Infinity, 'finite_number', 'Input should be a finite number'],
    ['temperature', [0.3], 'float_type', 'Input should be a valid number'],
    ['stream', 'maybe', 'bool_parsing', 'Input should be a valid boolean, unable to interpret input'],
    ['stream', 'yes please', 'bool_parsing', 'Input should be a valid boolean, unable to interpret input'],
    ['stream', 2, 'bool_parsing', 'Input should be a valid boolean, unable to interpret input'],
    ['stream', {}, 'bool_type', 'Input should be a valid boolean'],
  ])('answers %s = %j with %s', (field, value, type, msg) => {
    expect(chatIssues({ [field]: value })).toEqual([{ type, loc: ['body', field], msg, input: value }]);
  });

  it('answers n above 128 with less_than_equal naming the bound', () => {
    expect(chatIssues({ n: 1e9 })).toEqual([
      {
        type: 'less_than_equal',
        loc: ['body', 'n'],
        msg: 'Input should be less than or equal to 128',
        input: 1e9,
        ctx: { le: 128 },
      },
    ]);
  });

  it('reports one error for an integer too large to be safe, the field’s own bound', () => {
    expect(chatIssues({ n: 1e30 })).toEqual([
      {
        type: 'less_than_equal',
        loc: ['body', 'n'],
        msg: 'Input should be less than or equal to 128',
        input: 1e30,
        ctx: { le: 128 },
      },
    ]);
  });

  it('answers an embeddings body without input with missing at input, not a union error', () => {
    expect(issuesOf(() => parseBody(embeddingsRequestSchema, { model: undefined }))).toEqual([
      { type: 'missing', loc: ['body', 'input'], msg: 'Field required', input: {} },
    ]);
  });

  it('answers more than 2048 embeddings inputs with too_long at input', () => {
    const input = Array.from({ length: 2049 }, () => 'x');
    expect(issuesOf(() => parseBody(embeddingsRequestSchema, { input }))).toEqual([
      {
        type: 'too_long',
        loc: ['body', 'input'],
        msg: 'List should have at most 2048 items after validation, not 2049',
        input,
        ctx: { field_type: 'List', max_length: 2048, actual_length: 2049 },
      },
    ]);
  });

  it('accepts exactly 2048 embeddings inputs', () => {
    const input = Array.from({ length: 2048 }, () => 'x');
    expect(parseBody(embeddingsRequestSchema, { input }).input).toHaveLength(2048);
  });

  it.each([
    [0, 'greater_than_equal'],
    [65_537, 'less_than_equal'],
    [1.5, 'int_from_float'],
  ])('answers dimensions %j with %s', (dimensions, type) => {
    const issues = issuesOf(() => parseBody(embeddingsRequestSchema, { input: 'x', dimensions }));
    expect(issues.map((issue) => [issue.type, issue.loc])).toEqual([[type, ['body', 'dimensions']]]);
  });

  it('answers an ambiguous embeddings list with union_type at input', () => {
    expect(issuesOf(() => parseBody(embeddingsRequestSchema, { input: [1.5] }))).toEqual([
      {
        type: 'union_type',
        loc: ['body', 'input'],
        msg: 'Input does not match any of the allowed types',
        input: [1.5],
      },
    ]);
  });

  it('names the allowed tags for an unknown content part type (union_tag_invalid)', () => {
    const part = { type: 'video', url: 'x' };
    expect(chatIssues({ messages: [{ role: 'user', content: [part] }] })).toEqual([
      {
        type: 'union_tag_invalid',
        loc: ['body', 'messages', 0, 'content', 0],
        msg: "Input tag 'video' found using 'type' does not match any of the expected tags: 'text', 'image_url', 'input_audio'",
        input: part,
        ctx: { discriminator: "'type'", tag: 'video', expected_tags: "'text', 'image_url', 'input_audio'" },
      },
    ]);
  });

  it('answers a content part without a type with union_tag_not_found', () => {
    expect(chatIssues({ messages: [{ role: 'user', content: [{ text: 'x' }] }] })).toEqual([
      {
        type: 'union_tag_not_found',
        loc: ['body', 'messages', 0, 'content', 0],
        msg: "Unable to extract tag using discriminator 'type'",
        input: { text: 'x' },
        ctx: { discriminator: "'type'" },
      },
    ]);
  });

  it('reports the error inside a known content part at its field', () => {
    expect(chatIssues({ messages: [{ role: 'user', content: [{ type: 'text', text: 5 }] }] })).toEqual([
      {
        type: 'string_type',
        loc: ['body', 'messages', 0, 'content', 0, 'text'],
        msg: 'Input should be a valid string',
        input: 5,
      },
    ]);
  });
});

describe('parseBody: null members', () => {
  it('drops null members at every depth before validating', () => {
    expect(
      parseBody(chatRequestSchema, {
        messages: [{ role: 'user', content: null }],
        n: null,
        extra: { a: null, b: [null] },
      }),
    ).toEqual({ messages: [{ role: 'user' }], temperature: 0, n: 1, extra: { b: [null] } });
  });

  it('walks a body nested far deeper than the call stack allows', () => {
    let deep: unknown = { leaf: null };
    for (let level = 0; level < 100_000; level += 1) deep = { next: deep };
    const request = parseBody(chatRequestSchema, { messages: HI, deep });
    let node = request.deep as Record<string, unknown>;
    while ('next' in node) node = node.next as Record<string, unknown>;
    expect(node).toEqual({});
  });
});
