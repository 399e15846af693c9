import { z } from 'zod';
import type { ChatChunk, ChatResponse, ResponseToolCall } from '../../schemas/chat.js';
import type { Usage } from '../../schemas/generation.js';
import { isRecord } from '../../schemas/json.js';

// Gateway chat answers → Gemini `GenerateContentResponse` (reference ingress.md §4.2, §5.3, §5.5).

export type GeminiResponse = Record<string, unknown>;
export type GeminiPartOut = Record<string, unknown>;

/** §5.3: chat finish reasons → Gemini's `FinishReason`. */
const FINISH_REASONS: Readonly<Record<string, string>> = {
  stop: 'STOP',
  length: 'MAX_TOKENS',
  tool_calls: 'STOP',
  function_call: 'STOP',
  content_filter: 'SAFETY',
};

export function finishReasonOf(reason: string | null): string {
  return reason === null ? 'STOP' : (FINISH_REASONS[reason] ?? 'OTHER');
}

function parseArgs(args: string | null): Record<string, unknown> {
  try {
    const value = JSON.parse(args ?? '{}') as unknown;
    return isRecord(value) ? value : {};
  } catch {
    return {};
  }
}

export function functionCallPart(id: string | null, name: string, args: string | null): GeminiPartOut {
  const call: Record<string, unknown> = { name, args: parseArgs(args) };
  if (id !== null) call.id = id;
  return { functionCall: call };
}

export function toUsageMetadata(usage: Usage): Record<string, number> {
  const prompt = usage.prompt_tokens ?? 0;
  const completion = usage.completion_tokens ?? 0;
  return {
    promptTokenCount: prompt,
    candidatesTokenCount: completion,
    totalTokenCount: usage.total_tokens ?? prompt + completion,
  };
}

function toCallPart(call: ResponseToolCall): GeminiPartOut {
  return functionCallPart(call.id, call.function.name ?? '', call.function.arguments);
}

/** A whole answer: one candidate per choice. */
export function toGeminiResponse(chat: ChatResponse, model: string): GeminiResponse {
  const candidates = chat.choices.map((choice) => {
    const parts: GeminiPartOut[] = [];
    const text = choice.message.content ?? choice.message.refusal;
    if (text !== null && text !== '') parts.push({ text });
    for (const call of choice.message.tool_calls ?? []) parts.push(toCallPart(call));
    return {
      content: { role: 'model', parts },
      finishReason: finishReasonOf(choice.finish_reason),
      index: choice.index,
    };
  });
  const response: GeminiResponse = {
    candidates,
    usageMetadata: toUsageMetadata(chat.usage),
    modelVersion: chat.model ?? model,
  };
  if (chat.id !== null) response.responseId = chat.id;
  return response;
}

interface PendingCall {
  id: string | null;
  name: string;
  arguments: string;
}

/**
 * Gateway chunks → Gemini stream chunks (§4.3, §5.5): text goes out as it comes; a function
 * call arrives whole in Gemini streams, so its argument pieces are gathered and the call sent
 * in the last chunk, with the finish reason and usage.
 */
export class GeminiStreamMapper {
  /** The endpoint's name until the upstream names its model. */
  #model: string;
  readonly #calls = new Map<number, PendingCall>();
  #finishReason: string | null = null;
  #usage: Usage | null = null;
  #responseId: string | null = null;

  constructor(model: string) {
    this.#model = model;
  }

  get isFinished(): boolean {
    return this.#finishReason !== null;
  }

  /** The chunk to send for a gateway chunk, or null when it carried nothing to send yet. */
  onChunk(chunk: ChatChunk, usage: Usage | null): GeminiResponse | null {
    this.#responseId ??= chunk.id;
    this.#model = chunk.model ?? this.#model;
    this.#usage = usage ?? this.#usage;
    const choice = chunk.choices.find((candidate) => candidate.index === 0);
    if (!choice) return null;
    for (const delta of choice.delta.tool_calls ?? []) {
      const call = this.#calls.get(delta.index) ?? { id: null, name: '', arguments: '' };
      call.id ??= delta.id;
      if (delta.function.name !== null) call.name = delta.function.name;
      call.arguments += delta.function.arguments ?? '';
      this.#calls.set(delta.index, call);
    }
    if (choice.finish_reason !== null) this.#finishReason = choice.finish_reason;
    const text = choice.delta.content;
    if (text === null || text === '') return null;
    return this.#chunk([{ text }]);
  }

  /** The last chunk: gathered calls, the finish reason and the usage. */
  finish(): GeminiResponse {
    const parts = [...this.#calls.values()].map((call) =>
      functionCallPart(call.id, call.name, call.arguments),
    );
    const last = this.#chunk(parts.length > 0 ? parts : [{ text: '' }]);
    const candidates = last.candidates as Record<string, unknown>[];
    const [candidate] = candidates;
    if (candidate) candidate.finishReason = finishReasonOf(this.#finishReason);
    last.usageMetadata = toUsageMetadata(
      this.#usage ?? { prompt_tokens: null, completion_tokens: null, total_tokens: null },
    );
    return last;
  }

  #chunk(parts: GeminiPartOut[]): GeminiResponse {
    const response: GeminiResponse = {
      candidates: [{ content: { role: 'model', parts }, index: 0 }],
      modelVersion: this.#model,
    };
    if (this.#responseId !== null) response.responseId = this.#responseId;
    return response;
  }
}

const answerUsageSchema = z.object({
  usageMetadata: z.object({
    promptTokenCount: z.number().int().optional(),
    candidatesTokenCount: z.number().int().optional(),
    totalTokenCount: z.number().int().optional(),
  }),
});

/** The token counts of a Gemini answer (Google's own, on passthrough), when it has them. */
export function usageOfGemini(json: unknown): Usage | null {
  const parsed = answerUsageSchema.safeParse(json);
  if (!parsed.success) return null;
  const usage = parsed.data.usageMetadata;
  return {
    prompt_tokens: usage.promptTokenCount ?? null,
    completion_tokens: usage.candidatesTokenCount ?? null,
    total_tokens: usage.totalTokenCount ?? null,
  };
}
