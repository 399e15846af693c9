import { z } from 'zod';
import { UpstreamProtocolError } from '../../errors.js';
import type { ChatResponse, ToolCallDelta } from '../../schemas/chat.js';
import type { Usage } from '../../schemas/generation.js';
import type { CompletionsResponse } from '../../schemas/completions.js';
import type { EmbeddingsResponse } from '../../schemas/embeddings.js';
import { parseUpstreamBody } from '../base.js';
import type { CohereEmbeddingsCall } from './request.js';
import { nowSeconds } from '../timestamps.js';

export const DISPLAY_NAME = 'Cohere';

const tokenCountsSchema = z.object({
  input_tokens: z.number().nullish(),
  output_tokens: z.number().nullish(),
});

export const usageSchema = z.object({
  tokens: tokenCountsSchema.nullish(),
  billed_units: tokenCountsSchema.nullish(),
});

export const toolCallSchema = z.object({
  id: z.string().nullish(),
  type: z.string().nullish(),
  function: z.object({ name: z.string().nullish(), arguments: z.string().nullish() }).nullish(),
});

const chatResponseSchema = z.object({
  id: z.string(),
  message: z.object({
    content: z.array(z.object({ type: z.string(), text: z.string().nullish() })).nullish(),
    tool_calls: z.array(toolCallSchema).nullish(),
  }),
  usage: usageSchema.nullish(),
});
type CohereChatResponse = z.infer<typeof chatResponseSchema>;

const embeddingsResponseSchema = z.object({
  embeddings: z.record(z.string(), z.array(z.union([z.array(z.number()), z.string()]))),
  meta: z.object({ billed_units: z.object({ input_tokens: z.number().nullish() }).nullish() }).nullish(),
});

/** Cohere v2's tool calls are OpenAI's shape: `{id, type, function: {name, arguments}}`. */
export function toToolFunction(call: z.infer<typeof toolCallSchema>): ToolCallDelta['function'] {
  return { name: call.function?.name ?? null, arguments: call.function?.arguments ?? null };
}

/** `usage.tokens`, else `usage.billed_units` (reference §5's fallback order, in v2's names). */
export function toUsage(usage: z.infer<typeof usageSchema> | null | undefined): Usage {
  const counts = usage?.tokens ?? usage?.billed_units;
  const prompt = counts?.input_tokens ?? null;
  const completion = counts?.output_tokens ?? null;
  const total = prompt !== null && completion !== null ? prompt + completion : null;
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: total };
}

/** v2 answers a list of content blocks; thinking blocks are not part of the reply. */
function joinText(message: CohereChatResponse['message']): string | null {
  const texts = (message.content ?? []).flatMap((block) =>
    block.type === 'text' && typeof block.text === 'string' ? [block.text] : [],
  );
  return texts.length === 0 ? null : texts.join('');
}

export function fromCohereChatResponse(json: unknown, model: string | null): ChatResponse {
  const body = parseUpstreamBody(chatResponseSchema, json, DISPLAY_NAME);
  const toolCalls = body.message.tool_calls?.map((call) => ({
    id: call.id ?? null,
    type: call.type ?? 'function',
    function: toToolFunction(call),
  }));
  return {
    id: body.id,
    object: 'chat.completion',
    created: nowSeconds(),
    model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: joinText(body.message),
          tool_calls: toolCalls && toolCalls.length > 0 ? toolCalls : null,
          refusal: null,
        },
        // Reference §5: the upstream finish reason is not reported on unary responses.
        finish_reason: null,
      },
    ],
    usage: toUsage(body.usage),
  };
}

export function fromCohereCompletionsResponse(json: unknown, model: string | null): CompletionsResponse {
  const body = parseUpstreamBody(chatResponseSchema, json, DISPLAY_NAME);
  return {
    id: body.id,
    object: 'text_completion',
    created: nowSeconds(),
    model,
    choices: [{ index: 0, text: joinText(body.message) ?? '', finish_reason: null }],
    usage: toUsage(body.usage),
  };
}

export function fromCohereEmbeddingsResponse(
  json: unknown,
  model: string | null,
  call: Pick<CohereEmbeddingsCall, 'embeddingType'>,
): EmbeddingsResponse {
  const { embeddingType } = call;
  const body = parseUpstreamBody(embeddingsResponseSchema, json, DISPLAY_NAME);
  const vectors = body.embeddings[embeddingType];
  if (vectors === undefined) {
    throw new UpstreamProtocolError(
      `Malformed response from ${DISPLAY_NAME}: missing embeddings.${embeddingType}`,
    );
  }
  const tokens = body.meta?.billed_units?.input_tokens ?? null;
  return {
    object: 'list',
    data: vectors.map((vector, index) => ({ object: 'embedding', embedding: vector, index })),
    model,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  };
}
