import { z } from 'zod';
import { generationFields, usageSchema } from './generation.js';

// The gateway's completions wire format (reference §5.3). `prompt` must be a string.

export const completionsRequestSchema = z.looseObject({
  prompt: z.string(),
  ...generationFields,
});
export type CompletionsRequest = z.infer<typeof completionsRequestSchema>;

export const completionsResponseSchema = z.object({
  id: z.string().nullable(),
  object: z.literal('text_completion'),
  created: z.number().int(),
  model: z.string().nullable(),
  choices: z.array(
    z.object({ index: z.number().int(), text: z.string(), finish_reason: z.string().nullable() }),
  ),
  usage: usageSchema,
});
export type CompletionsResponse = z.infer<typeof completionsResponseSchema>;

export const completionsChunkSchema = z.object({
  id: z.string().nullable(),
  object: z.string(),
  created: z.number().int(),
  model: z.string().nullable(),
  choices: z.array(
    z.object({ index: z.number().int(), finish_reason: z.string().nullable(), text: z.string().nullable() }),
  ),
  /** The upstream's token counts, on the chunk that carries them. */
  usage: usageSchema.optional(),
});
export type CompletionsChunk = z.infer<typeof completionsChunkSchema>;
