import { z } from 'zod';
import type { ChatChunk, ToolCallDelta } from '../../schemas/chat.js';
import type { CompletionsChunk } from '../../schemas/completions.js';
import type { Usage } from '../../schemas/generation.js';
import { parseUpstreamBody, upstreamEventType, throwIfStreamError } from '../base.js';
import { nowSeconds } from '../timestamps.js';
import { DISPLAY_NAME, toToolFunction, toUsage, toolCallSchema, usageSchema } from './response.js';

/** What one stream needs across events: the id from `message-start`, and fixed chunk fields. */
export interface CohereStreamState {
  id: string | null;
  readonly created: number;
  readonly model: string | null;
}

export function newCohereStreamState(model: string | null): CohereStreamState {
  return { id: null, created: nowSeconds(), model };
}

const messageStartSchema = z.object({ id: z.string().nullish() });
const contentDeltaSchema = z.object({
  delta: z.object({ message: z.object({ content: z.object({ text: z.string().nullish() }) }) }),
});
const toolCallEventSchema = z.object({
  index: z.number().int().nullish(),
  delta: z.object({ message: z.object({ tool_calls: toolCallSchema }) }),
});
const messageEndSchema = z.object({
  delta: z.object({ finish_reason: z.string().nullish(), usage: usageSchema.nullish() }).nullish(),
});

/** One v2 stream event, reduced to what the gateway emits. */
export type StreamMapper<T> = (json: unknown, state: CohereStreamState) => T | null;

type CohereStreamEvent =
  | { kind: 'text'; text: string }
  | { kind: 'tool-call'; call: ToolCallDelta }
  | { kind: 'end'; finishReason: string | null; usage: Usage | null };

function toToolCallDelta(json: unknown): ToolCallDelta {
  const { index, delta } = parseUpstreamBody(toolCallEventSchema, json, DISPLAY_NAME);
  const { id, type } = delta.message.tool_calls;
  return {
    index: index ?? 0,
    id: id ?? null,
    type: type ?? null,
    function: toToolFunction(delta.message.tool_calls),
  };
}

/**
 * Reads one event, remembering the `message-start` id; events the gateway does not emit are null.
 * v2 reports a failed generation as `message-end` with `finish_reason: "ERROR"`, passed on as
 * sent; an `{"error": …}` payload ends the client's stream with the upstream's message.
 */
function readStreamEvent(json: unknown, state: CohereStreamState): CohereStreamEvent | null {
  throwIfStreamError(json);
  switch (upstreamEventType(json, DISPLAY_NAME)) {
    case 'message-start':
      state.id = parseUpstreamBody(messageStartSchema, json, DISPLAY_NAME).id ?? null;
      return null;
    case 'content-delta': {
      const text = parseUpstreamBody(contentDeltaSchema, json, DISPLAY_NAME).delta.message.content.text;
      // A thinking model's reasoning deltas carry `thinking` and no `text`.
      return typeof text === 'string' ? { kind: 'text', text } : null;
    }
    case 'tool-call-start':
    case 'tool-call-delta':
      return { kind: 'tool-call', call: toToolCallDelta(json) };
    case 'message-end': {
      const event = parseUpstreamBody(messageEndSchema, json, DISPLAY_NAME);
      const usage = event.delta?.usage;
      return {
        kind: 'end',
        finishReason: event.delta?.finish_reason ?? null,
        usage: usage ? toUsage(usage) : null,
      };
    }
    default:
      return null;
  }
}

/** The fields both chunk kinds share: the last chunk carries the id and the finish reason. */
function chunkHeader(event: CohereStreamEvent, state: CohereStreamState) {
  const isEnd = event.kind === 'end';
  return {
    id: isEnd ? state.id : null,
    created: state.created,
    model: state.model,
    finishReason: isEnd ? event.finishReason : null,
  };
}

/** `message-end`'s usage on the last chunk, as OpenAI-style streams carry it. */
function usageOf(event: CohereStreamEvent): { usage?: Usage } {
  return event.kind === 'end' && event.usage !== null ? { usage: event.usage } : {};
}

/**
 * Reference §6/§11: one chunk per text delta (id null, as MLflow's text chunks) and a last chunk
 * with the `message-start` id, Cohere's finish reason as sent (`COMPLETE`, `MAX_TOKENS`, …) and
 * the stream's usage.
 */
export function fromCohereChatEvent(json: unknown, state: CohereStreamState): ChatChunk | null {
  const event = readStreamEvent(json, state);
  if (event === null) return null;
  const { id, created, model, finishReason } = chunkHeader(event, state);
  const content = event.kind === 'text' ? event.text : null;
  const toolCalls = event.kind === 'tool-call' ? [event.call] : null;
  const delta = { role: null, content, tool_calls: toolCalls };
  return {
    id,
    object: 'chat.completion.chunk',
    created,
    model,
    choices: [{ index: 0, finish_reason: finishReason, delta }],
    ...usageOf(event),
  };
}

/** Reference §8 over the v2 events: text deltas, then the final chunk. */
export function fromCohereCompletionsEvent(json: unknown, state: CohereStreamState): CompletionsChunk | null {
  const event = readStreamEvent(json, state);
  if (event === null || event.kind === 'tool-call') return null;
  const { id, created, model, finishReason } = chunkHeader(event, state);
  const text = event.kind === 'text' ? event.text : null;
  return {
    id,
    object: 'text_completion_chunk',
    created,
    model,
    choices: [{ index: 0, finish_reason: finishReason, text }],
    ...usageOf(event),
  };
}
