// Mistral AI REST API v1 (docs.mistral.ai/api): `POST /v1/chat/completions` (JSON, or SSE chunks
// ending in `data: [DONE]`) and `POST /v1/embeddings`, as MLflow's [2026] mistral provider calls it.
import { z } from 'zod';
import { secretSchema } from '../config/secrets.js';
import type { ChatChunk, ChatRequest, ChatResponse } from '../schemas/chat.js';
import type { CompletionsRequest, CompletionsResponse } from '../schemas/completions.js';
import type { EmbeddingsRequest, EmbeddingsResponse } from '../schemas/embeddings.js';
import { jsonHeaders, type UpstreamHeaders, type UpstreamTarget } from '../upstream/request.js';
import { apiBaseSchema, joinUrl } from '../upstream/url.js';
import {
  ProviderAdapter,
  mapSseJson,
  parseUpstreamBody,
  rejectModelField,
  requireModelName,
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
import {
  applyParameterRules,
  parameterTable,
  type ParameterRules,
  type ParameterTable,
} from './parameter-ranges.js';
import { nowSeconds } from './timestamps.js';

export const MISTRAL_API_BASE = 'https://api.mistral.ai/v1';
const DISPLAY_NAME = 'Mistral';

export const mistralConfigSchema = z.object({
  mistral_api_key: secretSchema,
  mistral_api_base: apiBaseSchema.default(MISTRAL_API_BASE),
});
export type MistralConfig = z.infer<typeof mistralConfigSchema>;

const MODEL_NAME_REQUIRED =
  'Mistral endpoints must name a model (model.name): the Mistral API requires one and clients may not send it.';

/**
 * Reference §3: MLflow treats Mistral's temperature range as 0–1 and halves the gateway's 0–2
 * for completions only (chat forwards it unchanged).
 */
const COMPLETIONS_TEMPERATURE_SCALE = 0.5;

/** Mistral's own name for OpenAI's `seed`. */
const RENAMES = { seed: 'random_seed' } as const satisfies Partial<Record<keyof ChatRequest, string>>;

/**
 * Where Mistral's spec (docs.mistral.ai/api) is narrower than OpenAI's: `random_seed` ≥ 0, and
 * chat's unscaled temperature at most 1.5. Nothing is clamped: a lower temperature or another
 * seed would change the answer. `top_p`, the penalties and `n` share OpenAI's ranges.
 */
const SEED_RULES = {
  seed: { kind: 'number', min: 0, max: Number.POSITIVE_INFINITY, isInteger: true },
} as const satisfies ParameterRules;
const CHAT_RULES = parameterTable('Mistral', {
  ...SEED_RULES,
  temperature: { kind: 'number', min: 0, max: 1.5 },
});
const COMPLETIONS_RULES = parameterTable('Mistral', SEED_RULES);

/** The checked parameters with `seed` under Mistral's name. */
function toParameters(request: Record<string, unknown>, table: ParameterTable): Record<string, unknown> {
  const { seed, ...rest } = applyParameterRules(request, table);
  return seed === undefined ? rest : { ...rest, [RENAMES.seed]: seed };
}

/** Reference §5: the configured model plus every client key (OpenAI's shape), `seed` renamed. */
function toMistralChatBody(request: ChatRequest, model: string, isStream = false): Record<string, unknown> {
  rejectModelField(request);
  const body: Record<string, unknown> = { model, ...toParameters(request, CHAT_RULES) };
  if (isStream) body.stream = true;
  return body;
}

/**
 * Reference §3: a completions request becomes a one-message chat. `stop` and `n` are dropped
 * silently, as MLflow does; every other key is forwarded.
 */
function toMistralCompletionsBody(request: CompletionsRequest, model: string): Record<string, unknown> {
  rejectModelField(request);
  const { prompt, temperature, stop: _stop, n: _n, ...rest } = request;
  return {
    model,
    ...toParameters(rest, COMPLETIONS_RULES),
    temperature: temperature * COMPLETIONS_TEMPERATURE_SCALE,
    messages: [{ role: 'user', content: prompt }],
  };
}

/** Reference §4: `input` and any extras (`output_dimension`, …) as sent. */
function toMistralEmbeddingsBody(request: EmbeddingsRequest, model: string): Record<string, unknown> {
  rejectModelField(request);
  return { model, ...request };
}

/**
 * Mistral's message content is a string or, for reasoning output, a list of chunks
 * (`{type: "thinking", …}`, `{type: "text", text}`); only text chunks reach the gateway.
 */
const contentSchema = z.union([
  z.string(),
  z.array(z.looseObject({ type: z.string(), text: z.string().optional() })),
]);
type MistralContent = z.infer<typeof contentSchema>;

const usageSchema = z.object({
  prompt_tokens: z.number().int(),
  completion_tokens: z.number().int(),
  total_tokens: z.number().int(),
});

const chatResponseSchema = z.object({
  id: z.string().nullish(),
  object: z.string().nullish(),
  created: z.number().int().nullish(),
  model: z.string().nullish(),
  choices: z.array(
    z.object({
      message: z.object({
        role: z.string().nullish(),
        content: contentSchema.nullish(),
        tool_calls: z.array(compatibleToolCallSchema).nullish(),
      }),
      finish_reason: z.string().nullish(),
    }),
  ),
  usage: usageSchema,
});

const embeddingsResponseSchema = z.object({
  data: z.array(z.object({ embedding: z.union([z.array(z.number()), z.string()]), index: z.number().int() })),
  usage: z.object({ prompt_tokens: z.number().int().nullable(), total_tokens: z.number().int().nullable() }),
});

const chatChunkSchema = z.object({
  id: z.string().nullish(),
  object: z.string().nullish(),
  created: z.number().int().nullish(),
  model: z.string().nullish(),
  choices: z.array(
    z.object({
      index: z.number().int(),
      finish_reason: z.string().nullish(),
      delta: z
        .object({
          role: z.string().nullish(),
          content: contentSchema.nullish(),
          tool_calls: z.array(compatibleToolCallSchema).nullish(),
        })
        .nullish(),
    }),
  ),
  usage: compatibleChunkUsageSchema,
});

/** A string as is; chunks → their text parts joined (null when there are none). */
function toText(content: MistralContent | null | undefined): string | null {
  if (content === null || content === undefined || typeof content === 'string') return content ?? null;
  const texts = content.flatMap((chunk) =>
    chunk.type === 'text' && chunk.text !== undefined ? [chunk.text] : [],
  );
  return texts.length === 0 ? null : texts.join('');
}

/** Reference §5: OpenAI's shape with Mistral's values; finish reasons pass through raw. */
function fromMistralChatResponse(json: unknown): ChatResponse {
  const body = parseUpstreamBody(chatResponseSchema, json, DISPLAY_NAME);
  return {
    id: body.id ?? null,
    object: body.object ?? 'chat.completion',
    created: body.created ?? nowSeconds(),
    model: body.model ?? null,
    choices: body.choices.map((choice, index) => ({
      index,
      message: {
        role: choice.message.role ?? 'assistant',
        content: toText(choice.message.content),
        tool_calls: toCompatibleToolCalls(choice.message.tool_calls),
        refusal: null,
      },
      finish_reason: choice.finish_reason ?? null,
    })),
    usage: body.usage,
  };
}

/** Reference §3: id null, the gateway's clock and the configured model, as MLflow answers. */
function fromMistralCompletionsResponse(json: unknown, modelName: string): CompletionsResponse {
  const body = parseUpstreamBody(chatResponseSchema, json, DISPLAY_NAME);
  return {
    id: null,
    object: 'text_completion',
    created: nowSeconds(),
    model: modelName,
    choices: body.choices.map((choice, index) => ({
      index,
      text: toText(choice.message.content) ?? '',
      finish_reason: choice.finish_reason ?? null,
    })),
    usage: body.usage,
  };
}

/** Reference §4: indexes from upstream, order kept; usage values may be null. */
function fromMistralEmbeddingsResponse(json: unknown, modelName: string): EmbeddingsResponse {
  const body = parseUpstreamBody(embeddingsResponseSchema, json, DISPLAY_NAME);
  return {
    object: 'list',
    data: body.data.map((item) => ({ object: 'embedding', embedding: item.embedding, index: item.index })),
    model: modelName,
    usage: { prompt_tokens: body.usage.prompt_tokens, total_tokens: body.usage.total_tokens },
  };
}

/** What a chat stream keeps between events: one timestamp for chunks that carry none. */
export interface MistralStreamState {
  readonly created: number;
}

function startMistralStream(): MistralStreamState {
  return { created: nowSeconds() };
}

/**
 * Reference §6: each chunk keeps Mistral's id, object, created, model and choice indexes. The
 * last chunk's `usage` is kept for the gateway's accounting (S9 dropped it; the client still
 * sees it only when it asks, server/access-hook.ts). A chunk without choices or usage is skipped.
 */
export function fromMistralChatEvent(json: unknown, state: MistralStreamState): ChatChunk | null {
  throwIfStreamError(json);
  const chunk = parseUpstreamBody(chatChunkSchema, json, DISPLAY_NAME);
  if (chunk.choices.length === 0 && !chunk.usage) return null;
  return {
    id: chunk.id ?? null,
    object: chunk.object ?? 'chat.completion.chunk',
    created: chunk.created ?? state.created,
    model: chunk.model ?? null,
    choices: chunk.choices.map((choice) => ({
      index: choice.index,
      finish_reason: choice.finish_reason ?? null,
      delta: {
        role: choice.delta?.role ?? null,
        content: toText(choice.delta?.content),
        tool_calls: toCompatibleToolCallDeltas(choice.delta?.tool_calls),
      },
    })),
    ...toCompatibleChunkUsage(chunk.usage),
  };
}

export class MistralAdapter extends ProviderAdapter<MistralConfig> {
  static readonly provider = 'mistral';
  static readonly displayName = DISPLAY_NAME;
  static readonly configSchema = mistralConfigSchema;
  static readonly supports = { chat: 'stream', completions: 'unary', embeddings: true } as const;

  /** The API requires `model`, and S3 forbids clients to send one, so the endpoint must. */
  static readonly checkEndpoint = requireModelName(MODEL_NAME_REQUIRED);

  readonly #headers: UpstreamHeaders;
  readonly #chatTarget: UpstreamTarget;
  readonly #embeddingsTarget: UpstreamTarget;
  readonly #model: string;

  constructor(init: AdapterInit<MistralConfig>) {
    super(init, DISPLAY_NAME);
    const { config, upstream } = init;
    this.#headers = jsonHeaders({ authorization: `Bearer ${config.mistral_api_key.reveal()}` });
    this.#chatTarget = upstream.target(joinUrl(config.mistral_api_base, 'chat/completions'));
    this.#embeddingsTarget = upstream.target(joinUrl(config.mistral_api_base, 'embeddings'));
    this.#model = init.modelName ?? '';
  }

  override async chat(request: ChatRequest, context: CallContext): Promise<ChatResponse> {
    const body = toMistralChatBody(request, this.#model);
    const json = await this.init.upstream.postJson(this.#chatTarget, this.#headers, body, context);
    return fromMistralChatResponse(json);
  }

  override async chatStream(request: ChatRequest, context: CallContext): Promise<AsyncIterable<ChatChunk>> {
    const body = toMistralChatBody(request, this.#model, true);
    const events = await this.init.upstream.postStream(this.#chatTarget, this.#headers, body, context.signal);
    const state = startMistralStream();
    return mapSseJson(events, DISPLAY_NAME, (json) => fromMistralChatEvent(json, state));
  }

  override async completions(
    request: CompletionsRequest,
    context: CallContext,
  ): Promise<CompletionsResponse> {
    const body = toMistralCompletionsBody(request, this.#model);
    const json = await this.init.upstream.postJson(this.#chatTarget, this.#headers, body, context);
    return fromMistralCompletionsResponse(json, this.#model);
  }

  override async embeddings(request: EmbeddingsRequest, context: CallContext): Promise<EmbeddingsResponse> {
    const body = toMistralEmbeddingsBody(request, this.#model);
    const json = await this.init.upstream.postJson(this.#embeddingsTarget, this.#headers, body, context);
    return fromMistralEmbeddingsResponse(json, this.#model);
  }
}
