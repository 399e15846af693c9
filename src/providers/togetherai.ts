// Together AI inference REST API v1 (OpenAI-compatible `/v1/chat/completions`, `/v1/completions`,
// `/v1/embeddings`, SSE streams ending in `data: [DONE]`), as MLflow's togetherai provider calls it.
import { z } from 'zod';
import { secretSchema } from '../config/secrets.js';
import { InvalidRequestError } from '../errors.js';
import type { ChatChunk, ChatRequest, ChatResponse } from '../schemas/chat.js';
import type { CompletionsChunk, CompletionsRequest, CompletionsResponse } from '../schemas/completions.js';
import type { EmbeddingsRequest, EmbeddingsResponse } from '../schemas/embeddings.js';
import { jsonHeaders, type UpstreamHeaders, type UpstreamTarget } from '../upstream/request.js';
import { apiBaseSchema, joinUrl } from '../upstream/url.js';
import {
  ProviderAdapter,
  mapSseJson,
  parseUpstreamBody,
  throwIfStreamError,
  type AdapterInit,
  type CallContext,
} from './base.js';
import {
  compatibleToolCallSchema,
  toCompatibleToolCallDeltas,
  toCompatibleToolCalls,
  compatibleChunkUsageSchema,
  toCompatibleChunkUsage,
} from './openai-compatible.js';
import { nowSeconds } from './timestamps.js';

const TOGETHERAI_API_BASE = 'https://api.together.xyz/v1';
const DISPLAY_NAME = 'TogetherAI';

export const togetherAiConfigSchema = z.object({
  togetherai_api_key: secretSchema,
  togetherai_api_base: apiBaseSchema.default(TOGETHERAI_API_BASE),
});
export type TogetherAiConfig = z.infer<typeof togetherAiConfigSchema>;

/** The configured model, or nothing when the endpoint names none (the client must then send one). */
type ModelField = Readonly<{ model?: string }>;

// Reference §3: the texts are MLflow's, typos and the missing space included.
const MAX_TOKENS_REQUIRED =
  'max_tokens is not present in payload.It is a required parameter for TogetherAI completions.';
const LOGPROBS_TYPE = 'Wrong type for logprobs. It should be an 32bit integer.';
const TOP_LOGPROBS_TYPE = 'Wrong type for top_logprobs. It should a 32bit integer.';

/** Reference §3.4: OpenAI's `top_logprobs` is Together's `logprobs` (a count of top tokens). */
const RENAMES = { top_logprobs: 'logprobs' } as const satisfies Partial<Record<keyof ChatRequest, string>>;

/**
 * Together reports `eos` where OpenAI clients expect `stop`; every other reason (`stop`,
 * `length`, `tool_calls`, `function_call`) is already OpenAI's.
 */
const FINISH_REASONS: Readonly<Partial<Record<string, string>>> = { eos: 'stop' };

function toFinishReason(reason: string | null | undefined): string | null {
  if (reason === null || reason === undefined) return null;
  return FINISH_REASONS[reason] ?? reason;
}

/** MLflow checks Python's `isinstance(value, int)`, which booleans pass (S10). */
function checkInteger(value: unknown, field: string, message: string): void {
  if (value === undefined || value === null) return;
  if (typeof value === 'boolean' || Number.isInteger(value)) return;
  throw new InvalidRequestError(422, message, field);
}

function toGenerationBody(
  request: ChatRequest | CompletionsRequest,
  model: ModelField,
  isStream: boolean,
): Record<string, unknown> {
  checkInteger(request.logprobs, 'logprobs', LOGPROBS_TYPE);
  checkInteger(request.top_logprobs, 'top_logprobs', TOP_LOGPROBS_TYPE);
  // Reference §3.5: client keys win over the configured model (Together does not check `model`).
  const { top_logprobs: topLogprobs, ...rest } = request;
  const body: Record<string, unknown> = { ...model, ...rest };
  if (topLogprobs !== undefined) body[RENAMES.top_logprobs] = topLogprobs;
  if (isStream) body.stream = true;
  return body;
}

function toTogetherAiChatBody(
  request: ChatRequest,
  model: ModelField,
  isStream = false,
): Record<string, unknown> {
  return toGenerationBody(request, model, isStream);
}

function toTogetherAiCompletionsBody(
  request: CompletionsRequest,
  model: ModelField,
  isStream = false,
): Record<string, unknown> {
  // Python truthiness (S10); the gateway schema already rejects 0, so this is "absent".
  if (!request.max_tokens) throw new InvalidRequestError(422, MAX_TOKENS_REQUIRED, 'max_tokens');
  return toGenerationBody(request, model, isStream);
}

/** Reference §6 bug fix: MLflow sent no model at all unless the client named one. */
function toTogetherAiEmbeddingsBody(request: EmbeddingsRequest, model: ModelField): object {
  return request.model === undefined ? { ...model, ...request } : request;
}

const usageSchema = z.object({
  prompt_tokens: z.number().int(),
  completion_tokens: z.number().int(),
  total_tokens: z.number().int(),
});

const chatResponseSchema = z.object({
  id: z.string().nullish(),
  created: z.number().int().nullish(),
  choices: z.array(
    z.object({
      message: z.object({
        content: z.string().nullish(),
        tool_calls: z.array(compatibleToolCallSchema).nullish(),
      }),
      finish_reason: z.string().nullish(),
    }),
  ),
  usage: usageSchema,
});

const completionsResponseSchema = z.object({
  id: z.string().nullish(),
  created: z.number().int().nullish(),
  choices: z.array(z.object({ text: z.string(), finish_reason: z.string().nullish() })),
  usage: usageSchema,
});

const embeddingsResponseSchema = z.object({
  data: z.array(z.object({ embedding: z.array(z.number()), index: z.number().int() })),
});

/** Chat and completions chunks alike: Together puts the new text in `text` and `delta.content`. */
const chunkSchema = z.object({
  id: z.string().nullish(),
  created: z.number().int().nullish(),
  choices: z.array(
    z.object({
      index: z.number().int().nullish(),
      text: z.string().nullish(),
      finish_reason: z.string().nullish(),
      delta: z
        .object({ content: z.string().nullish(), tool_calls: z.array(compatibleToolCallSchema).nullish() })
        .nullish(),
    }),
  ),
  usage: compatibleChunkUsageSchema,
});

/** Together sends `tool_calls: []` on plain answers; the gateway reports no tool calls as null. */
function nonEmpty<T>(items: T[] | null | undefined): T[] | null {
  return items && items.length > 0 ? items : null;
}

/** Reference §4, except that `finish_reason` and `tool_calls` are kept (README: provider notes). */
function fromTogetherAiChatResponse(json: unknown, modelName: string | null): ChatResponse {
  const body = parseUpstreamBody(chatResponseSchema, json, DISPLAY_NAME);
  return {
    id: body.id ?? null,
    object: 'chat.completion',
    created: body.created ?? nowSeconds(),
    model: modelName,
    choices: body.choices.map((choice, index) => ({
      index,
      message: {
        role: 'assistant',
        content: choice.message.content ?? null,
        tool_calls: toCompatibleToolCalls(nonEmpty(choice.message.tool_calls)),
        refusal: null,
      },
      finish_reason: toFinishReason(choice.finish_reason),
    })),
    usage: body.usage,
  };
}

/** Reference §5, except that `finish_reason` is kept. */
function fromTogetherAiCompletionsResponse(json: unknown, modelName: string | null): CompletionsResponse {
  const body = parseUpstreamBody(completionsResponseSchema, json, DISPLAY_NAME);
  return {
    id: body.id ?? null,
    object: 'text_completion',
    created: body.created ?? nowSeconds(),
    model: modelName,
    choices: body.choices.map((choice, index) => ({
      index,
      text: choice.text,
      finish_reason: toFinishReason(choice.finish_reason),
    })),
    usage: body.usage,
  };
}

/** Reference §6: Together reports no token usage for embeddings. */
function fromTogetherAiEmbeddingsResponse(json: unknown, modelName: string | null): EmbeddingsResponse {
  const body = parseUpstreamBody(embeddingsResponseSchema, json, DISPLAY_NAME);
  return {
    object: 'list',
    data: body.data.map((item) => ({ object: 'embedding', embedding: item.embedding, index: item.index })),
    model: modelName,
    usage: { prompt_tokens: null, total_tokens: null },
  };
}

/**
 * Reference §7. Each choice keeps Together's `index`, so that `n` > 1 streams stay apart. The
 * last chunk's `usage` is kept for the gateway's accounting (S9 dropped it; the client sees it
 * only when it asks, server/access-hook.ts); a chunk with neither choices nor usage is skipped.
 */
export function fromTogetherAiChatEvent(json: unknown, modelName: string | null): ChatChunk | null {
  throwIfStreamError(json);
  const chunk = parseUpstreamBody(chunkSchema, json, DISPLAY_NAME);
  if (chunk.choices.length === 0 && !chunk.usage) return null;
  return {
    id: chunk.id ?? null,
    object: 'chat.completion.chunk',
    created: chunk.created ?? nowSeconds(),
    model: modelName,
    choices: chunk.choices.map((choice, position) => ({
      index: choice.index ?? position,
      finish_reason: toFinishReason(choice.finish_reason),
      delta: {
        role: null,
        content: choice.text ?? choice.delta?.content ?? null,
        tool_calls: toCompatibleToolCallDeltas(nonEmpty(choice.delta?.tool_calls)),
      },
    })),
    ...toCompatibleChunkUsage(chunk.usage),
  };
}

export function fromTogetherAiCompletionsEvent(
  json: unknown,
  modelName: string | null,
): CompletionsChunk | null {
  throwIfStreamError(json);
  const chunk = parseUpstreamBody(chunkSchema, json, DISPLAY_NAME);
  if (chunk.choices.length === 0 && !chunk.usage) return null;
  return {
    id: chunk.id ?? null,
    object: 'text_completion_chunk',
    created: chunk.created ?? nowSeconds(),
    model: modelName,
    choices: chunk.choices.map((choice, position) => ({
      index: choice.index ?? position,
      finish_reason: toFinishReason(choice.finish_reason),
      text: choice.text ?? choice.delta?.content ?? null,
    })),
    ...toCompatibleChunkUsage(chunk.usage),
  };
}

export class TogetherAiAdapter extends ProviderAdapter<TogetherAiConfig> {
  static readonly provider = 'togetherai';
  static readonly displayName = DISPLAY_NAME;
  static readonly configSchema = togetherAiConfigSchema;
  static readonly supports = { chat: 'stream', completions: 'stream', embeddings: true } as const;

  readonly #headers: UpstreamHeaders;
  readonly #chatTarget: UpstreamTarget;
  readonly #completionsTarget: UpstreamTarget;
  readonly #embeddingsTarget: UpstreamTarget;
  readonly #model: ModelField;
  readonly #modelName: string | null;

  constructor(init: AdapterInit<TogetherAiConfig>) {
    super(init, DISPLAY_NAME);
    const { config, upstream, modelName } = init;
    const base = config.togetherai_api_base;
    this.#headers = jsonHeaders({ authorization: `Bearer ${config.togetherai_api_key.reveal()}` });
    this.#chatTarget = upstream.target(joinUrl(base, 'chat/completions'));
    this.#completionsTarget = upstream.target(joinUrl(base, 'completions'));
    this.#embeddingsTarget = upstream.target(joinUrl(base, 'embeddings'));
    this.#model = Object.freeze(modelName === null ? {} : { model: modelName });
    this.#modelName = modelName;
  }

  override async chat(request: ChatRequest, context: CallContext): Promise<ChatResponse> {
    const body = toTogetherAiChatBody(request, this.#model);
    const json = await this.init.upstream.postJson(this.#chatTarget, this.#headers, body, context);
    return fromTogetherAiChatResponse(json, this.#modelName);
  }

  override async chatStream(request: ChatRequest, context: CallContext): Promise<AsyncIterable<ChatChunk>> {
    const body = toTogetherAiChatBody(request, this.#model, true);
    const events = await this.init.upstream.postStream(this.#chatTarget, this.#headers, body, context.signal);
    return mapSseJson(events, DISPLAY_NAME, (json) => fromTogetherAiChatEvent(json, this.#modelName));
  }

  override async completions(
    request: CompletionsRequest,
    context: CallContext,
  ): Promise<CompletionsResponse> {
    const body = toTogetherAiCompletionsBody(request, this.#model);
    const json = await this.init.upstream.postJson(this.#completionsTarget, this.#headers, body, context);
    return fromTogetherAiCompletionsResponse(json, this.#modelName);
  }

  override async completionsStream(
    request: CompletionsRequest,
    context: CallContext,
  ): Promise<AsyncIterable<CompletionsChunk>> {
    const body = toTogetherAiCompletionsBody(request, this.#model, true);
    const events = await this.init.upstream.postStream(
      this.#completionsTarget,
      this.#headers,
      body,
      context.signal,
    );
    return mapSseJson(events, DISPLAY_NAME, (json) => fromTogetherAiCompletionsEvent(json, this.#modelName));
  }

  override async embeddings(request: EmbeddingsRequest, context: CallContext): Promise<EmbeddingsResponse> {
    const body = toTogetherAiEmbeddingsBody(request, this.#model);
    const json = await this.init.upstream.postJson(this.#embeddingsTarget, this.#headers, body, context);
    return fromTogetherAiEmbeddingsResponse(json, this.#modelName);
  }
}
