import { InvalidRequestError } from '../../errors.js';
import type { ChatMessage, ChatRequest } from '../../schemas/chat.js';
import type { CompletionsRequest } from '../../schemas/completions.js';
import type { EmbeddingsRequest } from '../../schemas/embeddings.js';
import {
  applyParameterRules,
  parameterTable,
  type ParameterRules,
  type ParameterTable,
} from '../parameter-ranges.js';

/**
 * Reference §3 maps the gateway's 0–2 temperature onto Cohere's range. MLflow's ×2.5 targeted
 * v1's 0–5; Cohere v2 chat accepts 0–1 (its OpenAPI `maximum: 1`), so the same range mapping is ×0.5.
 */
const TEMPERATURE_SCALE = 0.5;

/** Cohere's own names for OpenAI-style sampling fields (MLflow forwarded them unrenamed). */
const RENAMES = { top_p: 'p', top_k: 'k' } as const satisfies Partial<Record<keyof ChatRequest, string>>;
const COMPLETIONS_RENAMES = { ...RENAMES, stop: 'stop_sequences' } as const satisfies Partial<
  Record<keyof CompletionsRequest, string>
>;
type Renames = Readonly<Record<string, string>>;

/**
 * Cohere v2 chat's ranges (docs.cohere.com/reference/chat) where they are narrower than OpenAI's.
 * `p` stops at 0.01–0.99: OpenAI's `top_p: 1` (its default, which many clients send) and 0 mean
 * "no cut-off" and "the top token" there too, so they are clamped. `k` above 500 and negative
 * penalties (which OpenAI uses to encourage repetition) have no Cohere counterpart and are refused.
 */
const SAMPLING_RULES = {
  top_p: { kind: 'number', min: 0, max: 1, clampTo: [0.01, 0.99] },
  top_k: { kind: 'number', min: 0, max: 500, isInteger: true },
  frequency_penalty: { kind: 'number', min: 0, max: 1 },
  presence_penalty: { kind: 'number', min: 0, max: 1 },
} as const satisfies ParameterRules;
const CHAT_RULES = parameterTable('Cohere', SAMPLING_RULES);
/** Cohere takes up to 5 `stop_sequences`; dropping some would let the answer run on. */
const COMPLETIONS_RULES = parameterTable('Cohere', { ...SAMPLING_RULES, stop: { kind: 'count', max: 5 } });

/** Gateway fields with no Cohere counterpart: `n` is checked to be 1, the rest are ours. */
const DROPPED = new Set(['model', 'n', 'temperature', 'messages', 'prompt', 'stream_options']);

/** The roles Cohere v2 messages take; MLflow drops every other role. */
const COHERE_ROLES = new Set(['system', 'user', 'assistant', 'tool']);

const DEFAULT_INPUT_TYPE = 'search_document';
const DEFAULT_EMBEDDING_TYPE = 'float';

export type CohereBody = Record<string, unknown>;

/** The configured model (always sent first) plus the mapped generation fields. */
function toParameters(
  model: string | null,
  request: ChatRequest | CompletionsRequest,
  renames: Renames,
  rules: ParameterTable,
): CohereBody {
  const body: CohereBody = { model };
  for (const [key, value] of Object.entries(applyParameterRules(request, rules))) {
    if (value === undefined || DROPPED.has(key)) continue;
    body[renames[key] ?? key] = value;
  }
  body.temperature = request.temperature * TEMPERATURE_SCALE;
  return body;
}

/** v2 messages take the gateway's role, content (string or text/image parts), tool calls and ids. */
function toCohereMessage({ refusal: _refusal, ...message }: ChatMessage): CohereBody {
  return message;
}

function invalid(status: 400 | 422, detail: string, field: string): never {
  throw new InvalidRequestError(status, detail, field);
}

/** Reference §4, with v2's `messages` in place of v1's `message`/`chat_history`/`preamble_override`. */
export function toCohereChatBody(request: ChatRequest, model: string | null): CohereBody {
  if (request.n !== 1) invalid(422, `Parameter n must be 1 for Cohere chat, got ${request.n}.`, 'n');
  if (request.stop !== undefined) invalid(422, 'Parameter stop is not supported for Cohere chat.', 'stop');
  const role = request.messages.at(-1)?.role;
  if (role !== 'user') invalid(422, `Last message must be from user, got ${String(role)}.`, 'messages');
  const body = toParameters(model, request, RENAMES, CHAT_RULES);
  body.messages = request.messages.filter((message) => COHERE_ROLES.has(message.role)).map(toCohereMessage);
  return body;
}

/** Reference §7's checks and renames, sent to v2 chat as one user message (§11). */
export function toCohereCompletionsBody(request: CompletionsRequest, model: string | null): CohereBody {
  if (request.stop_sequences !== undefined) {
    invalid(400, 'Invalid parameter stop_sequences. Use stop instead.', 'stop_sequences');
  }
  if (request.num_generations !== undefined) {
    invalid(400, 'Invalid parameter num_generations. Use n instead.', 'num_generations');
  }
  // v2 chat has no `num_generations`, so only one completion can be asked for.
  if (request.n !== 1) invalid(422, `Parameter n must be 1 for Cohere completions, got ${request.n}.`, 'n');
  const body = toParameters(model, request, COMPLETIONS_RENAMES, COMPLETIONS_RULES);
  body.messages = [{ role: 'user', content: request.prompt }];
  return body;
}

/** The request body and which of Cohere's embedding types to read back. */
export interface CohereEmbeddingsCall {
  body: CohereBody;
  embeddingType: string;
}

/** Reference §9 and §11: `input` → `texts` (always an array), v2's required defaults added. */
export function toCohereEmbeddingsBody(
  request: EmbeddingsRequest,
  model: string | null,
): CohereEmbeddingsCall {
  if (request.texts !== undefined) invalid(422, 'Invalid parameter texts. Use input instead.', 'texts');
  // No `encoding_format` reaches here: the gateway strips it and encodes base64 itself.
  const { input, model: _model, ...rest } = request;
  const body: CohereBody = {
    model,
    texts: typeof input === 'string' ? [input] : input,
    input_type: DEFAULT_INPUT_TYPE,
    embedding_types: [DEFAULT_EMBEDDING_TYPE],
    ...rest,
  };
  const requested = body.embedding_types;
  const first: unknown = Array.isArray(requested) ? requested[0] : undefined;
  return {
    body,
    embeddingType: typeof first === 'string' ? first : DEFAULT_EMBEDDING_TYPE,
  };
}
