// Cohere API v2: Chat `POST /v2/chat` (SSE stream of typed events when `stream` is true) and
// Embed `POST /v2/embed`, in place of MLflow's v1 chat/generate/embed calls (reference cohere.md §11).
import { z } from 'zod';
import { secretSchema } from '../../config/secrets.js';
import type { ChatChunk, ChatRequest, ChatResponse } from '../../schemas/chat.js';
import type { CompletionsChunk, CompletionsRequest, CompletionsResponse } from '../../schemas/completions.js';
import type { EmbeddingsRequest, EmbeddingsResponse } from '../../schemas/embeddings.js';
import { jsonHeaders, type UpstreamHeaders, type UpstreamTarget } from '../../upstream/request.js';
import { apiBaseSchema, joinUrl } from '../../upstream/url.js';
import {
  ProviderAdapter,
  mapSseJson,
  rejectModelField,
  requireModelName,
  type AdapterInit,
  type CallContext,
} from '../base.js';
import {
  toCohereChatBody,
  toCohereCompletionsBody,
  toCohereEmbeddingsBody,
  type CohereBody,
} from './request.js';
import {
  DISPLAY_NAME,
  fromCohereChatResponse,
  fromCohereCompletionsResponse,
  fromCohereEmbeddingsResponse,
} from './response.js';
import {
  fromCohereChatEvent,
  fromCohereCompletionsEvent,
  newCohereStreamState,
  type StreamMapper,
} from './stream.js';

export const COHERE_API_BASE = 'https://api.cohere.com';
const CHAT_PATH = 'v2/chat';
const EMBED_PATH = 'v2/embed';

export const cohereConfigSchema = z.object({
  cohere_api_key: secretSchema,
  cohere_api_base: apiBaseSchema.default(COHERE_API_BASE),
});
export type CohereConfig = z.infer<typeof cohereConfigSchema>;

const MODEL_REQUIRED = 'Cohere endpoints must name a model: the Cohere API requires one.';

export class CohereAdapter extends ProviderAdapter<CohereConfig> {
  static readonly provider = 'cohere';
  static readonly displayName = DISPLAY_NAME;
  static readonly configSchema = cohereConfigSchema;
  static readonly supports = { chat: 'stream', completions: 'stream', embeddings: true } as const;

  /** MLflow sent `"model": null` for an endpoint without a model name; Cohere rejects every such call. */
  static readonly checkEndpoint = requireModelName(MODEL_REQUIRED);

  readonly #headers: UpstreamHeaders;
  readonly #chatTarget: UpstreamTarget;
  readonly #embedTarget: UpstreamTarget;
  readonly #model: string | null;

  constructor(init: AdapterInit<CohereConfig>) {
    super(init, DISPLAY_NAME);
    const { config, upstream } = init;
    this.#headers = jsonHeaders({ authorization: `Bearer ${config.cohere_api_key.reveal()}` });
    this.#chatTarget = upstream.target(joinUrl(config.cohere_api_base, CHAT_PATH));
    this.#embedTarget = upstream.target(joinUrl(config.cohere_api_base, EMBED_PATH));
    this.#model = init.modelName;
  }

  #post(target: UpstreamTarget, body: CohereBody, context: CallContext): Promise<unknown> {
    return this.init.upstream.postJson(target, this.#headers, body, context);
  }

  async #stream<T>(body: CohereBody, context: CallContext, map: StreamMapper<T>): Promise<AsyncIterable<T>> {
    const streamBody = { ...body, stream: true };
    const events = await this.init.upstream.postStream(
      this.#chatTarget,
      this.#headers,
      streamBody,
      context.signal,
    );
    const state = newCohereStreamState(this.#model);
    return mapSseJson(events, DISPLAY_NAME, (json) => map(json, state));
  }

  override async chat(request: ChatRequest, context: CallContext): Promise<ChatResponse> {
    rejectModelField(request);
    const json = await this.#post(this.#chatTarget, toCohereChatBody(request, this.#model), context);
    return fromCohereChatResponse(json, this.#model);
  }

  override chatStream(request: ChatRequest, context: CallContext): Promise<AsyncIterable<ChatChunk>> {
    rejectModelField(request);
    return this.#stream(toCohereChatBody(request, this.#model), context, fromCohereChatEvent);
  }

  override async completions(
    request: CompletionsRequest,
    context: CallContext,
  ): Promise<CompletionsResponse> {
    rejectModelField(request);
    const json = await this.#post(this.#chatTarget, toCohereCompletionsBody(request, this.#model), context);
    return fromCohereCompletionsResponse(json, this.#model);
  }

  override completionsStream(
    request: CompletionsRequest,
    context: CallContext,
  ): Promise<AsyncIterable<CompletionsChunk>> {
    rejectModelField(request);
    return this.#stream(toCohereCompletionsBody(request, this.#model), context, fromCohereCompletionsEvent);
  }

  override async embeddings(request: EmbeddingsRequest, context: CallContext): Promise<EmbeddingsResponse> {
    rejectModelField(request);
    const call = toCohereEmbeddingsBody(request, this.#model);
    const json = await this.#post(this.#embedTarget, call.body, context);
    return fromCohereEmbeddingsResponse(json, this.#model, call);
  }
}
