import { z } from 'zod';

// The gateway's embeddings wire format (reference §5.4).

export const embeddingsRequestSchema = z.looseObject({
  input: z.union([
    z.string(),
    z.array(z.string()),
    z.array(z.number().int()),
    z.array(z.array(z.number().int())),
  ]),
  model: z.string().optional(),
});
export type EmbeddingsRequest = z.infer<typeof embeddingsRequestSchema>;

export const embeddingsResponseSchema = z.object({
  object: z.literal('list'),
  data: z.array(
    z.object({
      object: z.literal('embedding'),
      embedding: z.union([z.array(z.number()), z.string()]),
      index: z.number().int(),
    }),
  ),
  model: z.string().nullable(),
  usage: z.object({ prompt_tokens: z.number().int().nullable(), total_tokens: z.number().int().nullable() }),
});
export type EmbeddingsResponse = z.infer<typeof embeddingsResponseSchema>;
