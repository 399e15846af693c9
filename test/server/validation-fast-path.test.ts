import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import type { z } from 'zod';
import { chatRequestSchema } from '../../src/schemas/chat.js';
import { completionsRequestSchema } from '../../src/schemas/completions.js';
import { embeddingsRequestSchema } from '../../src/schemas/embeddings.js';
import { parseBody } from '../../src/server/validation.js';
import { outcomeOf } from '../helpers/outcome.js';
import {
  chatRequestBody,
  completionsRequestBody,
  embeddingsRequestBody,
  twoCopies,
} from '../helpers/wire-arbitraries.js';

const fastPath = vi.hoisted(() => ({ isOn: true }));

vi.mock('../../src/schemas/fast-parse.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/schemas/fast-parse.js')>();
  return {
    ...real,
    fastParserFor: (schema: z.ZodType) => (fastPath.isOn ? real.fastParserFor(schema) : null),
  };
});

function zodOnly<T>(run: () => T): T {
  fastPath.isOn = false;
  try {
    return run();
  } finally {
    fastPath.isOn = true;
  }
}

describe('parseBody with and without the fast path', () => {
  it.each<[string, z.ZodType, fc.Arbitrary<unknown>]>([
    ['chat', chatRequestSchema, chatRequestBody],
    ['completions', completionsRequestSchema, completionsRequestBody],
    ['embeddings', embeddingsRequestSchema, embeddingsRequestBody],
  ])('returns and throws the same for every %s body, and drops the same nulls', (_name, schema, bodies) => {
    fc.assert(
      fc.property(bodies, (body) => {
        const [withFastPath, withZod] = twoCopies(body);
        const expected = zodOnly(() => outcomeOf(() => parseBody(schema, withZod)));
        expect(outcomeOf(() => parseBody(schema, withFastPath))).toBe(expected);
        expect(JSON.stringify(withFastPath)).toBe(JSON.stringify(withZod));
      }),
      { numRuns: 1000 },
    );
  });
});
