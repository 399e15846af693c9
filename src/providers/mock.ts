// A deterministic offline provider: no key, no network. It answers chat, completions and
// embeddings (streams included) from the request alone, for trying the gateway and for
// testing client applications. Its work per request is bounded whatever the input: it echoes
// at most ECHO_LIMIT_CHARS of the prompt, refuses max_tokens above MOCK_MAX_TOKENS as a real
// model would, and reads each input once (n and the number of inputs are bounded by the schemas).
import { z } from 'zod';
import { InvalidRequestError } from '../errors.js';
import type { ChatChunk, ChatMessage, ChatRequest, ChatResponse } from '../schemas/chat.js';
import type { CompletionsChunk, CompletionsRequest, CompletionsResponse } from '../schemas/completions.js';
import type { EmbeddingsRequest, EmbeddingsResponse } from '../schemas/embeddings.js';
import { ProviderAdapter, rejectModelField, type AdapterInit } from './base.js';
import { nowSeconds } from './timestamps.js';

const DEFAULT_DIMENSIONS = 8;
const DEFAULT_MODEL = 'mock-model';
const WORD = /\S+\s*/g;
/** How much of the prompt a reply repeats, so n choices or a stream of words stay small. */
export const ECHO_LIMIT_CHARS = 1000;
/** The mock model's completion-token limit, in the spirit of a real model's. */
export const MOCK_MAX_TOKENS = 16_384;

export const mockConfigSchema = z.object({
  /** Length of each embedding vector. */
  dimensions: z.number().int().min(1).max(4096).default(DEFAULT_DIMENSIONS),
});
export type MockConfig = z.infer<typeof mockConfigSchema>;

/** Counts without building an array of words: a prompt may be tens of MB. */
function countWords(text: string): number {
  let count = 0;
  WORD.lastIndex = 0;
  while (WORD.exec(text) !== null) count += 1;
  return count;
}

/** The start of `text`, cut before ECHO_LIMIT_CHARS without splitting a surrogate pair. */
function echoed(text: string): string {
  if (text.length <= ECHO_LIMIT_CHARS) return text;
  const last = text.charCodeAt(ECHO_LIMIT_CHARS - 1);
  const isHighSurrogate = last >= 0xd800 && last <= 0xdbff;
  return text.slice(0, isHighSurrogate ? ECHO_LIMIT_CHARS - 1 : ECHO_LIMIT_CHARS);
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

/** FNV-1a over the text: the same input always gives the same numbers. */
function hashText(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index += 1) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash;
}

/** Murmur3's finalizer over the text's hash and a dimension index, as a number in [-1, 1]. */
function unitAt(textHash: number, dimension: number): number {
  let hash = textHash ^ Math.imul(dimension + 1, 0x9e3779b1);
  hash = Math.imul(hash ^ (hash >>> 16), 0x85ebca6b);
  hash = Math.imul(hash ^ (hash >>> 13), 0xc2b2ae35);
  hash ^= hash >>> 16;
  return ((hash >>> 0) / 0xffffffff) * 2 - 1;
}

/** Reads the text once, whatever the number of dimensions. */
function embed(text: string, dimensions: number): number[] {
  const textHash = hashText(text);
  const vector: number[] = [];
  let squares = 0;
  for (let dimension = 0; dimension < dimensions; dimension += 1) {
    const value = unitAt(textHash, dimension);
    vector.push(value);
    squares += value * value;
  }
  const norm = Math.sqrt(squares) || 1;
  return vector.map((value) => Math.round((value / norm) * 1e6) / 1e6);
}

function idFor(prefix: string, text: string): string {
  return `${prefix}-mock-${(unitAt(hashText(text), 0) * 1e9).toFixed(0).replace('-', 'n')}`;
}

/** Refuses a `max_tokens` the mock model could never honour, as OpenAI's models do. */
function checkMaxTokens(maxTokens: number | undefined): void {
  if (maxTokens !== undefined && maxTokens > MOCK_MAX_TOKENS) {
    throw new InvalidRequestError(
      400,
      `max_tokens is too large: ${maxTokens}. The mock model supports at most ${MOCK_MAX_TOKENS} completion tokens.`,
      'max_tokens',
    );
  }
}

/** Applies `max_tokens` (one token per word) and `stop`, as a real model would. */
function limitReply(text: string, request: { max_tokens?: number | undefined; stop?: string[] | undefined }) {
  checkMaxTokens(request.max_tokens);
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
    const { reply, finishReason } = limitReply(`This is a mock response to: ${echoed(prompt)}`, request);
    const promptTokens = request.messages.reduce((sum, message) => sum + countWords(messageText(message)), 0);
    return { id: idFor('chatcmpl', prompt), prompt, reply, finishReason, promptTokens };
  }

  #answerCompletion(request: CompletionsRequest) {
    rejectModelField(request);
    const { reply, finishReason } = limitReply(
      `This is a mock completion of: ${echoed(request.prompt)}`,
      request,
    );
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
