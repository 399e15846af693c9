// Anthropic Messages API payloads, shaped as Anthropic's API reference shows them
// (platform.claude.com/docs: Messages, Streaming Messages, Errors): the message object, the typed
// SSE stream events and the error body. Values follow reference anthropic.md's test vectors.
import { sseFrame } from './fake-upstream.js';

export interface MessageOptions {
  id?: string;
  model?: string;
  content?: unknown[];
  stopReason?: string | null;
  inputTokens?: number;
  outputTokens?: number;
}

/** A `POST /v1/messages` answer (non-streaming); defaults are reference §5's example. */
export function anthropicMessage(options: MessageOptions = {}): Record<string, unknown> {
  const {
    id = 'msg_013Zva2CMHLNnXjNJJKqJ2EF',
    model = 'claude-2.1',
    content = [{ type: 'text', text: 'Response message' }],
    stopReason = 'end_turn',
    inputTokens = 10,
    outputTokens = 25,
  } = options;
  return {
    id,
    type: 'message',
    role: 'assistant',
    model,
    content,
    stop_reason: stopReason,
    stop_sequence: null,
    usage: { input_tokens: inputTokens, output_tokens: outputTokens },
  };
}

/** Reference test vector 6: the model asks for one tool. */
export const TOOL_USE_MESSAGE = anthropicMessage({
  id: 'test-id',
  stopReason: 'tool_use',
  content: [{ type: 'tool_use', id: 'toolu_001', name: 'get_weather', input: { location: 'Singapore' } }],
});

/** Anthropic's error body: `{"type":"error","error":{"type":…,"message":…},"request_id":…}`. */
export function anthropicError(
  type: string,
  message: string,
): { type: 'error'; error: { type: string; message: string }; request_id: string } {
  return { type: 'error', error: { type, message }, request_id: 'req_011CSHoEeqs5C35K2UUqR7Fy' };
}

/** One typed stream event as Anthropic frames it: `event: <type>` then `data: <json>`. */
function event(data: { type: string } & Record<string, unknown>): string {
  return sseFrame(data, data.type);
}

export function messageStart(id: string, model = 'claude-2.1'): string {
  return event({
    type: 'message_start',
    message: {
      id,
      type: 'message',
      role: 'assistant',
      content: [],
      model,
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: 25, output_tokens: 1 },
    },
  });
}

export function textBlockStart(index: number): string {
  return event({ type: 'content_block_start', index, content_block: { type: 'text', text: '' } });
}

export function textDelta(index: number, text: string): string {
  return event({ type: 'content_block_delta', index, delta: { type: 'text_delta', text } });
}

export function toolUseBlockStart(index: number, id: string, name: string): string {
  return event({
    type: 'content_block_start',
    index,
    content_block: { type: 'tool_use', id, name, input: {} },
  });
}

export function inputJsonDelta(index: number, partialJson: string): string {
  return event({
    type: 'content_block_delta',
    index,
    delta: { type: 'input_json_delta', partial_json: partialJson },
  });
}

export function blockStop(index: number): string {
  return event({ type: 'content_block_stop', index });
}

export const PING = event({ type: 'ping' });

export function messageDelta(stopReason: string): string {
  return event({
    type: 'message_delta',
    delta: { stop_reason: stopReason, stop_sequence: null },
    usage: { output_tokens: 15 },
  });
}

export const MESSAGE_STOP = event({ type: 'message_stop' });

export const OVERLOADED_EVENT = event(anthropicError('overloaded_error', 'Overloaded'));

/** Reference §6's example stream, with the given message id. */
export function textStream(id: string): string[] {
  return [
    messageStart(id),
    textBlockStart(0),
    PING,
    textDelta(0, 'Hello'),
    textDelta(0, '!'),
    blockStop(0),
    messageDelta('end_turn'),
    MESSAGE_STOP,
  ];
}

/** A thinking block, a text block and two parallel tool calls, as extended thinking streams them. */
export const TOOL_STREAM = [
  messageStart('msg_tools'),
  event({ type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: '' } }),
  event({
    type: 'content_block_delta',
    index: 0,
    delta: { type: 'thinking_delta', thinking: 'Two cities.' },
  }),
  event({
    type: 'content_block_delta',
    index: 0,
    delta: { type: 'signature_delta', signature: 'EqQBCgIYAhIM' },
  }),
  blockStop(0),
  textBlockStart(1),
  textDelta(1, 'Checking both.'),
  blockStop(1),
  toolUseBlockStart(2, 'toolu_01', 'get_weather'),
  inputJsonDelta(2, ''),
  inputJsonDelta(2, '{"location": "Paris"}'),
  blockStop(2),
  toolUseBlockStart(3, 'toolu_02', 'get_weather'),
  inputJsonDelta(3, '{"location": "Rome"}'),
  blockStop(3),
  messageDelta('tool_use'),
  MESSAGE_STOP,
];
