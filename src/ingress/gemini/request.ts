import { InvalidRequestError } from '../../errors.js';
import type {
  ChatMessage,
  ChatRequest,
  ContentPart,
  FunctionDefinition,
  Tool,
  ToolCall,
} from '../../schemas/chat.js';
import type {
  FunctionDeclaration,
  GeminiContent,
  GeminiPart,
  GeminiToolConfig,
  GenerateContentRequest,
  GenerationConfig,
} from './schema.js';

// Gemini request → the gateway's chat request (reference ingress.md §5.5).

/** Gemini's default temperature; the gateway's chat schema would otherwise pin 0. */
const DEFAULT_TEMPERATURE = 1;
const IMAGE_MIME = /^image\//;
/** Part fields the chat format carries; any other field (code execution, video metadata) is refused. */
const KNOWN_PART_FIELDS = new Set([
  'text',
  'thought',
  'thoughtSignature',
  'inlineData',
  'fileData',
  'functionCall',
  'functionResponse',
]);

function invalid(message: string, param: string): never {
  throw new InvalidRequestError(400, `${param}: ${message}`, param);
}

/**
 * Call ids: Gemini API calls usually carry none, the chat format needs one per call, and a
 * `functionResponse` without an id answers the oldest open call of the same name (§7).
 */
class CallIds {
  readonly #open = new Map<string, string[]>();
  #count = 0;

  issue(name: string, id: string | undefined): string {
    const issued = id ?? `call_${this.#count}`;
    this.#count += 1;
    const queue = this.#open.get(name) ?? [];
    queue.push(issued);
    this.#open.set(name, queue);
    return issued;
  }

  answer(name: string, id: string | undefined, field: string): string {
    const queue = this.#open.get(name);
    if (id !== undefined) {
      const at = queue?.indexOf(id) ?? -1;
      if (at !== -1) queue?.splice(at, 1);
      return id;
    }
    return queue?.shift() ?? invalid(`no earlier functionCall named '${name}' for this response.`, field);
  }
}

function toImagePart(part: GeminiPart, field: string): ContentPart {
  if (part.inlineData) {
    const { mimeType, data } = part.inlineData;
    if (!IMAGE_MIME.test(mimeType))
      invalid(`only images can be translated, not '${mimeType}'.`, `${field}.inlineData`);
    return { type: 'image_url', image_url: { url: `data:${mimeType};base64,${data}` } };
  }
  const file = part.fileData ?? invalid('the part has no content.', field);
  if (file.mimeType !== undefined && !IMAGE_MIME.test(file.mimeType)) {
    invalid(`only images can be translated, not '${file.mimeType}'.`, `${field}.fileData`);
  }
  return { type: 'image_url', image_url: { url: file.fileUri } };
}

function checkPartFields(part: GeminiPart, field: string): void {
  for (const key of Object.keys(part)) {
    if (!KNOWN_PART_FIELDS.has(key))
      invalid(`'${key}' parts cannot be translated for this endpoint's provider.`, `${field}.${key}`);
  }
}

function textOf(parts: ContentPart[]): ChatMessage['content'] {
  const [only] = parts;
  if (parts.length === 1 && only?.type === 'text') return only.text;
  return parts;
}

/** One Gemini turn: tool results first (the chat format wants them right after the calls). */
function addContent(messages: ChatMessage[], content: GeminiContent, field: string, ids: CallIds): void {
  const role = content.role === 'model' ? 'assistant' : 'user';
  const parts: ContentPart[] = [];
  const calls: ToolCall[] = [];
  content.parts.forEach((part, index) => {
    const at = `${field}.parts.${index}`;
    checkPartFields(part, at);
    if (part.thought === true) return;
    if (part.functionCall) {
      const { name, args, id } = part.functionCall;
      calls.push({
        id: ids.issue(name, id),
        type: 'function',
        function: { name, arguments: JSON.stringify(args ?? {}) },
      });
    } else if (part.functionResponse) {
      const { name, response, id } = part.functionResponse;
      const callId = ids.answer(name, id, `${at}.functionResponse`);
      messages.push({ role: 'tool', tool_call_id: callId, content: JSON.stringify(response) });
    } else if (part.text !== undefined) {
      parts.push({ type: 'text', text: part.text });
    } else if (part.inlineData || part.fileData) {
      parts.push(toImagePart(part, at));
    }
  });
  if (parts.length === 0 && calls.length === 0) return;
  const message: ChatMessage = { role };
  if (parts.length > 0) message.content = textOf(parts);
  if (calls.length > 0) message.tool_calls = calls;
  messages.push(message);
}

function toSystem(instruction: GenerateContentRequest['systemInstruction']): string | undefined {
  if (instruction === undefined) return undefined;
  if (typeof instruction === 'string') return instruction;
  return instruction.parts.map((part) => part.text ?? '').join('\n');
}

function toMessages(request: GenerateContentRequest): ChatMessage[] {
  const messages: ChatMessage[] = [];
  const system = toSystem(request.systemInstruction);
  if (system !== undefined) messages.push({ role: 'system', content: system });
  const ids = new CallIds();
  request.contents.forEach((content, index) => {
    addContent(messages, content, `contents.${index}`, ids);
  });
  return messages;
}

/** Gemini's OpenAPI Schema subset spells types in capitals (`OBJECT`); JSON Schema does not. */
function toJsonSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(toJsonSchema);
  if (typeof schema !== 'object' || schema === null) return schema;
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    result[key] = key === 'type' && typeof value === 'string' ? value.toLowerCase() : toJsonSchema(value);
  }
  return result;
}

function toTool(declaration: FunctionDeclaration): Tool {
  const parameters = declaration.parametersJsonSchema ??
    toJsonSchema(declaration.parameters) ?? {
      type: 'object',
      properties: {},
    };
  const definition: FunctionDefinition = {
    name: declaration.name,
    parameters: parameters as FunctionDefinition['parameters'],
  };
  if (declaration.description !== undefined) definition.description = declaration.description;
  return { type: 'function', function: definition };
}

function toTools(tools: GenerateContentRequest['tools']): Tool[] {
  const result: Tool[] = [];
  (tools ?? []).forEach((tool, index) => {
    for (const key of Object.keys(tool)) {
      if (key !== 'functionDeclarations') {
        invalid(`'${key}' tools run at Google and cannot be translated.`, `tools.${index}.${key}`);
      }
    }
    for (const declaration of tool.functionDeclarations ?? []) result.push(toTool(declaration));
  });
  return result;
}

function toToolChoice(config: GeminiToolConfig | undefined): unknown {
  const calling = config?.functionCallingConfig;
  if (calling === undefined) return undefined;
  const names = calling.allowedFunctionNames ?? [];
  if (names.length > 1) {
    invalid(
      'only one allowed function name can be translated.',
      'toolConfig.functionCallingConfig.allowedFunctionNames',
    );
  }
  const [name] = names;
  switch (calling.mode) {
    case 'NONE':
      return 'none';
    case 'ANY':
      return name === undefined ? 'required' : { type: 'function', function: { name } };
    default:
      return name === undefined ? 'auto' : { type: 'function', function: { name } };
  }
}

function toResponseFormat(config: GenerationConfig): unknown {
  if (config.responseMimeType !== 'application/json') return undefined;
  const schema = config.responseJsonSchema ?? toJsonSchema(config.responseSchema);
  if (schema === undefined) return { type: 'json_object' };
  return { type: 'json_schema', json_schema: { name: 'response', schema } };
}

function addGeneration(chat: ChatRequest, config: GenerationConfig): void {
  if (config.maxOutputTokens !== undefined) chat.max_tokens = config.maxOutputTokens;
  if (config.stopSequences !== undefined && config.stopSequences.length > 0) chat.stop = config.stopSequences;
  if (config.topP !== undefined) chat.top_p = config.topP;
  if (config.presencePenalty !== undefined) chat.presence_penalty = config.presencePenalty;
  if (config.frequencyPenalty !== undefined) chat.frequency_penalty = config.frequencyPenalty;
  if (config.seed !== undefined) chat.seed = config.seed;
  const responseFormat = toResponseFormat(config);
  if (responseFormat !== undefined) chat.response_format = responseFormat;
}

/** The chat request for a translated endpoint; `stream` adds the usage chunk request. */
export function toChatRequest(request: GenerateContentRequest, stream: boolean): ChatRequest {
  const config = request.generationConfig ?? {};
  const chat: ChatRequest = {
    messages: toMessages(request),
    temperature: config.temperature ?? DEFAULT_TEMPERATURE,
    n: config.candidateCount ?? 1,
  };
  addGeneration(chat, config);
  const tools = toTools(request.tools);
  if (tools.length > 0) chat.tools = tools;
  const toolChoice = toToolChoice(request.toolConfig);
  if (toolChoice !== undefined) chat.tool_choice = toolChoice;
  if (stream) {
    chat.stream = true;
    chat.stream_options = { include_usage: true };
  }
  if (chat.messages.length === 0) invalid('the request has no content to send.', 'contents');
  return chat;
}
