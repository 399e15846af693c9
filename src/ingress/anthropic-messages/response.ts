import { randomUUID } from 'node:crypto';
import type { ChatResponse } from '../../schemas/chat.js';
import type { Usage } from '../../schemas/generation.js';

// The gateway's chat answer → an Anthropic Messages answer (ingress reference §5.2, §5.3).

/** The usage an Anthropic answer reports; also what the ingress hands on for metrics. */
export interface MessagesUsage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
}

export type StopReason = 'end_turn' | 'max_tokens' | 'stop_sequence' | 'tool_use' | 'refusal';

/** Reference §5.3: CC `finish_reason` → Anthropic `stop_reason`. */
const STOP_REASONS: Readonly<Record<string, StopReason>> = {
  stop: 'end_turn',
  length: 'max_tokens',
  tool_calls: 'tool_use',
  function_call: 'tool_use',
  content_filter: 'refusal',
};

export function toStopReason(finishReason: string | null): StopReason {
  return (finishReason === null ? undefined : STOP_REASONS[finishReason]) ?? 'end_turn';
}

/** Anthropic ids start `msg_`; an upstream without an id gets one of ours. */
export function messageId(id: string | null): string {
  if (id === null || id === '') return `msg_gw_${randomUUID().replaceAll('-', '')}`;
  return id.startsWith('msg_') ? id : `msg_${id}`;
}

export function toMessagesUsage(usage: Usage | null | undefined): MessagesUsage {
  return { input_tokens: usage?.prompt_tokens ?? 0, output_tokens: usage?.completion_tokens ?? 0 };
}

/** A tool call's arguments as the object Anthropic's `input` is; a model's broken JSON gives `{}`. */
export function toToolInput(argumentsText: string | null): unknown {
  if (argumentsText === null || argumentsText.trim() === '') return {};
  try {
    const value = JSON.parse(argumentsText) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? value : {};
  } catch {
    return {};
  }
}

/** `model` is the name the client asked for: the endpoint, never a provider's model id. */
export function toAnthropicMessage(response: ChatResponse, model: string): Record<string, unknown> {
  const choice = response.choices[0];
  const content: Record<string, unknown>[] = [];
  const text = choice?.message.content;
  if (text !== null && text !== undefined && text !== '') content.push({ type: 'text', text });
  for (const [index, call] of (choice?.message.tool_calls ?? []).entries()) {
    content.push({
      type: 'tool_use',
      id: call.id ?? `toolu_gw_${index}`,
      name: call.function.name ?? '',
      input: toToolInput(call.function.arguments),
    });
  }
  return {
    id: messageId(response.id),
    type: 'message',
    role: 'assistant',
    model,
    content,
    stop_reason: toStopReason(choice?.finish_reason ?? null),
    stop_sequence: null,
    usage: toMessagesUsage(response.usage),
  };
}
