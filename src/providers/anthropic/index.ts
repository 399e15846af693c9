// Anthropic Messages API (`POST /v1/messages`, `anthropic-version: 2023-06-01`, SSE when streaming) for
// chat and completions; completions leave MLflow's retired `/v1/complete` (reference anthropic.md §7).
import { z } from 'zod';
import { secretSchema } from '../../config/secrets.js';
import type { ChatChunk, ChatRequest, ChatResponse } from '../../schemas/chat.js';
import type { CompletionsRequest, CompletionsResponse } from '../../schemas/completions.js';
import { relay, type RelayedResponse } from '../../upstream/relay.js';
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
const COUNT_TOKENS_PATH = 'messages/count_tokens';

/** The Messages API operations the native ingress relays as the client sent them. */
export type AnthropicNativeOperation = 'messages' | 'count_tokens';

/** The client headers a passthrough call forwards (ingress reference §1, §6); credentials never. */
export interface AnthropicClientHeaders {
  readonly 'anthropic-version'?: string | undefined;
  readonly 'anthropic-beta'?: string | undefined;
}

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
  readonly #countTokensTarget: UpstreamTarget;
  readonly #model: string | null;

  constructor(init: AdapterInit<AnthropicConfig>) {
    super(init, DISPLAY_NAME);
    const { config, upstream } = init;
    this.#headers = jsonHeaders({
      'x-api-key': config.anthropic_api_key.reveal(),
      'anthropic-version': config.anthropic_version,
    });
    this.#messagesTarget = upstream.target(joinUrl(config.anthropic_api_base, MESSAGES_PATH));
    this.#countTokensTarget = upstream.target(joinUrl(config.anthropic_api_base, COUNT_TOKENS_PATH));
    this.#model = init.modelName;
  }

  /**
   * Native passthrough: the client's Messages body goes upstream as sent, with only `model`
   * replaced by the configured one; the configured key is sent, the client's
   * `anthropic-version` (else the configured one) and `anthropic-beta` pass through.
   */
  relayNative(
    operation: AnthropicNativeOperation,
    body: Readonly<Record<string, unknown>>,
    clientHeaders: AnthropicClientHeaders,
    signal: AbortSignal,
  ): Promise<RelayedResponse> {
    const target = operation === 'messages' ? this.#messagesTarget : this.#countTokensTarget;
    return relay(this.init.upstream, {
      target,
      headers: this.#nativeHeaders(clientHeaders),
      body: JSON.stringify({ ...body, model: this.#model }),
      signal,
    });
  }

  #nativeHeaders(clientHeaders: AnthropicClientHeaders): UpstreamHeaders {
    const version = clientHeaders['anthropic-version'];
    const beta = clientHeaders['anthropic-beta'];
    if (version === undefined && beta === undefined) return this.#headers;
    const headers: Record<string, string> = { ...this.#headers };
    if (version !== undefined) headers['anthropic-version'] = version;
    if (beta !== undefined) headers['anthropic-beta'] = beta;
    return headers;
  }

  #post(body: AnthropicBody, context: CallContext): Promise<unknown> {
    return this.init.upstream.postJson(this.#messagesTarget, this.#headers, body, context);
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
