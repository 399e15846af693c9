import { InvalidRequestError } from '../../errors.js';
import type { ChatMessage, ChatRequest, ContentPart, Tool } from '../../schemas/chat.js';
import type { CompletionsRequest } from '../../schemas/completions.js';
import type { EmbeddingsRequest } from '../../schemas/embeddings.js';
import { isRecord } from '../../schemas/json.js';

export type GeminiBody = Record<string, unknown>;

/** Reference §3 step 2: Gemini's own spellings are refused, in this order, naming the gateway's. */
const GEMINI_SPELLINGS = [
  ['stopSequences', 'stop'],
  ['candidateCount', 'n'],
  ['maxOutputTokens', 'max_tokens'],
  ['topK', 'top_k'],
  ['topP', 'top_p'],
] as const;

/** Reference §3 step 4, plus OpenAI fields Gemini's `generationConfig` also takes. */
const GENERATION_RENAMES = {
  temperature: 'temperature',
  stop: 'stopSequences',
  n: 'candidateCount',
  max_tokens: 'maxOutputTokens',
  top_k: 'topK',
  top_p: 'topP',
  presence_penalty: 'presencePenalty',
  frequency_penalty: 'frequencyPenalty',
  seed: 'seed',
} as const satisfies Partial<Record<keyof ChatRequest, string>>;
const GENERATION_FIELDS = Object.entries(GENERATION_RENAMES);

/** OpenAI `tool_choice` strings → Gemini's function-calling modes. */
const CALLING_MODES: Readonly<Record<string, string>> = { none: 'NONE', auto: 'AUTO', required: 'ANY' };

const JSON_MIME_TYPE = 'application/json';
const DATA_URL = /^data:([^;,]+);base64,(.*)$/s;
const MODELS_PREFIX = 'models/';

function invalid(detail: string, field: string): never {
  throw new InvalidRequestError(422, detail, field);
}

/** The model id as it goes into `models/{model}` (a configured `models/` prefix is not doubled). */
export function toModelId(model: string): string {
  return model.startsWith(MODELS_PREFIX) ? model.slice(MODELS_PREFIX.length) : model;
}

function toPart(part: ContentPart): GeminiBody {
  switch (part.type) {
    case 'text':
      return { text: part.text };
    case 'image_url': {
      const match = DATA_URL.exec(part.image_url.url);
      if (match) return { inlineData: { mimeType: match[1], data: match[2] } };
      return { fileData: { fileUri: part.image_url.url } };
    }
    case 'input_audio':
      return { inlineData: { mimeType: `audio/${part.input_audio.format}`, data: part.input_audio.data } };
  }
}

function toParts(content: ChatMessage['content']): GeminiBody[] {
  if (content === undefined) return [];
  return typeof content === 'string' ? [{ text: content }] : content.map(toPart);
}

/** A message's text: a string, or its text parts joined (tool results and system text). */
function toText(content: ChatMessage['content'], field: string, what: string): string {
  if (content === undefined || typeof content === 'string') return content ?? '';
  return content
    .map((part) => (part.type === 'text' ? part.text : invalid(`${what} can only contain text.`, field)))
    .join('');
}

function parseArguments(text: string, field: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return invalid('Tool call arguments must be a JSON object for the Gemini provider.', field);
  }
  return isRecord(parsed) ? parsed : invalid('Tool call arguments must be a JSON object.', field);
}

/** A tool result as Gemini's `response` object: a JSON object as it is, anything else as `output`. */
function toFunctionResult(text: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(text);
    if (isRecord(parsed)) return parsed;
  } catch {
    // Plain text is the common case for OpenAI-style tools.
  }
  return { output: text };
}

interface ContentsBuilder {
  contents: GeminiBody[];
  system: GeminiBody[];
  /** Tool call id → function name, from the assistant turns seen so far. */
  callNames: Map<string, string>;
}

function addAssistant(builder: ContentsBuilder, message: ChatMessage, index: number): void {
  const parts = toParts(message.content);
  for (const [callIndex, call] of (message.tool_calls ?? []).entries()) {
    const field = `messages.${index}.tool_calls.${callIndex}.function.arguments`;
    const args = parseArguments(call.function.arguments, field);
    builder.callNames.set(call.id, call.function.name);
    parts.push({ functionCall: { id: call.id, name: call.function.name, args } });
  }
  builder.contents.push({ role: 'model', parts });
}

function addToolResult(builder: ContentsBuilder, message: ChatMessage, index: number): void {
  const id = message.tool_call_id;
  const name = id === undefined ? undefined : builder.callNames.get(id);
  if (id === undefined || name === undefined) {
    invalid(
      `Tool message ${index} answers no earlier assistant tool call (tool_call_id ${id ?? 'missing'}).`,
      `messages.${index}.tool_call_id`,
    );
  }
  const text = toText(message.content, `messages.${index}.content`, 'Tool messages');
  const part = { functionResponse: { id, name, response: toFunctionResult(text) } };
  // Gemini wants the answers to parallel calls in one turn, as many parts as there were calls.
  const previous = builder.contents.at(-1);
  const previousParts = previous?.parts;
  if (previous?.role === 'user' && Array.isArray(previousParts) && isFunctionResponses(previousParts)) {
    previousParts.push(part);
  } else {
    builder.contents.push({ role: 'user', parts: [part] });
  }
}

function isFunctionResponses(parts: unknown[]): boolean {
  return parts.every((part) => isRecord(part) && 'functionResponse' in part);
}

/** Reference §3 step 5: messages → `contents` and `system_instruction` parts, in order. */
function toContents(messages: readonly ChatMessage[]): ContentsBuilder {
  const builder: ContentsBuilder = { contents: [], system: [], callNames: new Map() };
  for (const [index, message] of messages.entries()) {
    switch (message.role) {
      case 'user':
        builder.contents.push({ role: 'user', parts: toParts(message.content) });
        break;
      case 'assistant':
        addAssistant(builder, message, index);
        break;
      case 'tool':
        addToolResult(builder, message, index);
        break;
      case 'system':
      case 'developer': {
        const text = toText(message.content, `messages.${index}.content`, 'System messages');
        builder.system.push({ text });
        break;
      }
      default:
        break;
    }
  }
  return builder;
}

/** Reference §3 steps 2–4 and 6: the checks, then `generationConfig` from the fields present. */
function toGenerationConfig(request: ChatRequest | CompletionsRequest): GeminiBody | undefined {
  for (const [gemini, gateway] of GEMINI_SPELLINGS) {
    if (request[gemini] !== undefined)
      invalid(`Invalid parameter ${gemini}. Use ${gateway} instead.`, gemini);
  }
  const topP = request.top_p;
  if (typeof topP === 'number' && topP > 1) invalid('top_p should be less than or equal to 1', 'top_p');
  const config: GeminiBody = {};
  for (const [gateway, gemini] of GENERATION_FIELDS) {
    const value = request[gateway];
    if (value !== undefined) config[gemini] = value;
  }
  // [2026] OpenAI's newer name for the output limit.
  if (config.maxOutputTokens === undefined && request.max_completion_tokens !== undefined) {
    config.maxOutputTokens = request.max_completion_tokens;
  }
  Object.assign(config, toResponseFormat(request.response_format));
  return Object.keys(config).length === 0 ? undefined : config;
}

/** OpenAI `response_format` → Gemini's JSON mode (`responseMimeType`, `responseJsonSchema`). */
function toResponseFormat(format: unknown): GeminiBody {
  if (!isRecord(format)) return {};
  if (format.type === 'json_object') return { responseMimeType: JSON_MIME_TYPE };
  if (format.type !== 'json_schema') return {};
  const schema = isRecord(format.json_schema) ? format.json_schema.schema : undefined;
  if (!isRecord(schema)) {
    invalid('A json_schema response format needs a schema.', 'response_format.json_schema.schema');
  }
  return { responseMimeType: JSON_MIME_TYPE, responseJsonSchema: schema };
}

function toFunctionDeclaration(tool: Tool, index: number): GeminiBody {
  if (tool.type !== 'function') {
    invalid(
      `Only function calling tool is supported, but received tool type ${tool.type}`,
      `tools.${index}.type`,
    );
  }
  const definition =
    tool.function ?? invalid('A function tool needs a function definition.', `tools.${index}.function`);
  const declaration: GeminiBody = { name: definition.name };
  if (definition.description !== undefined) declaration.description = definition.description;
  if (definition.parameters !== undefined) declaration.parametersJsonSchema = definition.parameters;
  return declaration;
}

function toToolConfig(choice: unknown): GeminiBody | undefined {
  if (typeof choice === 'string') {
    const mode = CALLING_MODES[choice];
    return mode === undefined ? undefined : { functionCallingConfig: { mode } };
  }
  if (isRecord(choice) && choice.type === 'function' && isRecord(choice.function)) {
    const name = choice.function.name;
    if (typeof name === 'string') {
      return { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: [name] } };
    }
  }
  return undefined;
}

/**
 * Reference §3: the whole upstream body. Keys Gemini has no use for are dropped (step 8); the
 * few Gemini-native top-level keys a client may send (`safetySettings`) go through.
 */
function toGenerateContentBody(
  request: ChatRequest | CompletionsRequest,
  messages: readonly ChatMessage[],
): GeminiBody {
  const generationConfig = toGenerationConfig(request);
  const { contents, system } = toContents(messages);
  const body: GeminiBody = { contents };
  if (system.length > 0) body.system_instruction = { parts: system };
  if (generationConfig !== undefined) body.generationConfig = generationConfig;
  if (request.safetySettings !== undefined) body.safetySettings = request.safetySettings;
  return body;
}

export function toGeminiChatBody(request: ChatRequest): GeminiBody {
  const body = toGenerateContentBody(request, request.messages);
  if (request.tools !== undefined && request.tools.length > 0) {
    body.tools = [{ functionDeclarations: request.tools.map(toFunctionDeclaration) }];
  }
  const toolConfig = toToolConfig(request.tool_choice);
  if (toolConfig !== undefined) body.toolConfig = toolConfig;
  return body;
}

/** Reference §6: the prompt as one user turn, after an optional `system_prompt`. */
export function toGeminiCompletionsBody(request: CompletionsRequest): GeminiBody {
  const messages: ChatMessage[] = [{ role: 'user', content: request.prompt }];
  const systemPrompt = request.system_prompt;
  if (systemPrompt !== undefined) {
    if (typeof systemPrompt !== 'string') invalid('system_prompt must be a string.', 'system_prompt');
    messages.unshift({ role: 'system', content: systemPrompt });
  }
  return toGenerateContentBody(request, messages);
}

/** One embeddings call: which method, and its body. */
export interface GeminiEmbeddingsCall {
  isBatch: boolean;
  body: GeminiBody;
}

/** Reference §8: one text → `embedContent`; two or more → `batchEmbedContents`. */
export function toGeminiEmbeddingsCall(request: EmbeddingsRequest, model: string): GeminiEmbeddingsCall {
  const texts = typeof request.input === 'string' ? [request.input] : request.input;
  if (texts.length === 0) invalid('input must contain at least one text.', 'input');
  const dimensions = request.dimensions;
  const extra: GeminiBody = dimensions === undefined ? {} : { outputDimensionality: dimensions };
  const requests = texts.map((text) => {
    if (typeof text !== 'string') invalid('Gemini embeddings take text, not token ids.', 'input');
    return { content: { parts: [{ text }] }, ...extra };
  });
  const [first] = requests;
  if (requests.length === 1 && first !== undefined) return { isBatch: false, body: first };
  const modelName = `${MODELS_PREFIX}${model}`;
  return {
    isBatch: true,
    body: { requests: requests.map((item) => ({ model: modelName, ...item })) },
  };
}
