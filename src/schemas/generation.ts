import { z } from 'zod';

/**
 * Fields shared by the chat and completions requests (reference §5.2, §5.3). `temperature`
 * and `n` always reach the adapter, defaulted as MLflow does.
 */
export const generationFields = {
  temperature: z.number().min(0).max(2).default(0),
  n: z.number().int().min(1).default(1),
  stop: z.array(z.string()).min(1).optional(),
  max_tokens: z.number().int().min(1).optional(),
  stream: z.boolean().optional(),
  stream_options: z.record(z.string(), z.unknown()).optional(),
  model: z.string().optional(),
};

export const usageSchema = z.object({
  prompt_tokens: z.number().int().nullable(),
  completion_tokens: z.number().int().nullable(),
  total_tokens: z.number().int().nullable(),
});
export type Usage = z.infer<typeof usageSchema>;
