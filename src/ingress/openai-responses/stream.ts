import type { ChatChunk, ToolCallDelta } from '../../schemas/chat.js';
import { usageSchema, type Usage } from '../../schemas/generation.js';
import type { ToolKind } from './request.js';
import {
  callItem,
  ITEM_PREFIXES,
  kindOf,
  messageItem,
  newId,
  outputTextPart,
  statusOf,
  toUsage,
  type OutputItem,
  type ResponseObject,
} from './response.js';

// Gateway chat chunks → Responses stream events, one pass, nothing buffered but the open
// item's text (reference ingress.md §3.4, §5.4).

export type ResponseEvent = { type: string } & Record<string, unknown>;

/** What a failed stream tells the client in `response.error`. */
export interface StreamFailure {
  code: string;
  message: string;
}

interface OpenMessage {
  outputIndex: number;
  id: string;
  text: string;
}

interface OpenCall {
  outputIndex: number;
  chunkIndex: number;
  id: string;
  kind: ToolKind;
  callId: string;
  name: string;
  arguments: string;
}

const ENDED_EARLY = 'The upstream provider ended the stream early, before its final chunk.';

/** A chunk's usage, when an adapter passed one on (OpenAI's `include_usage` chunk). */
function usageOf(chunk: ChatChunk): Usage | null {
  const usage = (chunk as { usage?: unknown }).usage;
  if (usage === undefined || usage === null) return null;
  const parsed = usageSchema.safeParse(usage);
  return parsed.success ? parsed.data : null;
}

class ResponseEventStream {
  readonly #frame: ResponseObject;
  readonly #kinds: ReadonlyMap<string, ToolKind>;
  readonly #output: OutputItem[] = [];
  #sequence = 0;
  #message: OpenMessage | null = null;
  #call: OpenCall | null = null;
  #finishReason: string | null = null;
  #usage: Usage | null = null;

  constructor(frame: ResponseObject, kinds: ReadonlyMap<string, ToolKind>) {
    this.#frame = frame;
    this.#kinds = kinds;
  }

  #event(type: string, fields: Record<string, unknown>): ResponseEvent {
    const event = { type, sequence_number: this.#sequence, ...fields };
    this.#sequence += 1;
    return event;
  }

  *start(): Generator<ResponseEvent> {
    yield this.#event('response.created', { response: this.#frame });
    yield this.#event('response.in_progress', { response: this.#frame });
  }

  *onChunk(chunk: ChatChunk): Generator<ResponseEvent> {
    this.#usage = usageOf(chunk) ?? this.#usage;
    const choice = chunk.choices.find((candidate) => candidate.index === 0);
    if (!choice) return;
    const content = choice.delta.content;
    if (content !== null && content !== '') yield* this.#text(content);
    for (const delta of choice.delta.tool_calls ?? []) yield* this.#toolCall(delta);
    if (choice.finish_reason !== null) this.#finishReason = choice.finish_reason;
  }

  *#text(delta: string): Generator<ResponseEvent> {
    if (!this.#message) {
      yield* this.#closeCall();
      const message = { outputIndex: this.#output.length, id: newId(ITEM_PREFIXES.message), text: '' };
      this.#message = message;
      this.#output.push(messageItem(message.id, '', 'in_progress'));
      const at = { item_id: message.id, output_index: message.outputIndex };
      yield this.#event('response.output_item.added', {
        output_index: message.outputIndex,
        item: messageItem(message.id, '', 'in_progress'),
      });
      yield this.#event('response.content_part.added', { ...at, content_index: 0, part: outputTextPart('') });
    }
    const message = this.#message;
    message.text += delta;
    yield this.#event('response.output_text.delta', {
      item_id: message.id,
      output_index: message.outputIndex,
      content_index: 0,
      delta,
      logprobs: [],
    });
  }

  *#toolCall(delta: ToolCallDelta): Generator<ResponseEvent> {
    const starts = delta.id !== null || delta.function.name !== null;
    if (starts && this.#call?.chunkIndex !== delta.index) yield* this.#openCall(delta);
    const call = this.#call;
    const piece = delta.function.arguments;
    if (call === null || piece === null || piece === '') return;
    call.arguments += piece;
    // Custom and shell calls are whole items only once their JSON arguments are complete.
    if (call.kind !== 'function') return;
    yield this.#event('response.function_call_arguments.delta', {
      item_id: call.id,
      output_index: call.outputIndex,
      delta: piece,
    });
  }

  *#openCall(delta: ToolCallDelta): Generator<ResponseEvent> {
    yield* this.#closeMessage();
    yield* this.#closeCall();
    const name = delta.function.name ?? '';
    const kind = kindOf(this.#kinds, name);
    const call: OpenCall = {
      outputIndex: this.#output.length,
      chunkIndex: delta.index,
      id: newId(ITEM_PREFIXES[kind]),
      kind,
      callId: delta.id ?? newId('call'),
      name,
      arguments: '',
    };
    this.#call = call;
    const item = callItem(kind, call.id, { ...call, arguments: '' }, 'in_progress');
    this.#output.push(item);
    yield this.#event('response.output_item.added', { output_index: call.outputIndex, item });
  }

  *#closeMessage(): Generator<ResponseEvent> {
    const message = this.#message;
    if (!message) return;
    this.#message = null;
    const at = { item_id: message.id, output_index: message.outputIndex, content_index: 0 };
    const item = messageItem(message.id, message.text, 'completed');
    this.#output[message.outputIndex] = item;
    yield this.#event('response.output_text.done', { ...at, text: message.text, logprobs: [] });
    yield this.#event('response.content_part.done', { ...at, part: outputTextPart(message.text) });
    yield this.#event('response.output_item.done', { output_index: message.outputIndex, item });
  }

  *#closeCall(): Generator<ResponseEvent> {
    const call = this.#call;
    if (!call) return;
    this.#call = null;
    // The SDK's types require arguments; a call without any took no input (§3.4).
    const fields = { ...call, arguments: call.arguments === '' ? '{}' : call.arguments };
    const item = callItem(call.kind, call.id, fields, 'completed');
    this.#output[call.outputIndex] = item;
    if (call.kind === 'function') {
      yield this.#event('response.function_call_arguments.done', {
        item_id: call.id,
        output_index: call.outputIndex,
        name: call.name,
        arguments: fields.arguments,
      });
    }
    yield this.#event('response.output_item.done', { output_index: call.outputIndex, item });
  }

  *finish(): Generator<ResponseEvent> {
    yield* this.#closeMessage();
    yield* this.#closeCall();
    if (this.#finishReason === null) {
      yield this.failed({ code: 'server_error', message: ENDED_EARLY });
      return;
    }
    const status = statusOf(this.#finishReason);
    const response = { ...this.#frame, ...status, output: this.#output, usage: toUsage(this.#usage) };
    const type = status.status === 'completed' ? 'response.completed' : 'response.incomplete';
    yield this.#event(type, { response });
  }

  failed(failure: StreamFailure): ResponseEvent {
    const response = { ...this.#frame, status: 'failed', error: failure, output: this.#output };
    return this.#event('response.failed', { response });
  }
}

/**
 * The Responses events for a translated stream. A failure after `response.created` ends it
 * with `response.failed`, which the SDK and Codex read as the turn's error (§5.4).
 */
export async function* toResponseEvents(
  chunks: AsyncIterable<ChatChunk>,
  frame: ResponseObject,
  kinds: ReadonlyMap<string, ToolKind>,
  describe: (error: unknown) => StreamFailure,
): AsyncGenerator<ResponseEvent, void, undefined> {
  const stream = new ResponseEventStream(frame, kinds);
  yield* stream.start();
  try {
    for await (const chunk of chunks) yield* stream.onChunk(chunk);
  } catch (error) {
    yield stream.failed(describe(error));
    return;
  }
  yield* stream.finish();
}
