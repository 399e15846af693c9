import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import type { z } from 'zod';
import { fromOpenAiChatChunk, fromOpenAiChatResponse } from '../../src/providers/openai-response.js';
import { outcomeOf } from '../helpers/outcome.js';
import { chatChunkAnswer, chatCompletionAnswer, twoCopies } from '../helpers/wire-arbitraries.js';

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

describe('OpenAI answer mapping with and without the fast path', () => {
  it.each([
    ['chat completion', fromOpenAiChatResponse, chatCompletionAnswer],
    ['chat chunk', fromOpenAiChatChunk, chatChunkAnswer],
  ] as const)('maps or refuses every %s alike', (_name, map, answers) => {
    fc.assert(
      fc.property(answers, (answer) => {
        const [withFastPath, withZod] = twoCopies(answer);
        const expected = zodOnly(() => outcomeOf(() => map(withZod)));
        expect(outcomeOf(() => map(withFastPath))).toBe(expected);
      }),
      { numRuns: 1500 },
    );
  });
});
