// OpenAI REST API v1 (Chat Completions, legacy Completions, Embeddings) and Azure OpenAI's
// deployment routes with `api-version`, as MLflow's openai provider calls them (reference §9).
import { z } from 'zod';
import { secretSchema, type Secret } from '../config/secrets.js';
import type { ChatChunk, ChatRequest, ChatResponse } from '../schemas/chat.js';
import type { CompletionsChunk, CompletionsRequest, CompletionsResponse } from '../schemas/completions.js';
import type { EmbeddingsRequest, EmbeddingsResponse } from '../schemas/embeddings.js';
import {
  jsonHeaders,
  JsonText,
  type Upstream,
  type UpstreamHeaders,
  type UpstreamTarget,
} from '../upstream/request.js';
import { apiBaseSchema, joinUrl } from '../upstream/url.js';
import {
  fromOpenAiChatChunk,
  fromOpenAiChatResponse,
  fromOpenAiCompletionsChunk,
  fromOpenAiCompletionsResponse,
  fromOpenAiEmbeddingsResponse,
} from './openai-response.js';
import { ProviderAdapter, mapSseJson, rejectModelField, type AdapterInit, type CallContext } from './base.js';

const OPENAI_API_BASE = 'https://api.openai.com/v1';
const DISPLAY_NAME = 'OpenAI';
const API_TYPES = ['openai', 'azure', 'azuread'] as const;
type ApiType = (typeof API_TYPES)[number];

const apiTypeSchema = z
  .string()
  .default('openai')
  .transform((value, context) => {
    const lower = value.toLowerCase();
    if ((API_TYPES as readonly string[]).includes(lower)) return lower as ApiType;
    context.addIssue({ code: 'custom', message: `Invalid OpenAI API type '${value}'` });
    return z.NEVER;
  });

const AZURE_TYPES = "'azure' or 'azuread'";

export const openAiConfigSchema = z
  .object({
    openai_api_key: secretSchema,
    openai_api_type: apiTypeSchema,
    openai_api_base: apiBaseSchema.optional(),
    openai_api_version: z.string().optional(),
    openai_deployment_name: z.string().optional(),
    openai_organization: z.string().optional(),
  })
  .superRefine((config, context) => {
    const type = config.openai_api_type;
    if (type === 'openai') {
      if (config.openai_deployment_name !== undefined) {
        context.addIssue({
          code: 'custom',
          path: ['openai_deployment_name'],
          message: `OpenAI route configuration can only specify a value for 'openai_deployment_name' if 'openai_api_type' is ${AZURE_TYPES}. Found type: '${type}'`,
        });
      }
      return;
    }
    if (config.openai_organization !== undefined) {
      context.addIssue({
        code: 'custom',
        path: ['openai_organization'],
        message: `OpenAI route configuration can only specify a value for 'openai_organization' if 'openai_api_type' is 'openai'. Found type: '${type}'`,
      });
    }
    if (
      config.openai_api_base === undefined ||
      config.openai_deployment_name === undefined ||
      config.openai_api_version === undefined
    ) {
      context.addIssue({
        code: 'custom',
        message: `OpenAI route configuration must specify 'openai_api_base', 'openai_deployment_name', and 'openai_api_version' if 'openai_api_type' is ${AZURE_TYPES}.`,
      });
    }
  });
export type OpenAiConfig = z.infer<typeof openAiConfigSchema>;

function buildHeaders(type: ApiType, key: Secret, organization: string | undefined): UpstreamHeaders {
  if (type === 'azure') return jsonHeaders({ 'api-key': key.reveal() });
  const headers: Record<string, string> = { authorization: `Bearer ${key.reveal()}` };
  if (type === 'openai' && organization) headers['openai-organization'] = organization;
  return jsonHeaders(headers);
}

/** Reference §9.1: the base every operation path is appended to, and its query. */
function baseUrl(config: OpenAiConfig): { base: string; query: Record<string, string> } {
  const version = config.openai_api_version;
  const query: Record<string, string> = version === undefined ? {} : { 'api-version': version };
  if (config.openai_api_type === 'openai') return { base: config.openai_api_base ?? OPENAI_API_BASE, query };
  const deployment = encodeURIComponent(config.openai_deployment_name ?? '');
  return { base: joinUrl(config.openai_api_base ?? '', `openai/deployments/${deployment}`), query };
}

/** Where a native-API passthrough posts, with the configured key, and the model it names. */
export interface NativeRelay {
  readonly upstream: Upstream;
  readonly target: UpstreamTarget;
  readonly headers: UpstreamHeaders;
  readonly model: string | null;
}

/**
 * `POST /responses` on OpenAI; Azure serves the Responses API only on its v1 surface,
 * `{resource}/openai/v1/responses`, with the deployment named in `model` and no api-version.
 */
function responsesUrl(config: OpenAiConfig): string {
  if (config.openai_api_type === 'openai') {
    return joinUrl(config.openai_api_base ?? OPENAI_API_BASE, 'responses');
  }
  return joinUrl(config.openai_api_base ?? '', 'openai/v1/responses');
}

export class OpenAiAdapter extends ProviderAdapter<OpenAiConfig> {
  static readonly provider = 'openai';
  static readonly displayName = DISPLAY_NAME;
  static readonly configSchema = openAiConfigSchema;
  static readonly supports = { chat: 'stream', completions: 'stream', embeddings: true } as const;
  static readonly aliases = { azure: { openai_api_type: 'azure' }, azuread: { openai_api_type: 'azuread' } };

  readonly #headers: UpstreamHeaders;
  readonly #chatTarget: UpstreamTarget;
  readonly #completionsTarget: UpstreamTarget;
  readonly #embeddingsTarget: UpstreamTarget;
  /** Azure deployments select the model themselves, so no `model` is sent there. */
  readonly #model: { model: string | null } | null;
  /** `{"model":<name>` encoded once, put in front of each unary request's own JSON. */
  readonly #modelJson: string | null;
  readonly #responses: NativeRelay;

  constructor(init: AdapterInit<OpenAiConfig>) {
    super(init, DISPLAY_NAME);
    const { config, upstream } = init;
    const { base, query } = baseUrl(config);
    this.#headers = buildHeaders(config.openai_api_type, config.openai_api_key, config.openai_organization);
    this.#chatTarget = upstream.target(joinUrl(base, 'chat/completions', query));
    this.#completionsTarget = upstream.target(joinUrl(base, 'completions', query));
    this.#embeddingsTarget = upstream.target(joinUrl(base, 'embeddings', query));
    this.#model = config.openai_api_type === 'openai' ? { model: init.modelName } : null;
    this.#modelJson = this.#model && `{"model":${JSON.stringify(this.#model.model)}`;
    this.#responses = {
      upstream,
      target: upstream.target(responsesUrl(config)),
      headers: this.#headers,
      model: config.openai_api_type === 'openai' ? init.modelName : (config.openai_deployment_name ?? null),
    };
  }

  /** The native Responses API of this endpoint, for the Responses ingress's passthrough. */
  responsesRelay(): NativeRelay {
    return this.#responses;
  }

  #body(request: { model?: string | undefined }): object {
    rejectModelField(request);
    return this.#model ? { ...this.#model, ...request } : request;
  }

  /**
   * A unary call's body: the request's JSON with the model spliced in front, the same text as
   * encoding `#body`'s copy (model first, then the request's fields), without making the copy.
   */
  #unaryBody(request: { model?: string | undefined }): object {
    rejectModelField(request);
    if (this.#modelJson === null) return request;
    const json = JSON.stringify(request);
    return new JsonText(json === '{}' ? `${this.#modelJson}}` : `${this.#modelJson},${json.slice(1)}`);
  }

  /**
   * OpenAI reports a stream's usage only when asked, in one last chunk without choices; the
   * gateway always asks, so client token caps and budgets count streams too. The gateway drops
   * that chunk for a client that did not ask (server/access-hook.ts). Azure's older API versions
   * refuse the field, so only OpenAI itself is asked.
   */
  #streamBody(request: { model?: string | undefined; stream_options?: Record<string, unknown> }): object {
    const body = this.#body(request);
    if (this.#model === null) return body;
    return { ...body, stream_options: { ...request.stream_options, include_usage: true } };
  }

  #post(
    target: UpstreamTarget,
    request: { model?: string | undefined },
    context: CallContext,
  ): Promise<unknown> {
    return this.init.upstream.postJson(target, this.#headers, this.#unaryBody(request), context);
  }

  #stream(
    target: UpstreamTarget,
    request: { model?: string | undefined },
    context: CallContext,
  ): Promise<AsyncIterable<string>> {
    return this.init.upstream.postStream(target, this.#headers, this.#streamBody(request), context.signal);
  }

  override async chat(request: ChatRequest, context: CallContext): Promise<ChatResponse> {
    return fromOpenAiChatResponse(await this.#post(this.#chatTarget, request, context));
  }

  override async chatStream(request: ChatRequest, context: CallContext): Promise<AsyncIterable<ChatChunk>> {
    const events = await this.#stream(this.#chatTarget, request, context);
    return mapSseJson(events, DISPLAY_NAME, (json) => fromOpenAiChatChunk(json));
  }

  override async completions(
    request: CompletionsRequest,
    context: CallContext,
  ): Promise<CompletionsResponse> {
    return fromOpenAiCompletionsResponse(await this.#post(this.#completionsTarget, request, context));
  }

  override async completionsStream(
    request: CompletionsRequest,
    context: CallContext,
  ): Promise<AsyncIterable<CompletionsChunk>> {
    const events = await this.#stream(this.#completionsTarget, request, context);
    return mapSseJson(events, DISPLAY_NAME, (json) => fromOpenAiCompletionsChunk(json));
  }

  override async embeddings(request: EmbeddingsRequest, context: CallContext): Promise<EmbeddingsResponse> {
    return fromOpenAiEmbeddingsResponse(await this.#post(this.#embeddingsTarget, request, context));
  }
}
