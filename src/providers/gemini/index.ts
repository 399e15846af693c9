// Gemini API v1beta (generativelanguage.googleapis.com): `models/{model}:generateContent`,
// `:streamGenerateContent?alt=sse`, `:embedContent` and `:batchEmbedContents`, key in `x-goog-api-key`.
import { z } from 'zod';
import { secretSchema } from '../../config/secrets.js';
import type { ChatChunk, ChatRequest, ChatResponse } from '../../schemas/chat.js';
import type { CompletionsChunk, CompletionsRequest, CompletionsResponse } from '../../schemas/completions.js';
import type { EmbeddingsRequest, EmbeddingsResponse } from '../../schemas/embeddings.js';
import { jsonHeaders, type UpstreamHeaders, type UpstreamTarget } from '../../upstream/request.js';
import { apiBaseSchema, joinUrl } from '../../upstream/url.js';
import type { NativeRelay } from '../openai.js';
import {
  ProviderAdapter,
  mapSseJson,
  rejectModelField,
  requireModelName,
  type AdapterInit,
  type CallContext,
} from '../base.js';
import {
  toGeminiChatBody,
  toGeminiCompletionsBody,
  toGeminiEmbeddingsCall,
  toModelId,
  type GeminiBody,
} from './request.js';
import {
  DISPLAY_NAME,
  fromGeminiChatResponse,
  fromGeminiCompletionsResponse,
  fromGeminiEmbeddingsResponse,
} from './response.js';
import {
  fromGeminiChatEvent,
  fromGeminiCompletionsEvent,
  newGeminiStreamState,
  type GeminiStreamMapper,
} from './stream.js';

export const GEMINI_API_BASE = 'https://generativelanguage.googleapis.com';
export const GEMINI_API_VERSION = 'v1beta';
/** Without `alt=sse` Google streams one JSON array; with it, one SSE event per response chunk. */
const SSE_QUERY = { alt: 'sse' };

export const geminiConfigSchema = z.object({
  gemini_api_key: secretSchema,
  gemini_api_base: apiBaseSchema.default(GEMINI_API_BASE),
});
export type GeminiConfig = z.infer<typeof geminiConfigSchema>;

const MODEL_REQUIRED = 'Gemini endpoints must name a model: the Gemini API requires one.';

interface GeminiTargets {
  generate: UpstreamTarget;
  stream: UpstreamTarget;
  embed: UpstreamTarget;
  batchEmbed: UpstreamTarget;
}

export class GeminiAdapter extends ProviderAdapter<GeminiConfig> {
  static readonly provider = 'gemini';
  static readonly displayName = DISPLAY_NAME;
  static readonly configSchema = geminiConfigSchema;
  static readonly supports = { chat: 'stream', completions: 'stream', embeddings: true } as const;

  /** The model is part of every Gemini URL. */
  static readonly checkEndpoint = requireModelName(MODEL_REQUIRED);

  readonly #headers: UpstreamHeaders;
  readonly #targets: GeminiTargets;
  readonly #model: string;
  readonly #modelId: string;

  constructor(init: AdapterInit<GeminiConfig>) {
    super(init, DISPLAY_NAME);
    const { config, upstream } = init;
    // The key travels in a header only, so it never appears in a URL or a log of one.
    this.#headers = jsonHeaders({ 'x-goog-api-key': config.gemini_api_key.reveal() });
    this.#model = init.modelName ?? '';
    this.#modelId = toModelId(this.#model);
    const path = `${GEMINI_API_VERSION}/models/${encodeURIComponent(this.#modelId)}`;
    const target = (method: string, query?: Record<string, string>): UpstreamTarget =>
      upstream.target(joinUrl(config.gemini_api_base, `${path}:${method}`, query));
    this.#targets = {
      generate: target('generateContent'),
      stream: target('streamGenerateContent', SSE_QUERY),
      embed: target('embedContent'),
      batchEmbed: target('batchEmbedContents'),
    };
  }

  /** The configured model's generateContent (or its SSE stream), for the Gemini ingress's passthrough. */
  generateContentRelay(stream: boolean): NativeRelay {
    const target = stream ? this.#targets.stream : this.#targets.generate;
    return { upstream: this.init.upstream, target, headers: this.#headers, model: this.#model };
  }

  #post(target: UpstreamTarget, body: GeminiBody, context: CallContext): Promise<unknown> {
    return this.init.upstream.postJson(target, this.#headers, body, context);
  }

  async #stream<T>(
    body: GeminiBody,
    context: CallContext,
    map: GeminiStreamMapper<T>,
  ): Promise<AsyncIterable<T>> {
    const events = await this.init.upstream.postStream(
      this.#targets.stream,
      this.#headers,
      body,
      context.signal,
    );
    const state = newGeminiStreamState(this.#model);
    return mapSseJson(events, DISPLAY_NAME, (json) => map(json, state));
  }

  override async chat(request: ChatRequest, context: CallContext): Promise<ChatResponse> {
    rejectModelField(request);
    const json = await this.#post(this.#targets.generate, toGeminiChatBody(request), context);
    return fromGeminiChatResponse(json, this.#model);
  }

  override chatStream(request: ChatRequest, context: CallContext): Promise<AsyncIterable<ChatChunk>> {
    rejectModelField(request);
    return this.#stream(toGeminiChatBody(request), context, fromGeminiChatEvent);
  }

  override async completions(
    request: CompletionsRequest,
    context: CallContext,
  ): Promise<CompletionsResponse> {
    rejectModelField(request);
    const json = await this.#post(this.#targets.generate, toGeminiCompletionsBody(request), context);
    return fromGeminiCompletionsResponse(json, this.#model);
  }

  override completionsStream(
    request: CompletionsRequest,
    context: CallContext,
  ): Promise<AsyncIterable<CompletionsChunk>> {
    rejectModelField(request);
    return this.#stream(toGeminiCompletionsBody(request), context, fromGeminiCompletionsEvent);
  }

  override async embeddings(request: EmbeddingsRequest, context: CallContext): Promise<EmbeddingsResponse> {
    rejectModelField(request);
    const call = toGeminiEmbeddingsCall(request, this.#modelId);
    const target = call.isBatch ? this.#targets.batchEmbed : this.#targets.embed;
    const json = await this.#post(target, call.body, context);
    return fromGeminiEmbeddingsResponse(json, this.#model, call);
  }
}
