// MosaicML Inference (Starter tier) predict API: `POST {base}/{model}/v1/predict` with
// `{"inputs": [...], "parameters": {...}}`, as MLflow's mosaicml provider calls it.
import { z } from 'zod';
import { secretSchema } from '../config/secrets.js';
import { InvalidRequestError, UpstreamError } from '../errors.js';
import type { ChatMessage, ChatRequest, ChatResponse } from '../schemas/chat.js';
import type { CompletionsRequest, CompletionsResponse } from '../schemas/completions.js';
import type { EmbeddingsRequest, EmbeddingsResponse } from '../schemas/embeddings.js';
import { isRecord } from '../schemas/json.js';
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
import { joinTextParts } from './message-text.js';
import { renameFields } from './renames.js';
import { nowSeconds } from './timestamps.js';

/** MosaicML's hosted tier is retired; the base is configurable for servers with the same API. */
export const MOSAICML_API_BASE = 'https://models.hosted-on.mosaicml.hosting';
const DISPLAY_NAME = 'MosaicML';

export const mosaicMlConfigSchema = z.object({
  mosaicml_api_key: secretSchema,
  mosaicml_api_base: apiBaseSchema.default(MOSAICML_API_BASE),
});
export type MosaicMlConfig = z.infer<typeof mosaicMlConfigSchema>;

const MODEL_NAME_REQUIRED =
  'MosaicML endpoints must name a model (model.name): the predict URL contains it and clients may not send one.';

/** Reference §1: only Llama 2 models get the chat prompt template. */
const CHAT_MODEL_PREFIXES = ['llama2'] as const;

/** Reference §1: every endpoint needs a model, and a chat endpoint a Llama 2 one. */
export function checkMosaicMlEndpoint(facts: EndpointFacts<unknown>): string[] {
  const name = facts.modelName;
  if (!name) return [MODEL_NAME_REQUIRED];
  const lower = name.toLowerCase();
  if (
    facts.endpointType !== 'llm/v1/chat' ||
    CHAT_MODEL_PREFIXES.some((prefix) => lower.startsWith(prefix))
  ) {
    return [];
  }
  return [
    `An invalid model has been specified for the chat route. '${name}'. Ensure the model selected starts with one of: ['llama2']`,
  ];
}

const GENERATION_RENAMES = { max_tokens: 'max_new_tokens' } as const satisfies Partial<
  Record<keyof CompletionsRequest, string>
>;

const EMBEDDINGS_RENAMES = { input: 'inputs' } as const satisfies Partial<
  Record<keyof EmbeddingsRequest, string>
>;

const INST_CLOSE = '[/INST]';
const TURN_BREAK = '</s><s>';

/**
 * MLflow crashed (a bare 500) on content that is not a string and wrote a missing assistant
 * content as `None`; text parts joined and absent content as empty is what a client means.
 */
function messageText(message: ChatMessage, index: number): string {
  const content = message.content;
  if (content === undefined) return '';
  return typeof content === 'string'
    ? content
    : joinTextParts(content, `messages.${index}.content`, DISPLAY_NAME);
}

/**
 * Reference §4: the Llama 2 chat template. Consecutive system/user messages merge into one
 * `[INST]` turn; a trailing turn break is dropped so the model continues an assistant turn.
 */
export function toLlama2Prompt(messages: readonly ChatMessage[]): string {
  let prompt = '<s>';
  for (const [index, message] of messages.entries()) {
    const text = messageText(message, index);
    switch (message.role) {
      case 'system':
      case 'user': {
        let inst =
          message.role === 'system' ? `<<SYS>> ${text} <</SYS>> ${INST_CLOSE}` : `${text} ${INST_CLOSE}`;
        if (prompt.endsWith(INST_CLOSE)) prompt = prompt.slice(0, -INST_CLOSE.length);
        else inst = `[INST] ${inst}`;
        prompt += inst;
        break;
      }
      case 'assistant':
        prompt += ` ${text} ${TURN_BREAK}`;
        break;
      default:
        throw new InvalidRequestError(
          422,
          `An invalid request structure was submitted. Invalid role ${message.role} inputted. Must be one of 'system', 'user', or 'assistant'.`,
          `messages.${index}.role`,
        );
    }
  }
  return prompt.endsWith(TURN_BREAK) ? prompt.slice(0, -TURN_BREAK.length) : prompt;
}

/** Reference §4: one rendered prompt; every other key (max_tokens renamed) is a parameter. */
export function toMosaicMlChatBody(request: ChatRequest): Record<string, unknown> {
  const { messages, ...rest } = request;
  rejectModelField(rest);
  const parameters = renameFields(rest, GENERATION_RENAMES);
  return { inputs: [toLlama2Prompt(messages)], parameters };
}

/** Reference §3: the prompt as a one-item `inputs`, every other key a parameter. */
export function toMosaicMlCompletionsBody(request: CompletionsRequest): Record<string, unknown> {
  const { prompt, ...rest } = request;
  rejectModelField(rest);
  return { inputs: [prompt], parameters: renameFields(rest, GENERATION_RENAMES) };
}

/** Reference §5: `input` is `inputs`, always a list; other keys stay at the top level. */
export function toMosaicMlEmbeddingsBody(request: EmbeddingsRequest): Record<string, unknown> {
  rejectModelField(request);
  const body = renameFields(request, EMBEDDINGS_RENAMES);
  if (typeof body.inputs === 'string') body.inputs = [body.inputs];
  return body;
}

const TOKEN_LIMIT_PREFIXES = ['Error: max output tokens is limited to', 'Error: prompt token count'] as const;

/**
 * Reference §6: MosaicML reports a prompt or output over the model's token limit as a 500;
 * it is the request's fault, so the client gets 422 with MosaicML's body unchanged.
 */
export function toTokenLimitError(error: unknown): unknown {
  if (!(error instanceof UpstreamError) || error.status !== 500 || !isRecord(error.detail)) return error;
  const message = error.detail.message;
  if (typeof message !== 'string' || !TOKEN_LIMIT_PREFIXES.some((prefix) => message.startsWith(prefix))) {
    return error;
  }
  return new UpstreamError(422, error.detail);
}

const textOutputsSchema = z.object({ outputs: z.array(z.string()) });
const embeddingOutputsSchema = z.object({ outputs: z.array(z.array(z.number())) });

/** Reference §4: role assistant, id null, no finish reason or usage, the configured model. */
export function fromMosaicMlChatResponse(json: unknown, modelName: string): ChatResponse {
  const body = parseUpstreamBody(textOutputsSchema, json, DISPLAY_NAME);
  return {
    id: null,
    object: 'chat.completion',
    created: nowSeconds(),
    model: modelName,
    choices: body.outputs.map((output, index) => ({
      index,
      message: { role: 'assistant', content: output, tool_calls: null, refusal: null },
      finish_reason: null,
    })),
    usage: { prompt_tokens: null, completion_tokens: null, total_tokens: null },
  };
}

export function fromMosaicMlCompletionsResponse(json: unknown, modelName: string): CompletionsResponse {
  const body = parseUpstreamBody(textOutputsSchema, json, DISPLAY_NAME);
  return {
    id: null,
    object: 'text_completion',
    created: nowSeconds(),
    model: modelName,
    choices: body.outputs.map((output, index) => ({ index, text: output, finish_reason: null })),
    usage: { prompt_tokens: null, completion_tokens: null, total_tokens: null },
  };
}

export function fromMosaicMlEmbeddingsResponse(json: unknown, modelName: string): EmbeddingsResponse {
  const body = parseUpstreamBody(embeddingOutputsSchema, json, DISPLAY_NAME);
  return {
    object: 'list',
    data: body.outputs.map((embedding, index) => ({ object: 'embedding', embedding, index })),
    model: modelName,
    usage: { prompt_tokens: null, total_tokens: null },
  };
}

export class MosaicMlAdapter extends ProviderAdapter<MosaicMlConfig> {
  static readonly provider = 'mosaicml';
  static readonly displayName = DISPLAY_NAME;
  static readonly configSchema = mosaicMlConfigSchema;
  static readonly supports = { chat: 'unary', completions: 'unary', embeddings: true } as const;
  static readonly checkEndpoint = checkMosaicMlEndpoint;

  readonly #headers: UpstreamHeaders;
  readonly #target: UpstreamTarget;
  readonly #model: string;

  constructor(init: AdapterInit<MosaicMlConfig>) {
    super(init, DISPLAY_NAME);
    const { config, upstream } = init;
    this.#model = init.modelName ?? '';
    // Reference §1: the raw key is the whole Authorization value, without `Bearer `.
    this.#headers = jsonHeaders({ authorization: config.mosaicml_api_key.reveal() });
    this.#target = upstream.target(
      joinUrl(config.mosaicml_api_base, `${encodeURIComponent(this.#model)}/v1/predict`),
    );
  }

  #predict(body: unknown, context: CallContext): Promise<unknown> {
    return this.init.upstream.postJson(this.#target, this.#headers, body, context);
  }

  async #generate(body: unknown, context: CallContext): Promise<unknown> {
    try {
      return await this.#predict(body, context);
    } catch (error) {
      throw toTokenLimitError(error);
    }
  }

  override async chat(request: ChatRequest, context: CallContext): Promise<ChatResponse> {
    const json = await this.#generate(toMosaicMlChatBody(request), context);
    return fromMosaicMlChatResponse(json, this.#model);
  }

  override async completions(
    request: CompletionsRequest,
    context: CallContext,
  ): Promise<CompletionsResponse> {
    const json = await this.#generate(toMosaicMlCompletionsBody(request), context);
    return fromMosaicMlCompletionsResponse(json, this.#model);
  }

  override async embeddings(request: EmbeddingsRequest, context: CallContext): Promise<EmbeddingsResponse> {
    const json = await this.#predict(toMosaicMlEmbeddingsBody(request), context);
    return fromMosaicMlEmbeddingsResponse(json, this.#model);
  }
}
