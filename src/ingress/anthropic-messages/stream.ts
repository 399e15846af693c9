import { UpstreamProtocolError } from '../../errors.js';
import type { ChatChunk } from '../../schemas/chat.js';
import { messageId, toMessagesUsage, toStopReason, type MessagesUsage, type StopReason } from './response.js';

// Gateway chat chunks → Anthropic stream events (ingress reference §2.3, §5.2), one chunk at a
// time: every chunk becomes its events as it arrives. Blocks are sequential, as in Anthropic's
// own streams: a new block closes the open one.

/** One SSE frame as Anthropic writes it: the event name equals the data's `type`. */
export function eventFrame(data: { type: string } & Record<string, unknown>): string {
  return `event: ${data.type}\ndata: ${JSON.stringify(data)}\n\n`;
}

type OpenBlock = { kind: 'text' } | { kind: 'tool'; callIndex: number } | null;

export class MessagesStreamTranslator {
  readonly #model: string;
  #hasStarted = false;
  #blockIndex = -1;
  #open: OpenBlock = null;
  /** Tool call index (the chunk's) → its block index. */
  readonly #toolBlocks = new Map<number, number>();
  #stopReason: StopReason | null = null;
  #usage: MessagesUsage = { input_tokens: 0, output_tokens: 0 };

  constructor(model: string) {
    this.#model = model;
  }

  /** Whether the upstream said why it finished (a stream without it was cut short). */
  get isFinished(): boolean {
    return this.#stopReason !== null;
  }

  get usage(): MessagesUsage {
    return this.#usage;
  }

  /** The frames for one chunk; empty when it carries nothing the client sees. */
  translate(chunk: ChatChunk): string {
    let frames = this.#start(chunk.id);
    // A chat stream reports its counts at the end (OpenAI: a last, choice-less chunk).
    if (chunk.usage) this.#usage = toMessagesUsage(chunk.usage);
    const choice = chunk.choices.find((candidate) => candidate.index === 0);
    if (!choice) return frames;
    const text = choice.delta.content;
    if (text !== null && text !== '') {
      if (this.#open?.kind !== 'text')
        frames += this.#openBlock({ kind: 'text' }, { type: 'text', text: '' });
      frames += this.#delta({ type: 'text_delta', text });
    }
    for (const call of choice.delta.tool_calls ?? []) frames += this.#toolCall(call);
    if (choice.finish_reason !== null) {
      frames += this.#closeBlock();
      this.#stopReason = toStopReason(choice.finish_reason);
    }
    return frames;
  }

  /** The closing frames: `message_delta` with the stop reason and usage, then `message_stop`. */
  finish(): string {
    const usage: Record<string, unknown> = { ...this.#usage };
    return (
      this.#start(null) +
      this.#closeBlock() +
      eventFrame({
        type: 'message_delta',
        delta: { stop_reason: this.#stopReason ?? 'end_turn', stop_sequence: null },
        usage,
      }) +
      eventFrame({ type: 'message_stop' })
    );
  }

  #start(id: string | null): string {
    if (this.#hasStarted) return '';
    this.#hasStarted = true;
    return eventFrame({
      type: 'message_start',
      message: {
        id: messageId(id),
        type: 'message',
        role: 'assistant',
        content: [],
        model: this.#model,
        stop_reason: null,
        stop_sequence: null,
        // A chat stream reports its counts at the end; they go into the final message_delta.
        usage: { input_tokens: 0, output_tokens: 0 },
      },
    });
  }

  #toolCall(call: NonNullable<ChatChunk['choices'][number]['delta']['tool_calls']>[number]): string {
    let frames = '';
    if (!this.#toolBlocks.has(call.index)) {
      const id = call.id ?? `toolu_gw_${call.index}`;
      frames += this.#openBlock(
        { kind: 'tool', callIndex: call.index },
        { type: 'tool_use', id, name: call.function.name ?? '', input: {} },
      );
      this.#toolBlocks.set(call.index, this.#blockIndex);
    }
    const piece = call.function.arguments;
    if (piece === null || piece === '') return frames;
    if (this.#open?.kind !== 'tool' || this.#open.callIndex !== call.index) {
      // Anthropic's blocks cannot interleave: a closed tool block takes no more input.
      throw new UpstreamProtocolError(
        `The upstream provider streamed arguments for tool call ${call.index} after a later block began.`,
      );
    }
    return frames + this.#delta({ type: 'input_json_delta', partial_json: piece });
  }

  #openBlock(open: NonNullable<OpenBlock>, contentBlock: Record<string, unknown>): string {
    const frames = this.#closeBlock();
    this.#blockIndex += 1;
    this.#open = open;
    return (
      frames +
      eventFrame({ type: 'content_block_start', index: this.#blockIndex, content_block: contentBlock })
    );
  }

  #delta(delta: Record<string, unknown>): string {
    return eventFrame({ type: 'content_block_delta', index: this.#blockIndex, delta });
  }

  #closeBlock(): string {
    if (this.#open === null) return '';
    this.#open = null;
    return eventFrame({ type: 'content_block_stop', index: this.#blockIndex });
  }
}
