// AI21 Studio Jurassic-2 complete API: `POST /studio/v1/{model}/complete` (j2-ultra, j2-mid,
// j2-light), as MLflow's ai21labs provider calls it. Completions only.
import { z } from 'zod';
import { secretSchema } from '../config/secrets.js';
import { InvalidRequestError } from '../errors.js';
import type { CompletionsRequest, CompletionsResponse } from '../schemas/completions.js';
import { jsonHeaders, type UpstreamHeaders, type UpstreamTarget } from '../upstream/request.js';
import { apiBaseSchema, joinUrl } from '../upstream/url.js';
import {
  ProviderAdapter,
  parseUpstreamBody,
  rejectModelField,
  type AdapterInit,
  type CallContext,
  type EndpointFacts,
} from './base.js';
import { renameFields } from './renames.js';
import { nowSeconds } from './timestamps.js';

/** AI21 retired Jurassic-2; the base is configurable for servers that keep its API. */
export const AI21LABS_API_BASE = 'https://api.ai21.com';
const DISPLAY_NAME = 'AI21Labs';

export const ai21LabsConfigSchema = z.object({
  ai21labs_api_key: secretSchema,
  ai21labs_api_base: apiBaseSchema.default(AI21LABS_API_BASE),
});
export type Ai21LabsConfig = z.infer<typeof ai21LabsConfigSchema>;

/** Reference §1: the Jurassic-2 models with a complete endpoint. */
const SUPPORTED_MODELS: ReadonlySet<string> = new Set(['j2-ultra', 'j2-mid', 'j2-light']);

const MODEL_NAME_REQUIRED =
  'AI21Labs endpoints must name a model (model.name): one of j2-ultra, j2-mid or j2-light.';

export function checkAi21LabsEndpoint(facts: EndpointFacts<unknown>): string[] {
  const name = facts.modelName;
  if (!name) return [MODEL_NAME_REQUIRED];
  if (SUPPORTED_MODELS.has(name)) return [];
  return [
    `An Unsupported AI21Labs model has been specified: '${name}'. Please see documentation for supported models.`,
  ];
}

const RENAMES = {
  stop: 'stopSequences',
  n: 'numResults',
  max_tokens: 'maxTokens',
} as const satisfies Partial<Record<keyof CompletionsRequest, string>>;

/**
 * Reference §3 step 3. The routes send `stream: true` to the streaming method, which answers
 * 501 first; the check guards callers of the mapper itself.
 */
const STREAM_NOT_SUPPORTED =
  "Setting the 'stream' parameter to 'true' is not supported with the MLflow Gateway.";

/** Reference §3: AI21's camelCase names, no temperature scaling, other keys forwarded. */
export function toAi21LabsCompletionsBody(request: CompletionsRequest): Record<string, unknown> {
  rejectModelField(request);
  const body = renameFields(request, RENAMES);
  if (request.stream === true) throw new InvalidRequestError(422, STREAM_NOT_SUPPORTED, 'stream');
  return body;
}

const completeResponseSchema = z.object({
  completions: z.array(
    z.object({
      data: z.object({ text: z.string() }),
      finishReason: z.object({ reason: z.string() }).nullish(),
    }),
  ),
});

/** Reference §4: AI21's raw finish reason; id null (AI21's ignored), the configured model. */
export function fromAi21LabsCompletionsResponse(json: unknown, modelName: string): CompletionsResponse {
  const body = parseUpstreamBody(completeResponseSchema, json, DISPLAY_NAME);
  return {
    id: null,
    object: 'text_completion',
    created: nowSeconds(),
    model: modelName,
    choices: body.completions.map((completion, index) => ({
      index,
      text: completion.data.text,
      finish_reason: completion.finishReason?.reason ?? null,
    })),
    usage: { prompt_tokens: null, completion_tokens: null, total_tokens: null },
  };
}

export class Ai21LabsAdapter extends ProviderAdapter<Ai21LabsConfig> {
  static readonly provider = 'ai21labs';
  static readonly displayName = DISPLAY_NAME;
  static readonly configSchema = ai21LabsConfigSchema;
  static readonly supports = { completions: 'unary' } as const;
  static readonly checkEndpoint = checkAi21LabsEndpoint;

  readonly #headers: UpstreamHeaders;
  readonly #target: UpstreamTarget;
  readonly #model: string;

  constructor(init: AdapterInit<Ai21LabsConfig>) {
    super(init, DISPLAY_NAME);
    const { config, upstream } = init;
    this.#model = init.modelName ?? '';
    this.#headers = jsonHeaders({ authorization: `Bearer ${config.ai21labs_api_key.reveal()}` });
    this.#target = upstream.target(
      joinUrl(config.ai21labs_api_base, `studio/v1/${encodeURIComponent(this.#model)}/complete`),
    );
  }

  override async completions(
    request: CompletionsRequest,
    context: CallContext,
  ): Promise<CompletionsResponse> {
    const body = toAi21LabsCompletionsBody(request);
    const json = await this.init.upstream.postJson(this.#target, this.#headers, body, context);
    return fromAi21LabsCompletionsResponse(json, this.#model);
  }
}
