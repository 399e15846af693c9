// Google PaLM API v1beta3 on the Generative Language API: models.generateMessage (chat),
// models.generateText (completions) and models.batchEmbedText, as MLflow's palm provider calls it.
import { z } from 'zod';
import { secretSchema } from '../config/secrets.js';
import { InvalidRequestError } from '../errors.js';
import type { ChatMessage, ChatRequest, ChatResponse } from '../schemas/chat.js';
import type { CompletionsRequest, CompletionsResponse } from '../schemas/completions.js';
import type { EmbeddingsRequest, EmbeddingsResponse } from '../schemas/embeddings.js';
import { jsonHeaders, type UpstreamHeaders, type UpstreamTarget } from '../upstream/request.js';
import { apiBaseSchema, joinUrl } from '../upstream/url.js';
import {
  ProviderAdapter,
  parseUpstreamBody,
  rejectModelField,
  requireModelName,
  type AdapterInit,
  type CallContext,
} from './base.js';
import { joinTextParts } from './message-text.js';
import { renameFields } from './renames.js';
import { nowSeconds } from './timestamps.js';

/** Google shut the PaLM methods down; the base is configurable for compatible servers. */
export const PALM_API_BASE = 'https://generativelanguage.googleapis.com';
const PALM_API_VERSION = 'v1beta3';
const DISPLAY_NAME = 'PaLM';

export const palmConfigSchema = z.object({
  palm_api_key: secretSchema,
  palm_api_base: apiBaseSchema.default(PALM_API_BASE),
});
export type PalmConfig = z.infer<typeof palmConfigSchema>;

const MODEL_NAME_REQUIRED =
  'PaLM endpoints must name a model (model.name): the PaLM API takes it in the URL and clients may not send one.';

const MAX_TOKENS_IN_CHAT = 'Max tokens is not supported for PaLM chat.';

/** Reference §2: PaLM's temperature runs 0–1, the gateway's 0–2. */
const TEMPERATURE_SCALE = 0.5;

const CHAT_RENAMES = { stop: 'stopSequences', n: 'candidateCount' } as const satisfies Partial<
  Record<keyof ChatRequest, string>
>;

const COMPLETIONS_RENAMES = {
  stop: 'stopSequences',
  n: 'candidateCount',
  max_tokens: 'maxOutputTokens',
} as const satisfies Partial<Record<keyof CompletionsRequest, string>>;

const EMBEDDINGS_RENAMES = { input: 'texts' } as const satisfies Partial<
  Record<keyof EmbeddingsRequest, string>
>;

/**
 * Reference §3 step 5: `role` becomes `author` with its value unchanged, other message keys
 * stay. PaLM's content is a string, so text parts are joined.
 */
function toPalmMessage(message: ChatMessage, index: number): Record<string, unknown> {
  const { role, content, ...rest } = message;
  if (content === undefined) return { ...rest, author: role };
  const text =
    typeof content === 'string' ? content : joinTextParts(content, `messages.${index}.content`, DISPLAY_NAME);
  return { content: text, ...rest, author: role };
}

/** Reference §3: the messages (plus PaLM's `examples` and `context`) go into `prompt`. */
export function toPalmChatBody(request: ChatRequest): Record<string, unknown> {
  rejectModelField(request);
  if (request.max_tokens !== undefined || request.maxOutputTokens !== undefined) {
    throw new InvalidRequestError(422, MAX_TOKENS_IN_CHAT, 'max_tokens');
  }
  const { messages, temperature, examples, context, ...rest } = request;
  const prompt: Record<string, unknown> = { messages: messages.map(toPalmMessage) };
  if (examples !== undefined) prompt.examples = examples;
  if (context !== undefined) prompt.context = context;
  return { ...renameFields(rest, CHAT_RENAMES), temperature: temperature * TEMPERATURE_SCALE, prompt };
}

/** Reference §4: the prompt as `{text}`, PaLM's parameter names, temperature halved. */
export function toPalmCompletionsBody(request: CompletionsRequest): Record<string, unknown> {
  rejectModelField(request);
  const { prompt, temperature, ...rest } = request;
  return {
    ...renameFields(rest, COMPLETIONS_RENAMES),
    temperature: temperature * TEMPERATURE_SCALE,
    prompt: { text: prompt },
  };
}

/** Reference §5: `input` is `texts`; batchEmbedText takes a list, so one string is wrapped. */
export function toPalmEmbeddingsBody(request: EmbeddingsRequest): Record<string, unknown> {
  rejectModelField(request);
  const body = renameFields(request, EMBEDDINGS_RENAMES);
  if (typeof body.texts === 'string') body.texts = [body.texts];
  return body;
}

// proto3 JSON leaves an empty list out, and PaLM answers a blocked prompt with `filters` and no
// candidates: that is zero choices, not a malformed body.
const messageResponseSchema = z.object({
  candidates: z.array(z.object({ author: z.string(), content: z.string() })).default([]),
});

const textResponseSchema = z.object({
  candidates: z.array(z.object({ output: z.string() })).default([]),
});

const embeddingsResponseSchema = z.object({
  embeddings: z.array(z.object({ value: z.array(z.number()) })),
});

/** Reference §3: the role is PaLM's raw author (`"1"`), id null, the configured model. */
export function fromPalmChatResponse(json: unknown, modelName: string): ChatResponse {
  const body = parseUpstreamBody(messageResponseSchema, json, DISPLAY_NAME);
  return {
    id: null,
    object: 'chat.completion',
    created: nowSeconds(),
    model: modelName,
    choices: body.candidates.map((candidate, index) => ({
      index,
      message: { role: candidate.author, content: candidate.content, tool_calls: null, refusal: null },
      finish_reason: null,
    })),
    usage: { prompt_tokens: null, completion_tokens: null, total_tokens: null },
  };
}

export function fromPalmCompletionsResponse(json: unknown, modelName: string): CompletionsResponse {
  const body = parseUpstreamBody(textResponseSchema, json, DISPLAY_NAME);
  return {
    id: null,
    object: 'text_completion',
    created: nowSeconds(),
    model: modelName,
    choices: body.candidates.map((candidate, index) => ({
      index,
      text: candidate.output,
      finish_reason: null,
    })),
    usage: { prompt_tokens: null, completion_tokens: null, total_tokens: null },
  };
}

export function fromPalmEmbeddingsResponse(json: unknown, modelName: string): EmbeddingsResponse {
  const body = parseUpstreamBody(embeddingsResponseSchema, json, DISPLAY_NAME);
  return {
    object: 'list',
    data: body.embeddings.map((embedding, index) => ({
      object: 'embedding',
      embedding: embedding.value,
      index,
    })),
    model: modelName,
    usage: { prompt_tokens: null, total_tokens: null },
  };
}

export class PalmAdapter extends ProviderAdapter<PalmConfig> {
  static readonly provider = 'palm';
  static readonly displayName = DISPLAY_NAME;
  static readonly configSchema = palmConfigSchema;
  static readonly supports = { chat: 'unary', completions: 'unary', embeddings: true } as const;

  /** The model is part of every PaLM URL, and S3 forbids clients to send one. */
  static readonly checkEndpoint = requireModelName(MODEL_NAME_REQUIRED);

  readonly #headers: UpstreamHeaders;
  readonly #chatTarget: UpstreamTarget;
  readonly #completionsTarget: UpstreamTarget;
  readonly #embeddingsTarget: UpstreamTarget;
  readonly #model: string;

  constructor(init: AdapterInit<PalmConfig>) {
    super(init, DISPLAY_NAME);
    const { config, upstream } = init;
    this.#model = init.modelName ?? '';
    // Reference §2: the key goes in a header, never in the `?key=` query Google also accepts.
    this.#headers = jsonHeaders({ 'x-goog-api-key': config.palm_api_key.reveal() });
    const model = `${PALM_API_VERSION}/models/${encodeURIComponent(this.#model)}`;
    this.#chatTarget = upstream.target(joinUrl(config.palm_api_base, `${model}:generateMessage`));
    this.#completionsTarget = upstream.target(joinUrl(config.palm_api_base, `${model}:generateText`));
    this.#embeddingsTarget = upstream.target(joinUrl(config.palm_api_base, `${model}:batchEmbedText`));
  }

  #post(target: UpstreamTarget, body: unknown, context: CallContext): Promise<unknown> {
    return this.init.upstream.postJson(target, this.#headers, body, context);
  }

  override async chat(request: ChatRequest, context: CallContext): Promise<ChatResponse> {
    const json = await this.#post(this.#chatTarget, toPalmChatBody(request), context);
    return fromPalmChatResponse(json, this.#model);
  }

  override async completions(
    request: CompletionsRequest,
    context: CallContext,
  ): Promise<CompletionsResponse> {
    const json = await this.#post(this.#completionsTarget, toPalmCompletionsBody(request), context);
    return fromPalmCompletionsResponse(json, this.#model);
  }

  override async embeddings(request: EmbeddingsRequest, context: CallContext): Promise<EmbeddingsResponse> {
    const json = await this.#post(this.#embeddingsTarget, toPalmEmbeddingsBody(request), context);
    return fromPalmEmbeddingsResponse(json, this.#model);
  }
}
