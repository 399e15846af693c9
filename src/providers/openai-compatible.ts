import { z } from 'zod';
import type { ResponseToolCall, ToolCallDelta } from '../schemas/chat.js';
import type { Usage } from '../schemas/generation.js';

// Tool calls and stream usage as OpenAI-compatible APIs (Mistral, Together AI) return them:
// OpenAI's `{index?, id, type, function: {name, arguments}}`, read leniently.

/** A stream chunk's `usage`: null on all but the last chunk. */
export const compatibleChunkUsageSchema = z
  .object({
    prompt_tokens: z.number().int().nullish(),
    completion_tokens: z.number().int().nullish(),
    total_tokens: z.number().int().nullish(),
  })
  .nullish();

const NO_USAGE = Object.freeze({});

/** `{ usage }` to spread into the gateway chunk when the upstream chunk reports it, else `{}`. */
export function toCompatibleChunkUsage(usage: z.infer<typeof compatibleChunkUsageSchema>): {
  usage?: Usage;
} {
  if (!usage) return NO_USAGE;
  return {
    usage: {
      prompt_tokens: usage.prompt_tokens ?? null,
      completion_tokens: usage.completion_tokens ?? null,
      total_tokens: usage.total_tokens ?? null,
    },
  };
}

/** Mistral's spec allows `arguments` as an object as well as OpenAI's JSON string. */
export const compatibleToolCallSchema = z.object({
  index: z.number().int().nullish(),
  id: z.string().nullish(),
  type: z.string().nullish(),
  function: z
    .object({
      name: z.string().nullish(),
      arguments: z.union([z.string(), z.record(z.string(), z.unknown())]).nullish(),
    })
    .nullish(),
});
type CompatibleToolCall = z.infer<typeof compatibleToolCallSchema>;

function toFunction(call: CompatibleToolCall): ResponseToolCall['function'] {
  const value = call.function?.arguments;
  const text =
    value === null || value === undefined || typeof value === 'string' ? value : JSON.stringify(value);
  return { name: call.function?.name ?? null, arguments: text ?? null };
}

/** A response message's tool calls; absent is null and `[]` stays `[]` (as OpenAI's, reference §9.5). */
export function toCompatibleToolCalls(
  calls: CompatibleToolCall[] | null | undefined,
): ResponseToolCall[] | null {
  if (!calls) return null;
  return calls.map((call) => ({
    id: call.id ?? null,
    type: call.type ?? 'function',
    function: toFunction(call),
  }));
}

/** A chunk's tool-call deltas; a call without an `index` takes its position. */
export function toCompatibleToolCallDeltas(
  calls: CompatibleToolCall[] | null | undefined,
): ToolCallDelta[] | null {
  if (!calls) return null;
  return calls.map((call, position) => ({
    index: call.index ?? position,
    id: call.id ?? null,
    type: call.type ?? null,
    function: toFunction(call),
  }));
}
