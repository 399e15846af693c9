import { z } from 'zod';

/**
 * The error bodies. MLflow's routes answer `{"detail": …}` (FastAPI's shape, which MLflow's
 * clients read); the OpenAI-compatible /v1 routes answer OpenAI's `{"error": {…}}`, because
 * openai-node builds its message from `error.message`. The gateway's own 429 is
 * `{"error": "Rate limit exceeded: …"}` on the MLflow routes (reference §7).
 */
export const detailErrorBodySchema = z.object({ detail: z.unknown() });

export const openAiErrorBodySchema = z.object({
  error: z.object({
    message: z.string(),
    type: z.string(),
    param: z.string().nullable(),
    code: z.string().nullable(),
  }),
});
export type OpenAiErrorBody = z.infer<typeof openAiErrorBodySchema>;

export const rateLimitErrorBodySchema = z.object({ error: z.string() });
