import { z } from 'zod';
import { laxBool, laxFloat, laxInt } from './lax.js';

/** OpenAI's bound on `n`; a larger value would only make the gateway and the upstream do more work. */
const MAX_CHOICES = 128;

/**
 * Fields shared by the chat and completions requests (reference §5.2, §5.3). `temperature`
 * and `n` always reach the adapter, defaulted as MLflow does. Scalars are validated in
 * pydantic's lax mode (schemas/lax.ts).
 */
export const generationFields = {
  temperature: laxFloat(z.number().min(0).max(2).default(0)),
  n: laxInt(z.number().min(1).max(MAX_CHOICES).int().default(1)),
  stop: z.array(z.string()).min(1).optional(),
  max_tokens: laxInt(z.number().min(1).int()).optional(),
  stream: laxBool(z.boolean()).optional(),
  stream_options: z.record(z.string(), z.unknown()).optional(),
  model: z.string().optional(),
};

export const usageSchema = z.object({
  prompt_tokens: z.number().int().nullable(),
  completion_tokens: z.number().int().nullable(),
  total_tokens: z.number().int().nullable(),
});
export type Usage = z.infer<typeof usageSchema>;
