// A deterministic offline provider: no key, no network. It answers chat, completions and
// embeddings (streams included) from the request alone, for trying the gateway and for
// testing client applications.
import { z } from 'zod';
import type { ChatChunk, ChatMessage, ChatRequest, ChatResponse } from '../schemas/chat.js';
import type { CompletionsChunk, CompletionsRequest, CompletionsResponse } from '../schemas/completions.js';
import type { EmbeddingsRequest, EmbeddingsResponse } from '../schemas/embeddings.js';
import { ProviderAdapter, rejectModelField, type AdapterInit } from './base.js';
import { nowSeconds } from './timestamps.js';

const DEFAULT_DIMENSIONS = 8;
const DEFAULT_MODEL = 'mock-model';
const WORD = /\S+\s*/g;

export const mockConfigSchema = z.object({
  /** Length of each embedding vector. */
  dimensions: z.number().int().min(1).max(4096).default(DEFAULT_DIMENSIONS),
});
export type MockConfig = z.infer<typeof mockConfigSchema>;

function countWords(text: string): number {
  return text.match(WORD)?.length ?? 0;
}

function messageText(message: ChatMessage): string {
  const content = message.content;
  if (content === undefined) return '';
  if (typeof content === 'string') return content;
  return content.map((part) => (part.type === 'text' ? part.text : '')).join(' ');
}

function lastUserText(messages: readonly ChatMessage[]): string {
  for (let index = messages.length - 1; index >= 0; index -= 1) {
    const message = messages[index];
    if (message?.role === 'user') return messageText(message);
  }
  return '';
}

/** FNV-1a over the text and a dimension index: the same input always gives the same vector. */
function hashToUnit(text: string, dimension: number): number {
  let hash = 0x811c9dc5 ^ dimension;
  for (let index = 0; index < text.length; index += 1) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return ((hash >>> 0) / 0xffffffff) * 2 - 1;
}

function embed(text: string, dimensions: number): number[] {
  const vector = Array.from({ length: dimensions }, (_, dimension) => hashToUnit(text, dimension));
  const norm = Math.hypot(...vector) || 1;
  return vector.map((value) => Math.round((value / norm) * 1e6) / 1e6);
}

function idFor(prefix: string, text: string): string {
  return `${prefix}-mock-${(hashToUnit(text, 0) * 1e9).toFixed(0).replace('-', 'n')}`;
}

/** Applies `max_tokens` (one token per word) and `stop`, as a real model would. */
function limitReply(text: string, request: { max_tokens?: number | undefined; stop?: string[] | undefined }) {
  let reply = text;
  let finishReason = 'stop';
  for (const stop of request.stop ?? []) {
    const at = reply.indexOf(stop);
    if (at >= 0) reply = reply.slice(0, at);
  }
  const words = reply.match(WORD) ?? [];
  if (request.max_tokens !== undefined && words.length > request.max_tokens) {
    reply = words.slice(0, request.max_tokens).join('').trimEnd();
    finishReason = 'length';
  }
  return { reply, finishReason };
}

/** Runs a method body so that a thrown error (the model check) becomes a rejected promise. */
function settle<T>(produce: () => T): Promise<T> {
  try {
    return Promise.resolve(produce());
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}

export class MockAdapter extends ProviderAdapter<MockConfig> {
  static readonly provider = 'mock';
  static readonly displayName = 'Mock';
  static readonly configSchema = mockConfigSchema;
  static readonly supports = { chat: 'stream', completions: 'stream', embeddings: true } as const;

  readonly #model: string;

  constructor(init: AdapterInit<MockConfig>) {
    super(init, 'Mock');
    this.#model = init.modelName ?? DEFAULT_MODEL;
  }

  #answerChat(request: ChatRequest) {
    rejectModelField(request);
    const prompt = lastUserText(request.messages);
    const { reply, finishReason } = limitReply(`This is a mock response to: ${prompt}`, request);
    const promptTokens = request.messages.reduce((sum, message) => sum + countWords(messageText(message)), 0);
    return { id: idFor('chatcmpl', prompt), prompt, reply, finishReason, promptTokens };
  }

  #answerCompletion(request: CompletionsRequest) {
    rejectModelField(request);
    const { reply, finishReason } = limitReply(`This is a mock completion of: ${request.prompt}`, request);
    return {
      id: idFor('cmpl', request.prompt),
      reply,
      finishReason,
      promptTokens: countWords(request.prompt),
    };
  }

  override chat(request: ChatRequest): Promise<ChatResponse> {
    return settle(() => this.#chatResponse(request));
  }

  #chatResponse(request: ChatRequest): ChatResponse {
    const answer = this.#answerChat(request);
    const completionTokens = countWords(answer.reply);
    return {
      id: answer.id,
      object: 'chat.completion',
      created: nowSeconds(),
      model: this.#model,
      choices: Array.from({ length: request.n }, (_, index) => ({
        index,
        message: { role: 'assistant', content: answer.reply, tool_calls: null, refusal: null },
        finish_reason: answer.finishReason,
      })),
      usage: {
        prompt_tokens: answer.promptTokens,
        completion_tokens: completionTokens * request.n,
        total_tokens: answer.promptTokens + completionTokens * request.n,
      },
    };
  }

  override chatStream(request: ChatRequest): Promise<AsyncIterable<ChatChunk>> {
    return settle(() => this.#chatChunks(request));
  }

  #chatChunks(request: ChatRequest): AsyncIterable<ChatChunk> {
    const answer = this.#answerChat(request);
    const model = this.#model;
    const created = nowSeconds();
    const chunk = (delta: ChatChunk['choices'][number]['delta'], finishReason: string | null): ChatChunk => ({
      id: answer.id,
      object: 'chat.completion.chunk',
      created,
      model,
      choices: [{ index: 0, finish_reason: finishReason, delta }],
    });
    async function* generate(): AsyncGenerator<ChatChunk> {
      await Promise.resolve();
      yield chunk({ role: 'assistant', content: null, tool_calls: null }, null);
      for (const word of answer.reply.match(WORD) ?? []) {
        yield chunk({ role: null, content: word, tool_calls: null }, null);
      }
      yield chunk({ role: null, content: null, tool_calls: null }, answer.finishReason);
    }
    return generate();
  }

  override completions(request: CompletionsRequest): Promise<CompletionsResponse> {
    return settle(() => this.#completionsResponse(request));
  }

  #completionsResponse(request: CompletionsRequest): CompletionsResponse {
    const answer = this.#answerCompletion(request);
    const completionTokens = countWords(answer.reply);
    return {
      id: answer.id,
      object: 'text_completion',
      created: nowSeconds(),
      model: this.#model,
      choices: Array.from({ length: request.n }, (_, index) => ({
        index,
        text: answer.reply,
        finish_reason: answer.finishReason,
      })),
      usage: {
        prompt_tokens: answer.promptTokens,
        completion_tokens: completionTokens * request.n,
        total_tokens: answer.promptTokens + completionTokens * request.n,
      },
    };
  }

  override completionsStream(request: CompletionsRequest): Promise<AsyncIterable<CompletionsChunk>> {
    return settle(() => this.#completionsChunks(request));
  }

  #completionsChunks(request: CompletionsRequest): AsyncIterable<CompletionsChunk> {
    const answer = this.#answerCompletion(request);
    const model = this.#model;
    const created = nowSeconds();
    const chunk = (text: string | null, finishReason: string | null): CompletionsChunk => ({
      id: answer.id,
      object: 'text_completion_chunk',
      created,
      model,
      choices: [{ index: 0, finish_reason: finishReason, text }],
    });
    async function* generate(): AsyncGenerator<CompletionsChunk> {
      await Promise.resolve();
      for (const word of answer.reply.match(WORD) ?? []) yield chunk(word, null);
      yield chunk(null, answer.finishReason);
    }
    return generate();
  }

  override embeddings(request: EmbeddingsRequest): Promise<EmbeddingsResponse> {
    return settle(() => this.#embeddingsResponse(request));
  }

  #embeddingsResponse(request: EmbeddingsRequest): EmbeddingsResponse {
    rejectModelField(request);
    const inputs: unknown[] = Array.isArray(request.input) ? request.input : [request.input];
    const texts = inputs.map((input) => (typeof input === 'string' ? input : JSON.stringify(input)));
    const dimensions = this.init.config.dimensions;
    const tokens = texts.reduce((sum, text) => sum + countWords(text), 0);
    return {
      object: 'list',
      data: texts.map((text, index) => ({ object: 'embedding', embedding: embed(text, dimensions), index })),
      model: this.#model,
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    };
  }
}
