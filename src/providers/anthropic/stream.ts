import { z } from 'zod';
import type { ChatChunk } from '../../schemas/chat.js';
import { upstreamStatusError } from '../../upstream/errors.js';
import { parseUpstreamBody } from '../base.js';
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
}

export function newAnthropicStreamState(): AnthropicStreamState {
  return { id: null, model: null, created: nowSeconds(), toolCalls: new Map() };
}

const eventTypeSchema = z.object({ type: z.string() });
const messageStartSchema = z.object({ message: z.object({ id: z.string(), model: z.string() }) });
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
const messageDeltaSchema = z.object({ delta: z.object({ stop_reason: z.string().nullish() }) });

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
  switch (parseUpstreamBody(eventTypeSchema, json, DISPLAY_NAME).type) {
    case 'message_start': {
      const { message } = parseUpstreamBody(messageStartSchema, json, DISPLAY_NAME);
      state.id = message.id;
      state.model = message.model;
      return null;
    }
    case 'content_block_start':
      return fromBlockStart(json, state);
    case 'content_block_delta':
      return fromBlockDelta(json, state);
    case 'message_delta': {
      const stopReason = parseUpstreamBody(messageDeltaSchema, json, DISPLAY_NAME).delta.stop_reason;
      return stopReason ? toChunk(state, {}, toFinishReason(stopReason)) : null;
    }
    case 'error':
      // An error after the 200: the status is never sent, the message ends the client's stream.
      throw upstreamStatusError(502, json);
    default:
      return null;
  }
}
