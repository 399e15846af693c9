import type { ChatChunk } from '../../schemas/chat.js';
import { isRecord } from '../../schemas/json.js';
import { nowSeconds } from '../timestamps.js';
import { toFinishReason } from './converse.js';

// Chat streaming through ConverseStream (reference §7.2). The SDK decodes the event-stream frames
// into one object per event, keyed by the event's name; exception frames it throws.

type Delta = ChatChunk['choices'][number]['delta'];

const FINAL_DELTA: Delta = Object.freeze({ role: null, content: null, tool_calls: null });

function toChunk(model: string, finishReason: string | null, delta: Delta): ChatChunk {
  return {
    id: null,
    object: 'chat.completion.chunk',
    created: nowSeconds(),
    model,
    choices: [{ index: 0, finish_reason: finishReason, delta }],
  };
}

function tokenCount(value: unknown): number | null {
  return typeof value === 'number' && Number.isInteger(value) ? value : null;
}

/**
 * `metadata` comes after `messageStop` and carries the stream's usage: a usage-only, choice-less
 * chunk as OpenAI's last one, kept for the gateway's accounting (a Bedrock client cannot ask for
 * it, so it never reaches the client).
 */
function fromMetadata(metadata: Record<string, unknown>, model: string): ChatChunk | null {
  const usage = metadata.usage;
  if (!isRecord(usage)) return null;
  return {
    id: null,
    object: 'chat.completion.chunk',
    created: nowSeconds(),
    model,
    choices: [],
    usage: {
      prompt_tokens: tokenCount(usage.inputTokens),
      completion_tokens: tokenCount(usage.outputTokens),
      total_tokens: tokenCount(usage.totalTokens),
    },
  };
}

/**
 * A text delta becomes a chunk (index 0 whatever the block), `messageStop` the finishing chunk,
 * `metadata` the usage chunk; tool-use and reasoning deltas and block starts and stops give nothing.
 */
export function fromConverseStreamEvent(event: unknown, model: string): ChatChunk | null {
  if (!isRecord(event)) return null;
  const blockDelta = event.contentBlockDelta;
  if (isRecord(blockDelta) && isRecord(blockDelta.delta)) {
    const text = blockDelta.delta.text;
    if (typeof text !== 'string') return null;
    return toChunk(model, null, { role: 'assistant', content: text, tool_calls: null });
  }
  const messageStop = event.messageStop;
  if (isRecord(messageStop)) {
    const stopReason = typeof messageStop.stopReason === 'string' ? messageStop.stopReason : undefined;
    return toChunk(model, toFinishReason(stopReason), FINAL_DELTA);
  }
  const metadata = event.metadata;
  return isRecord(metadata) ? fromMetadata(metadata, model) : null;
}
