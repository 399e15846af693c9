// MLflow scoring server (`mlflow models serve`, MLflow 2.x/3.x): `POST /invocations` with the
// `{"inputs": [...], "params": {...}}` input format, answered by `{"predictions": ...}`.
import { z } from 'zod';
import { InvalidRequestError, UpstreamProtocolError } from '../errors.js';
import type { ChatRequest, ChatResponse } from '../schemas/chat.js';
import type { CompletionsRequest, CompletionsResponse } from '../schemas/completions.js';
import type { EmbeddingsRequest, EmbeddingsResponse } from '../schemas/embeddings.js';
import { isRecord } from '../schemas/json.js';
import { jsonHeaders, type UpstreamHeaders, type UpstreamTarget } from '../upstream/request.js';
import { apiBaseSchema, joinUrl } from '../upstream/url.js';
import { ProviderAdapter, type AdapterInit, type CallContext } from './base.js';
import { nowSeconds } from './timestamps.js';

const DISPLAY_NAME = 'MLflow Model Serving';

/** Reference §1: the scoring server's base URL, taken literally; no authentication header. */
export const mlflowModelServingConfigSchema = z.object({ model_server_url: apiBaseSchema });
export type MlflowModelServingConfig = z.infer<typeof mlflowModelServingConfigSchema>;

/**
 * Reference §2: MLflow's "inputs + params" format. `params` carries every other gateway key
 * (`temperature`, `n`, extras, and a client `model`: this provider does not check it, S3) and
 * is left out when there is none.
 */
function toInvocationBody(inputs: unknown[], params: Record<string, unknown>): Record<string, unknown> {
  return Object.keys(params).length === 0 ? { inputs } : { inputs, params };
}

export function toServingCompletionsBody(request: CompletionsRequest): Record<string, unknown> {
  const { prompt, ...params } = request;
  return toInvocationBody([prompt], params);
}

const CONTENT_REQUIRED = 'MLflow chat models need the text of the query: messages.0.content is missing.';

/**
 * Reference §2: a scoring server answers one query per request, so only a single message is
 * accepted and only its content is sent (its role is not). MLflow crashes into a 500 on a
 * message without content; a 422 naming the field tells the client what to fix.
 */
export function toServingChatBody(request: ChatRequest): Record<string, unknown> {
  const { messages, ...params } = request;
  if (messages.length > 1) {
    throw new InvalidRequestError(
      422,
      `MLflow chat models are only capable of processing a single query at a time. The request submitted consists of ${String(messages.length)} queries.`,
      'messages',
    );
  }
  const content = messages[0]?.content;
  if (content === undefined) throw new InvalidRequestError(422, CONTENT_REQUIRED, 'messages.0.content');
  return toInvocationBody([content], params);
}

export function toServingEmbeddingsBody(request: EmbeddingsRequest): Record<string, unknown> {
  const { input, ...params } = request;
  return toInvocationBody(Array.isArray(input) ? input : [input], params);
}

/** The pydantic model names MLflow's 502 details start with (reference §3). */
type ResponseModel = 'ServingTextResponse' | 'EmbeddingsResponse';

const EXPECTED: Record<ResponseModel, string> = {
  ServingTextResponse:
    'Expected {"predictions": ["<text>", ...]}, {"predictions": {"<key>": ["<text>", ...]}} ' +
    'or {"predictions": {"choices": ["<text>", ...], ...}}.',
  EmbeddingsResponse: 'Expected {"predictions": [[<number>, ...], ...]} or {"predictions": [<number>, ...]}.',
};

/**
 * Reference §3: MLflow's pydantic text (`1 validation error for <model>\npredictions\n  <reason>`),
 * plus a line saying which shapes are accepted, in the place pydantic puts its help link.
 */
function shapeError(model: ResponseModel, reason: string): UpstreamProtocolError {
  return new UpstreamProtocolError(
    `1 validation error for ${model}\npredictions\n  ${reason}\n    ${EXPECTED[model]}`,
  );
}

const EMPTY_LIST = 'The input list is empty';
const NOT_A_LIST = 'Input should be a valid list';
const INVALID_DICT =
  "The dict format is invalid for this route type. Ensure the served model returns a dict key containing 'choices'";
const EMPTY_VECTOR = 'One or more lists in the returned prediction response are empty';

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** The `predictions` member, or MLflow's `Field required` when the body has none. */
function predictionsOf(json: unknown, model: ResponseModel): unknown {
  if (!isRecord(json) || !('predictions' in json)) throw shapeError(model, 'Field required');
  return json.predictions;
}

/**
 * Reference §3 (`ServingTextResponse`): a dict with one key stands for that key's value, a
 * larger dict must hold `choices`; the texts must be a non-empty list of strings (strictly).
 */
function textsOf(json: unknown): string[] {
  const model = 'ServingTextResponse';
  let texts = predictionsOf(json, model);
  if (isRecord(texts)) {
    const keys = Object.keys(texts);
    if (keys.length > 1 && !('choices' in texts)) throw shapeError(model, INVALID_DICT);
    texts = keys.length === 1 && keys[0] !== undefined ? texts[keys[0]] : texts.choices;
    if (texts === undefined || texts === null) throw shapeError(model, EMPTY_LIST);
  }
  if (!Array.isArray(texts)) throw shapeError(model, `${NOT_A_LIST} (got ${describeType(texts)})`);
  if (texts.length === 0) throw shapeError(model, EMPTY_LIST);
  texts.forEach((text: unknown, index) => {
    if (typeof text !== 'string') {
      throw shapeError(
        model,
        `Input should be a valid string (item ${String(index)} is ${describeType(text)})`,
      );
    }
  });
  return texts as string[];
}

function isNumber(value: unknown): value is number {
  return typeof value === 'number';
}

/**
 * Reference §3 (`EmbeddingsResponse`): a non-empty list of non-empty number lists, or one flat
 * number list as a single vector. JSON integers are accepted: after parsing, `1` and `1.0` are
 * the same number, so MLflow's strict-float rule cannot be told apart here.
 */
function vectorsOf(json: unknown): number[][] {
  const model = 'EmbeddingsResponse';
  const predictions = predictionsOf(json, model);
  if (!Array.isArray(predictions)) {
    throw shapeError(model, `${NOT_A_LIST} (got ${describeType(predictions)})`);
  }
  if (predictions.length === 0) throw shapeError(model, EMPTY_LIST);
  if (predictions.every(isNumber)) return [predictions];
  predictions.forEach((vector: unknown, index) => {
    if (!Array.isArray(vector)) {
      throw shapeError(model, `${NOT_A_LIST} (item ${String(index)} is ${describeType(vector)})`);
    }
    if (vector.length === 0) throw shapeError(model, EMPTY_VECTOR);
    const position = vector.findIndex((value) => !isNumber(value));
    if (position !== -1) {
      throw shapeError(
        model,
        `Input should be a valid number (item ${String(index)}.${String(position)} is ${describeType(vector[position])})`,
      );
    }
  });
  return predictions as number[][];
}

/** Reference §3: a scoring server reports no token counts. */
const NO_USAGE = { prompt_tokens: null, completion_tokens: null, total_tokens: null } as const;

export function fromServingCompletionsResponse(json: unknown, modelName: string | null): CompletionsResponse {
  return {
    id: null,
    object: 'text_completion',
    created: nowSeconds(),
    model: modelName,
    choices: textsOf(json).map((text, index) => ({ index, text, finish_reason: null })),
    usage: { ...NO_USAGE },
  };
}

export function fromServingChatResponse(json: unknown, modelName: string | null): ChatResponse {
  return {
    id: null,
    object: 'chat.completion',
    created: nowSeconds(),
    model: modelName,
    choices: textsOf(json).map((content, index) => ({
      index,
      message: { role: 'assistant', content, tool_calls: null, refusal: null },
      finish_reason: null,
    })),
    usage: { ...NO_USAGE },
  };
}

export function fromServingEmbeddingsResponse(json: unknown, modelName: string | null): EmbeddingsResponse {
  return {
    object: 'list',
    data: vectorsOf(json).map((vector, index) => ({ object: 'embedding', embedding: vector, index })),
    model: modelName,
    usage: { prompt_tokens: null, total_tokens: null },
  };
}

export class MlflowModelServingAdapter extends ProviderAdapter<MlflowModelServingConfig> {
  static readonly provider = 'mlflow-model-serving';
  static readonly displayName = DISPLAY_NAME;
  static readonly configSchema = mlflowModelServingConfigSchema;
  static readonly supports = { chat: 'unary', completions: 'unary', embeddings: true } as const;

  readonly #headers: UpstreamHeaders = jsonHeaders({});
  readonly #target: UpstreamTarget;

  constructor(init: AdapterInit<MlflowModelServingConfig>) {
    super(init, DISPLAY_NAME);
    this.#target = init.upstream.target(joinUrl(init.config.model_server_url, 'invocations'));
  }

  override async chat(request: ChatRequest, context: CallContext): Promise<ChatResponse> {
    const json = await this.#invoke(toServingChatBody(request), context);
    return fromServingChatResponse(json, this.init.modelName);
  }

  override async completions(
    request: CompletionsRequest,
    context: CallContext,
  ): Promise<CompletionsResponse> {
    const json = await this.#invoke(toServingCompletionsBody(request), context);
    return fromServingCompletionsResponse(json, this.init.modelName);
  }

  override async embeddings(request: EmbeddingsRequest, context: CallContext): Promise<EmbeddingsResponse> {
    const json = await this.#invoke(toServingEmbeddingsBody(request), context);
    return fromServingEmbeddingsResponse(json, this.init.modelName);
  }

  #invoke(body: Record<string, unknown>, context: CallContext): Promise<unknown> {
    return this.init.upstream.postJson(this.#target, this.#headers, body, context);
  }
}
