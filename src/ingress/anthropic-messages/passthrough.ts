import type { IncomingHttpHeaders } from 'node:http';
import type { EventSourceMessage } from 'eventsource-parser';
import type {
  AnthropicAdapter,
  AnthropicClientHeaders,
  AnthropicNativeOperation,
} from '../../providers/anthropic/index.js';
import type { CallContext } from '../../providers/base.js';
import { isRecord } from '../../schemas/json.js';
import { parseAnswer } from '../native-reply.js';
import { eventJson, SseUsageTap } from '../passthrough.js';
import type { MessagesUsage } from './response.js';

// Passthrough to an Anthropic endpoint (ingress reference §1, §6): the client's body as sent
// (model replaced by the adapter), the answer's bytes relayed unchanged; usage is read on the
// side for metrics.

/** A whole answer, ready to send. */
export interface MessagesAnswer {
  status: number;
  headers: Readonly<Record<string, string>>;
  body: string | Buffer;
  /** The token counts the answer reported, when it reported them. */
  usage: MessagesUsage | null;
}

/** What a streamed answer needs besides its chunks: the head to write and the usage seen so far. */
export interface StreamHead {
  status: number;
  headers: Readonly<Record<string, string>>;
  usage: () => MessagesUsage | null;
}

export function clientHeadersOf(headers: IncomingHttpHeaders): AnthropicClientHeaders {
  const version = headers['anthropic-version'];
  const beta = headers['anthropic-beta'];
  return {
    'anthropic-version': typeof version === 'string' ? version : undefined,
    'anthropic-beta': typeof beta === 'string' ? beta : undefined,
  };
}

/**
 * Reference §2.5: Claude Code sends `role: "system"` messages to a model id it does not know,
 * which Anthropic refuses; they move, in order, to the end of `system`.
 */
export function withSystemMessagesMoved(
  body: Readonly<Record<string, unknown>>,
): Readonly<Record<string, unknown>> {
  const messages = body.messages;
  if (!Array.isArray(messages) || !messages.some(isSystemMessage)) return body;
  const system: unknown[] = toTextBlocks(body.system);
  const kept: unknown[] = [];
  for (const message of messages) {
    if (isSystemMessage(message)) system.push(...toTextBlocks(message.content));
    else kept.push(message);
  }
  return { ...body, system, messages: kept };
}

function isSystemMessage(message: unknown): message is { role: 'system'; content: unknown } {
  return isRecord(message) && message.role === 'system';
}

function toTextBlocks(content: unknown): unknown[] {
  if (content === undefined || content === null || content === '') return [];
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  return Array.isArray(content) ? (content as unknown[]).slice() : [content];
}

export async function relayUnary(
  adapter: AnthropicAdapter,
  operation: AnthropicNativeOperation,
  body: Readonly<Record<string, unknown>>,
  clientHeaders: AnthropicClientHeaders,
  call: CallContext,
): Promise<MessagesAnswer> {
  const response = await adapter.relayNative(operation, body, clientHeaders, call.signal);
  const chunks: Uint8Array[] = [];
  // The relay caps the size; reading it whole here lets routing retry a body cut midway.
  for await (const chunk of response.body) chunks.push(chunk);
  const bytes = Buffer.concat(chunks);
  return {
    status: response.status,
    headers: response.headers,
    body: bytes,
    usage: operation === 'messages' && !response.isStream ? usageOfMessage(bytes) : null,
  };
}

function usageOfMessage(bytes: Buffer): MessagesUsage | null {
  // Bytes that are not JSON go to the client as they came; only the usage stays unknown.
  const json = parseAnswer(bytes);
  return isRecord(json) ? usageOf(json.usage) : null;
}

function usageOf(value: unknown): MessagesUsage | null {
  if (!isRecord(value)) return null;
  const count = (key: string): number | null => (typeof value[key] === 'number' ? value[key] : null);
  return {
    input_tokens: count('input_tokens') ?? 0,
    output_tokens: count('output_tokens') ?? 0,
    cache_creation_input_tokens: count('cache_creation_input_tokens'),
    cache_read_input_tokens: count('cache_read_input_tokens'),
  };
}

/** The relayed stream's bytes, unchanged, with its usage read from them as they pass. */
export async function relayStream(
  adapter: AnthropicAdapter,
  body: Readonly<Record<string, unknown>>,
  clientHeaders: AnthropicClientHeaders,
  call: CallContext,
): Promise<{ head: StreamHead; chunks: AsyncIterable<Uint8Array> }> {
  const response = await adapter.relayNative('messages', body, clientHeaders, call.signal);
  const tap = new SseUsageTap(readStreamUsage);
  const head: StreamHead = { status: response.status, headers: response.headers, usage: () => tap.usage };
  return { head, chunks: response.isStream ? tap.watch(response.body) : response.body };
}

/**
 * The usage of `message_start` and `message_delta`, the only events parsed; the bytes
 * themselves go on untouched.
 */
function readStreamUsage(event: EventSourceMessage, previous: MessagesUsage | null): MessagesUsage | null {
  if (event.event !== 'message_start' && event.event !== 'message_delta') return null;
  const json = eventJson(event);
  if (!isRecord(json)) return null;
  const source =
    event.event === 'message_start' ? (isRecord(json.message) ? json.message.usage : null) : json.usage;
  const usage = usageOf(source);
  if (usage === null) return null;
  // message_delta counts are cumulative, and newer API versions repeat the input counts there.
  return {
    input_tokens:
      isRecord(source) && typeof source.input_tokens === 'number'
        ? usage.input_tokens
        : (previous?.input_tokens ?? 0),
    output_tokens: usage.output_tokens,
    cache_creation_input_tokens:
      usage.cache_creation_input_tokens ?? previous?.cache_creation_input_tokens ?? null,
    cache_read_input_tokens: usage.cache_read_input_tokens ?? previous?.cache_read_input_tokens ?? null,
  };
}
