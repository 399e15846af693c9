import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { chatChunkSchema, chatRequestSchema, chatResponseSchema } from '../../src/schemas/chat.js';
import { completionsRequestSchema } from '../../src/schemas/completions.js';
import { embeddingsRequestSchema } from '../../src/schemas/embeddings.js';
import { UNDECIDED, fastParserFor } from '../../src/schemas/fast-parse.js';
import {
  chatChunkAnswer,
  chatCompletionAnswer,
  chatRequestBody,
  completionsRequestBody,
  embeddingsRequestBody,
  twoCopies,
} from '../helpers/wire-arbitraries.js';

/** Null members dropped as parseBody does, on a copy. */
function withoutNulls(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, (_key, member: unknown) => (member === null ? undefined : member)));
}

function parserOf(schema: z.ZodType): (input: unknown) => unknown {
  const parser = fastParserFor(schema);
  if (parser === null) throw new Error('expected a fast parser');
  return parser;
}

/** Whenever the fast path decides, zod accepts the same input with the same value, key order included. */
function expectSameAsZod(schema: z.ZodType, body: unknown): boolean {
  const [forFast, forZod] = twoCopies(body);
  const fast = parserOf(schema)(forFast);
  if (fast === UNDECIDED) return false;
  const result = schema.safeParse(forZod);
  expect(result.success).toBe(true);
  expect(fast).toEqual(result.data);
  expect(JSON.stringify(fast)).toBe(JSON.stringify(result.data));
  return true;
}

const RUNS = { numRuns: 1500 };
const COVERAGE_SEED = 22;

describe('fastParserFor', () => {
  it.each([
    ['chat requests', chatRequestSchema, chatRequestBody.map(withoutNulls)],
    ['completions requests', completionsRequestSchema, completionsRequestBody.map(withoutNulls)],
    ['embeddings requests', embeddingsRequestSchema, embeddingsRequestBody.map(withoutNulls)],
  ] as const)('agrees with zod on %s', (_name, schema, bodies) => {
    fc.assert(
      fc.property(bodies, (body) => {
        expectSameAsZod(schema, body);
      }),
      RUNS,
    );
    // The generators must exercise the fast path itself, not only the fallback. Counted on a
    // sample of fixed seed, so the floor does not depend on the run's random seed.
    const sample = fc.sample(bodies, { numRuns: RUNS.numRuns, seed: COVERAGE_SEED });
    const decided = sample.filter((body) => expectSameAsZod(schema, body)).length;
    expect(decided).toBeGreaterThan(RUNS.numRuns / 20);
  });

  it.each([
    ['chat requests with nulls left in', chatRequestSchema, chatRequestBody],
    ['a gateway chat response', chatResponseSchema, chatCompletionAnswer],
    ['a gateway chat chunk', chatChunkSchema, chatChunkAnswer],
  ] as const)('agrees with zod on %s', (_name, schema, answers) => {
    fc.assert(
      fc.property(answers, (answer) => {
        expectSameAsZod(schema, answer);
      }),
      RUNS,
    );
  });

  it('decides the bench body with the defaults and the client’s keys in zod’s order', () => {
    const body = {
      model: 'chat',
      messages: [
        { role: 'system', content: 'You are a helpful assistant.' },
        { role: 'user', content: 'Hello! Say something short.' },
      ],
      temperature: 0.2,
      stream: 'yes',
      user: 'u',
    };
    const parsed = parserOf(chatRequestSchema)(body);
    expect(JSON.stringify(parsed)).toBe(
      JSON.stringify({
        messages: body.messages,
        temperature: 0.2,
        n: 1,
        stream: true,
        model: 'chat',
        user: 'u',
      }),
    );
  });

  it('keeps an unknown __proto__ key out of the value, as zod does', () => {
    const body: unknown = JSON.parse('{"messages":[{"role":"user","content":"hi"}],"__proto__":{"x":1}}');
    const parsed = parserOf(chatRequestSchema)(body) as object;
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
    expect(parsed).toEqual(chatRequestSchema.parse(body));
  });

  it('leaves a body with an undefined member to zod', () => {
    expect(parserOf(chatRequestSchema)({ messages: [{ role: 'user' }], n: undefined })).toBe(UNDECIDED);
  });

  it('has no fast parser for a schema it cannot read', () => {
    expect(fastParserFor(z.string().transform((value) => value.length))).toBeNull();
  });
});
