// Acme LLM API v1, a fictional provider: `POST /chat` (JSON, or SSE events ending in
// `data: [DONE]` when `stream` is true), `POST /complete` and `POST /embed`, keyed by `x-acme-key`.
import {
  InvalidRequestError,
  ProviderAdapter,
  apiBaseSchema,
  jsonHeaders,
  joinUrl,
  mapSseJson,
  parseUpstreamBody,
  rejectModelField,
  secretSchema,
  throwIfStreamError,
  z,
  type AdapterInit,
  type CallContext,
  type ChatChunk,
  type ChatRequest,
  type ChatResponse,
  type CompletionsRequest,
  type CompletionsResponse,
  type EmbeddingsRequest,
  type EmbeddingsResponse,
  type UpstreamHeaders,
  type UpstreamTarget,
} from 'llmgw';

export const ACME_API_BASE = 'https://api.acme.example/v1';
const DISPLAY_NAME = 'Acme';

/** `model.config` of an `acme` endpoint; the key may be `$ENV`, a file path or the key itself. */
export const acmeConfigSchema = z.object({
  acme_api_key: secretSchema,
  acme_api_base: apiBaseSchema.default(ACME_API_BASE),
});
export type AcmeConfig = z.infer<typeof acmeConfigSchema>;

const usageSchema = z.object({ input_tokens: z.number().int(), output_tokens: z.number().int() });

const chatResponseSchema = z.object({
  id: z.string(),
  created: z.number().int(),
  model: z.string(),
  output: z.object({ role: z.string(), text: z.string() }),
  stop_reason: z.string().nullable(),
  usage: usageSchema,
});

const chatEventSchema = z.object({
  id: z.string(),
  created: z.number().int(),
  model: z.string(),
  delta: z.string(),
  stop_reason: z.string().nullable(),
});

const completeResponseSchema = z.object({
  id: z.string(),
  created: z.number().int(),
  model: z.string(),
  text: z.string(),
  stop_reason: z.string().nullable(),
  usage: usageSchema,
});

const embedResponseSchema = z.object({
  model: z.string(),
  vectors: z.array(z.array(z.number())),
  usage: z.object({ input_tokens: z.number().int() }),
});

/** Acme names the generation parameters as the gateway does, so extras pass through unchanged. */
function toAcmeChatBody(request: ChatRequest, model: string, stream: boolean): Record<string, unknown> {
  rejectModelField(request);
  const { stream: _stream, ...rest } = request;
  return stream ? { model, ...rest, stream: true } : { model, ...rest };
}

function toAcmeCompleteBody(request: CompletionsRequest, model: string): Record<string, unknown> {
  rejectModelField(request);
  return { model, ...request };
}

function toAcmeEmbedBody(request: EmbeddingsRequest, model: string): Record<string, unknown> {
  rejectModelField(request);
  const { input, ...rest } = request;
  const texts = typeof input === 'string' ? [input] : input;
  if (!texts.every((text) => typeof text === 'string'))
    throw new InvalidRequestError(
      422,
      'Acme embeds text only: input must be a string or a list of strings',
      'input',
    );
  return { model, ...rest, texts };
}

function toUsage(usage: z.infer<typeof usageSchema>): ChatResponse['usage'] {
  return {
    prompt_tokens: usage.input_tokens,
    completion_tokens: usage.output_tokens,
    total_tokens: usage.input_tokens + usage.output_tokens,
  };
}

function fromAcmeChatResponse(json: unknown): ChatResponse {
  const body = parseUpstreamBody(chatResponseSchema, json, DISPLAY_NAME);
  return {
    id: body.id,
    object: 'chat.completion',
    created: body.created,
    model: body.model,
    choices: [
      {
        index: 0,
        message: { role: body.output.role, content: body.output.text, tool_calls: null, refusal: null },
        finish_reason: body.stop_reason,
      },
    ],
    usage: toUsage(body.usage),
  };
}

function fromAcmeChatEvent(json: unknown): ChatChunk {
  throwIfStreamError(json);
  const event = parseUpstreamBody(chatEventSchema, json, DISPLAY_NAME);
  return {
    id: event.id,
    object: 'chat.completion.chunk',
    created: event.created,
    model: event.model,
    choices: [
      {
        index: 0,
        finish_reason: event.stop_reason,
        delta: { role: 'assistant', content: event.delta, tool_calls: null },
      },
    ],
  };
}

function fromAcmeCompleteResponse(json: unknown): CompletionsResponse {
  const body = parseUpstreamBody(completeResponseSchema, json, DISPLAY_NAME);
  return {
    id: body.id,
    object: 'text_completion',
    created: body.created,
    model: body.model,
    choices: [{ index: 0, text: body.text, finish_reason: body.stop_reason }],
    usage: toUsage(body.usage),
  };
}

function fromAcmeEmbedResponse(json: unknown): EmbeddingsResponse {
  const body = parseUpstreamBody(embedResponseSchema, json, DISPLAY_NAME);
  return {
    object: 'list',
    data: body.vectors.map((embedding, index) => ({ object: 'embedding', embedding, index })),
    model: body.model,
    usage: { prompt_tokens: body.usage.input_tokens, total_tokens: body.usage.input_tokens },
  };
}

export class AcmeAdapter extends ProviderAdapter<AcmeConfig> {
  static readonly provider = 'acme';
  static readonly displayName = DISPLAY_NAME;
  static readonly configSchema = acmeConfigSchema;
  static readonly supports = { chat: 'stream', completions: 'unary', embeddings: true } as const;

  readonly #headers: UpstreamHeaders;
  readonly #chatTarget: UpstreamTarget;
  readonly #completeTarget: UpstreamTarget;
  readonly #embedTarget: UpstreamTarget;
  readonly #model: string;

  /** Runs once per endpoint per config load: the key is revealed here and nowhere else. */
  constructor(init: AdapterInit<AcmeConfig>) {
    super(init, DISPLAY_NAME);
    const { config, upstream } = init;
    this.#headers = jsonHeaders({ 'x-acme-key': config.acme_api_key.reveal() });
    this.#chatTarget = upstream.target(joinUrl(config.acme_api_base, 'chat'));
    this.#completeTarget = upstream.target(joinUrl(config.acme_api_base, 'complete'));
    this.#embedTarget = upstream.target(joinUrl(config.acme_api_base, 'embed'));
    this.#model = init.modelName ?? 'acme-default';
  }

  override async chat(request: ChatRequest, context: CallContext): Promise<ChatResponse> {
    const body = toAcmeChatBody(request, this.#model, false);
    const json = await this.init.upstream.postJson(this.#chatTarget, this.#headers, body, context);
    return fromAcmeChatResponse(json);
  }

  override async chatStream(request: ChatRequest, context: CallContext): Promise<AsyncIterable<ChatChunk>> {
    const body = toAcmeChatBody(request, this.#model, true);
    const events = await this.init.upstream.postStream(this.#chatTarget, this.#headers, body, context.signal);
    return mapSseJson(events, DISPLAY_NAME, fromAcmeChatEvent);
  }

  override async completions(
    request: CompletionsRequest,
    context: CallContext,
  ): Promise<CompletionsResponse> {
    const body = toAcmeCompleteBody(request, this.#model);
    const json = await this.init.upstream.postJson(this.#completeTarget, this.#headers, body, context);
    return fromAcmeCompleteResponse(json);
  }

  override async embeddings(request: EmbeddingsRequest, context: CallContext): Promise<EmbeddingsResponse> {
    const body = toAcmeEmbedBody(request, this.#model);
    const json = await this.init.upstream.postJson(this.#embedTarget, this.#headers, body, context);
    return fromAcmeEmbedResponse(json);
  }
}
