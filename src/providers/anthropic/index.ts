// Anthropic Messages API (`POST /v1/messages`, `anthropic-version: 2023-06-01`, SSE when streaming) for
// chat and completions; completions leave MLflow's retired `/v1/complete` (reference anthropic.md §7).
import { z } from 'zod';
import { secretSchema } from '../../config/secrets.js';
import type { ChatChunk, ChatRequest, ChatResponse } from '../../schemas/chat.js';
import type { CompletionsRequest, CompletionsResponse } from '../../schemas/completions.js';
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
import { toAnthropicChatBody, toAnthropicCompletionsBody, type AnthropicBody } from './request.js';
import { DISPLAY_NAME, fromAnthropicChatResponse, fromAnthropicCompletionsResponse } from './response.js';
import { fromAnthropicChatEvent, newAnthropicStreamState } from './stream.js';

export const ANTHROPIC_API_BASE = 'https://api.anthropic.com/v1';
const ANTHROPIC_VERSION = '2023-06-01';
const MESSAGES_PATH = 'messages';

export const anthropicConfigSchema = z.object({
  anthropic_api_key: secretSchema,
  anthropic_version: z.string().default(ANTHROPIC_VERSION),
  anthropic_api_base: apiBaseSchema.default(ANTHROPIC_API_BASE),
});
export type AnthropicConfig = z.infer<typeof anthropicConfigSchema>;

const MODEL_REQUIRED = 'Anthropic endpoints must name a model: the Anthropic API requires one.';

export class AnthropicAdapter extends ProviderAdapter<AnthropicConfig> {
  static readonly provider = 'anthropic';
  static readonly displayName = DISPLAY_NAME;
  static readonly configSchema = anthropicConfigSchema;
  static readonly supports = { chat: 'stream', completions: 'unary' } as const;

  /** MLflow sent `"model": null` for an endpoint without a model name; Anthropic rejects every such call. */
  static readonly checkEndpoint = requireModelName(MODEL_REQUIRED);

  readonly #headers: UpstreamHeaders;
  readonly #messagesTarget: UpstreamTarget;
  readonly #model: string | null;

  constructor(init: AdapterInit<AnthropicConfig>) {
    super(init, DISPLAY_NAME);
    const { config, upstream } = init;
    this.#headers = jsonHeaders({
      'x-api-key': config.anthropic_api_key.reveal(),
      'anthropic-version': config.anthropic_version,
    });
    this.#messagesTarget = upstream.target(joinUrl(config.anthropic_api_base, MESSAGES_PATH));
    this.#model = init.modelName;
  }

  #post(body: AnthropicBody, context: CallContext): Promise<unknown> {
    return this.init.upstream.postJson(this.#messagesTarget, this.#headers, body, context.signal);
  }

  override async chat(request: ChatRequest, context: CallContext): Promise<ChatResponse> {
    rejectModelField(request);
    const json = await this.#post(toAnthropicChatBody(request, this.#model), context);
    return fromAnthropicChatResponse(json);
  }

  override async chatStream(request: ChatRequest, context: CallContext): Promise<AsyncIterable<ChatChunk>> {
    rejectModelField(request);
    const body = { ...toAnthropicChatBody(request, this.#model), stream: true };
    const events = await this.init.upstream.postStream(
      this.#messagesTarget,
      this.#headers,
      body,
      context.signal,
    );
    const state = newAnthropicStreamState();
    return mapSseJson(events, DISPLAY_NAME, (json) => fromAnthropicChatEvent(json, state));
  }

  override async completions(
    request: CompletionsRequest,
    context: CallContext,
  ): Promise<CompletionsResponse> {
    rejectModelField(request);
    const json = await this.#post(toAnthropicCompletionsBody(request, this.#model), context);
    return fromAnthropicCompletionsResponse(json);
  }
}
