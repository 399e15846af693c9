// Hugging Face Text Generation Inference (self-hosted TGI server, v1–v3): the native
// `POST /generate` route with `details: true`, as MLflow's huggingface provider calls it.
import { z } from 'zod';
import { InvalidRequestError, UpstreamProtocolError } from '../errors.js';
import type { CompletionsRequest, CompletionsResponse } from '../schemas/completions.js';
import { jsonHeaders, type UpstreamHeaders, type UpstreamTarget } from '../upstream/request.js';
import { apiBaseSchema, joinUrl } from '../upstream/url.js';
import {
  ProviderAdapter,
  parseUpstreamBody,
  rejectModelField,
  type AdapterInit,
  type CallContext,
} from './base.js';
import { nowSeconds } from './timestamps.js';

const DISPLAY_NAME = 'Hugging Face Text Generation Inference';

/** Reference §1: the server's base URL, taken literally; TGI needs no authentication header. */
export const huggingFaceTgiConfigSchema = z.object({ hf_server_url: apiBaseSchema });
export type HuggingFaceTgiConfig = z.infer<typeof huggingFaceTgiConfigSchema>;

const MAX_NEW_TOKENS_REJECTED = 'Invalid parameter max_new_tokens. Use max_tokens instead.';

/**
 * Reference §2.6: MLflow treats TGI's temperature range as 0–100 and TGI requires it to be
 * strictly positive, so the gateway's 0–2 is scaled by 50 and floored at 0.001.
 */
const TEMPERATURE_SCALE = 50;
const MIN_TEMPERATURE = 0.001;

/** Reference §2.5: the one rename between the gateway's keys and TGI's `parameters`. */
const RENAMES = { max_tokens: 'max_new_tokens' } as const satisfies Partial<
  Record<keyof CompletionsRequest, string>
>;

/** The texts are MLflow's, the missing space after the first period included (reference §2.3). */
function nMustBeOne(n: number): string {
  return `'n' must be '1' for the Text Generation Inference provider.Received value: '${String(n)}'.`;
}

/**
 * Reference §2: `prompt` becomes `inputs`; every other key goes into `parameters`, with
 * `max_tokens` renamed, the temperature scaled, and the details TGI needs for token counts.
 */
export function toTgiBody(request: CompletionsRequest): Record<string, unknown> {
  rejectModelField(request);
  if (request.max_new_tokens !== undefined) {
    throw new InvalidRequestError(422, MAX_NEW_TOKENS_REJECTED, 'max_new_tokens');
  }
  const { prompt, n, temperature, max_tokens: maxTokens, ...rest } = request;
  if (n !== 1) throw new InvalidRequestError(422, nMustBeOne(n), 'n');
  const parameters: Record<string, unknown> = {
    ...rest,
    temperature: Math.max(TEMPERATURE_SCALE * temperature, MIN_TEMPERATURE),
    details: true,
    decoder_input_details: true,
  };
  if (maxTokens !== undefined) parameters[RENAMES.max_tokens] = maxTokens;
  return { inputs: prompt, parameters };
}

/** Only the fields the mapping reads; `prefill` is counted, never read item by item. */
const generateResponseSchema = z.object({
  generated_text: z.string(),
  details: z.object({
    finish_reason: z.string().nullish(),
    generated_tokens: z.number().int(),
    prefill: z.array(z.unknown()),
  }),
});

/**
 * The hosted Inference API answers `[{"generated_text": …}]`; MLflow only speaks to TGI's own
 * `/generate`, whose answer is one object, so say which server the URL should point at.
 */
const ARRAY_BODY =
  `Malformed response from ${DISPLAY_NAME}: expected the /generate object ` +
  '{"generated_text": …, "details": {…}}, got a JSON array (the hosted Inference API format is not supported)';

/**
 * Reference §3: one choice with TGI's raw finish reason (`length`, `eos_token`,
 * `stop_sequence`); prompt tokens are the prefill entries, completion tokens TGI's count.
 */
export function fromTgiResponse(json: unknown, modelName: string | null): CompletionsResponse {
  if (Array.isArray(json)) throw new UpstreamProtocolError(ARRAY_BODY);
  const body = parseUpstreamBody(generateResponseSchema, json, DISPLAY_NAME);
  const promptTokens = body.details.prefill.length;
  const completionTokens = body.details.generated_tokens;
  return {
    id: null,
    object: 'text_completion',
    created: nowSeconds(),
    model: modelName,
    choices: [{ index: 0, text: body.generated_text, finish_reason: body.details.finish_reason ?? null }],
    usage: {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
    },
  };
}

export class HuggingFaceTgiAdapter extends ProviderAdapter<HuggingFaceTgiConfig> {
  static readonly provider = 'huggingface-text-generation-inference';
  static readonly displayName = DISPLAY_NAME;
  static readonly configSchema = huggingFaceTgiConfigSchema;
  static readonly supports = { completions: 'unary' } as const;

  readonly #headers: UpstreamHeaders = jsonHeaders({});
  readonly #target: UpstreamTarget;

  constructor(init: AdapterInit<HuggingFaceTgiConfig>) {
    super(init, DISPLAY_NAME);
    this.#target = init.upstream.target(joinUrl(init.config.hf_server_url, 'generate'));
  }

  override async completions(
    request: CompletionsRequest,
    context: CallContext,
  ): Promise<CompletionsResponse> {
    const body = toTgiBody(request);
    const json = await this.init.upstream.postJson(this.#target, this.#headers, body, context);
    return fromTgiResponse(json, this.init.modelName);
  }
}
