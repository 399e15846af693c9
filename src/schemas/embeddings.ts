import { z } from 'zod';
import { laxInt } from './lax.js';

// The gateway's embeddings wire format (reference §5.4).

/** OpenAI's bound on the inputs of one embeddings request. */
const MAX_EMBEDDING_INPUTS = 2048;
/**
 * A bound on the extra `dimensions` field, which the gateway forwards: above every embedding
 * model's size, so it refuses only nonsense (MLflow forwarded any value unchecked).
 */
const MAX_EMBEDDING_DIMENSIONS = 65_536;

const tokenSchema = laxInt(z.number().int());

export const embeddingsRequestSchema = z.looseObject({
  input: z.union([
    z.string(),
    z.array(z.string()).max(MAX_EMBEDDING_INPUTS),
    z.array(tokenSchema),
    z.array(z.array(tokenSchema)).max(MAX_EMBEDDING_INPUTS),
  ]),
  model: z.string().optional(),
  dimensions: laxInt(z.number().min(1).max(MAX_EMBEDDING_DIMENSIONS).int()).optional(),
  /** OpenAI's two encodings; the gateway strips the field and encodes base64 itself. */
  encoding_format: z.enum(['float', 'base64']).optional(),
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
