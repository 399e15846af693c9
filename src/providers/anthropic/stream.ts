import { z } from 'zod';
import type { ChatChunk } from '../../schemas/chat.js';
import type { Usage } from '../../schemas/generation.js';
import { upstreamStatusError } from '../../upstream/errors.js';
import { parseUpstreamBody, upstreamEventType } from '../base.js';
import { nowSeconds } from '../timestamps.js';
import { DISPLAY_NAME, toFinishReason } from './response.js';

/** What one stream needs across events. */
export interface AnthropicStreamState {
  /** From `message_start`. */
  id: string | null;
  model: string | null;
  readonly created: number;
  /** Content-block index → the call's position among this message's tool calls. */
  readonly toolCalls: Map<number, number>;
  /** `message_start`'s `usage.input_tokens`; `message_delta` reports the output side. */
  inputTokens: number | null;
}

export function newAnthropicStreamState(): AnthropicStreamState {
  return { id: null, model: null, created: nowSeconds(), toolCalls: new Map(), inputTokens: null };
}

const messageStartSchema = z.object({
  message: z.object({
    id: z.string(),
    model: z.string(),
    usage: z.object({ input_tokens: z.number().int().nullish() }).nullish(),
  }),
});
const blockStartSchema = z.object({
  index: z.number().int(),
  content_block: z.object({
    type: z.string(),
    text: z.string().nullish(),
    id: z.string().nullish(),
    name: z.string().nullish(),
  }),
});
const blockDeltaSchema = z.object({
  index: z.number().int(),
  delta: z.object({ type: z.string(), text: z.string().nullish(), partial_json: z.string().nullish() }),
});
const messageDeltaSchema = z.object({
  delta: z.object({ stop_reason: z.string().nullish() }),
  usage: z.object({ output_tokens: z.number().int().nullish() }).nullish(),
});

type ChunkDelta = ChatChunk['choices'][number]['delta'];

function toChunk(
  state: AnthropicStreamState,
  delta: Partial<ChunkDelta>,
  finishReason: string | null,
): ChatChunk {
  return {
    id: state.id,
    object: 'chat.completion.chunk',
    created: state.created,
    model: state.model,
    choices: [
      {
        index: 0,
        finish_reason: finishReason,
        delta: { role: null, content: null, tool_calls: null, ...delta },
      },
    ],
  };
}

/**
 * The stream's usage, on its finishing chunk as OpenAI-style streams carry it: `message_delta`'s
 * `output_tokens` is cumulative, and the input count is `message_start`'s.
 */
function toStreamUsage(state: AnthropicStreamState, outputTokens: number | null | undefined): Usage | null {
  const prompt = state.inputTokens;
  const completion = outputTokens ?? null;
  if (prompt === null && completion === null) return null;
  const total = prompt !== null && completion !== null ? prompt + completion : null;
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: total };
}

function fromMessageDelta(json: unknown, state: AnthropicStreamState): ChatChunk | null {
  const event = parseUpstreamBody(messageDeltaSchema, json, DISPLAY_NAME);
  const stopReason = event.delta.stop_reason;
  const usage = toStreamUsage(state, event.usage?.output_tokens);
  if (!stopReason) return usage === null ? null : { ...toChunk(state, {}, null), choices: [], usage };
  const chunk = toChunk(state, {}, toFinishReason(stopReason));
  return usage === null ? chunk : { ...chunk, usage };
}

function fromBlockStart(json: unknown, state: AnthropicStreamState): ChatChunk | null {
  const { index, content_block: block } = parseUpstreamBody(blockStartSchema, json, DISPLAY_NAME);
  if (block.type === 'text') return toChunk(state, { content: block.text ?? null }, null);
  if (block.type !== 'tool_use') return null;
  const position = state.toolCalls.size;
  state.toolCalls.set(index, position);
  const call = {
    index: position,
    id: block.id ?? null,
    type: 'function',
    function: { name: block.name ?? null, arguments: null },
  };
  return toChunk(state, { tool_calls: [call] }, null);
}

function fromBlockDelta(json: unknown, state: AnthropicStreamState): ChatChunk | null {
  const { index, delta } = parseUpstreamBody(blockDeltaSchema, json, DISPLAY_NAME);
  if (delta.type === 'text_delta') return toChunk(state, { content: delta.text ?? null }, null);
  if (delta.type !== 'input_json_delta') return null;
  const fn = { name: null, arguments: delta.partial_json ?? null };
  const call = { index: state.toolCalls.get(index) ?? 0, id: null, type: null, function: fn };
  return toChunk(state, { tool_calls: [call] }, null);
}

/**
 * Reference §6, with one choice (index 0) per stream and tool calls numbered among themselves, as
 * OpenAI clients accumulate them. Events that carry nothing for the client map to null.
 */
export function fromAnthropicChatEvent(json: unknown, state: AnthropicStreamState): ChatChunk | null {
  switch (upstreamEventType(json, DISPLAY_NAME)) {
    case 'message_start': {
      const { message } = parseUpstreamBody(messageStartSchema, json, DISPLAY_NAME);
      state.id = message.id;
      state.model = message.model;
      state.inputTokens = message.usage?.input_tokens ?? null;
      return null;
    }
    case 'content_block_start':
      return fromBlockStart(json, state);
    case 'content_block_delta':
      return fromBlockDelta(json, state);
    case 'message_delta':
      return fromMessageDelta(json, state);
    case 'error':
      // An error after the 200. Once chunks went out its message ends the client's stream; as
      // the first event it is an ordinary failure, and its status decides retries and fallbacks.
      throw upstreamStatusError(streamErrorStatus(json), json);
    default:
      return null;
  }
}

/**
 * Anthropic's error types (platform.claude.com/docs: Errors) that say "try again", as the
 * statuses routing reads; HTTP 529 `overloaded_error` becomes 503 so the default retry and
 * fallback statuses cover it. Anything else in a stream is the upstream's fault: 502.
 */
const STREAM_ERROR_STATUSES: Readonly<Record<string, number>> = {
  overloaded_error: 503,
  rate_limit_error: 429,
  api_error: 500,
};

const streamErrorSchema = z.object({ error: z.object({ type: z.string() }) });

function streamErrorStatus(json: unknown): number {
  const parsed = streamErrorSchema.safeParse(json);
  return (parsed.success ? STREAM_ERROR_STATUSES[parsed.data.error.type] : undefined) ?? 502;
}
