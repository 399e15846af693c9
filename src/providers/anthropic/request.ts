import { InvalidRequestError } from '../../errors.js';
import type { ChatMessage, ChatRequest, ContentPart, Tool } from '../../schemas/chat.js';
import type { CompletionsRequest } from '../../schemas/completions.js';
import { isRecord } from '../../schemas/json.js';
import { applyParameterRules, parameterTable } from '../parameter-ranges.js';

/** Reference §3. */
const DEFAULT_MAX_TOKENS = 8192;
const MAX_TOKENS_LIMIT = 1_000_000;
/** The gateway's 0–2 temperature onto Anthropic's 0–1. */
const TEMPERATURE_SCALE = 0.5;

const RENAMES = { stop: 'stop_sequences' } as const satisfies Partial<Record<keyof ChatRequest, string>>;
type Renames = Readonly<Record<string, string>>;

/** Gateway fields the mappers set themselves or that Anthropic has no field for. */
const COMMON_HANDLED = ['model', 'n', 'temperature', 'max_tokens', 'max_completion_tokens', 'stream_options'];
const CHAT_HANDLED = new Set([
  ...COMMON_HANDLED,
  'messages',
  'tools',
  'tool_choice',
  'parallel_tool_calls',
  'response_format',
]);
const COMPLETIONS_HANDLED = new Set([...COMMON_HANDLED, 'prompt']);

/** [2026] OpenAI `tool_choice` strings → Anthropic's objects; other shapes are dropped. */
const TOOL_CHOICES: Readonly<Record<string, { type: string }>> = {
  none: { type: 'none' },
  auto: { type: 'auto' },
  required: { type: 'any' },
};

/**
 * OpenAI fields the Messages API has no counterpart for (it refuses unknown fields). A penalty
 * of 0, the default many clients send, asks for nothing and is left out; any other penalty or a
 * seed would be silently ignored, so it is refused. `top_k` has no range to narrow (≥ 0 both sides).
 */
const PARAMETER_RULES = parameterTable('Anthropic', {
  presence_penalty: { kind: 'unsupported', neutral: 0 },
  frequency_penalty: { kind: 'unsupported', neutral: 0 },
  seed: { kind: 'unsupported' },
});

const TOP_P_CHAT = "Cannot set both 'temperature' and 'top_p' parameters.";
const TOP_P_COMPLETIONS = `${TOP_P_CHAT} Please use only the temperature parameter for your query.`;

/** A tool without parameters still needs an `input_schema` on Anthropic. */
const EMPTY_INPUT_SCHEMA = { type: 'object', properties: {} } as const;
const DATA_URL_PREFIX = 'data:';
const BASE64_MARKER = ';base64,';

export type AnthropicBody = Record<string, unknown>;

function invalid(detail: string, field: string): never {
  throw new InvalidRequestError(422, detail, field);
}

/** `max_tokens`, else [2026] `max_completion_tokens`, else 8192; at most 1,000,000. */
function toMaxTokens(request: ChatRequest | CompletionsRequest): number {
  const fallback = request.max_completion_tokens;
  if (fallback !== undefined && !(Number.isInteger(fallback) && (fallback as number) >= 1)) {
    invalid('Invalid value for max_completion_tokens: must be a positive integer.', 'max_completion_tokens');
  }
  const maxTokens = request.max_tokens ?? (fallback as number | undefined) ?? DEFAULT_MAX_TOKENS;
  if (maxTokens > MAX_TOKENS_LIMIT) {
    invalid(`Invalid value for max_tokens: cannot exceed ${MAX_TOKENS_LIMIT}.`, 'max_tokens');
  }
  return maxTokens;
}

/** Reference §4 steps 2–6 and 9, §7: the checks and parameters chat and completions share. */
function toParameters(
  request: ChatRequest | CompletionsRequest,
  model: string | null,
  handled: ReadonlySet<string>,
  topPDetail: string,
): AnthropicBody {
  if (request.top_p !== undefined) invalid(topPDetail, 'top_p');
  const maxTokens = toMaxTokens(request);
  if (request.n !== 1) {
    invalid(`'n' must be '1' for the Anthropic provider. Received value: '${request.n}'.`, 'n');
  }
  const body: AnthropicBody = { model };
  const renames: Renames = RENAMES;
  for (const [key, value] of Object.entries(applyParameterRules(request, PARAMETER_RULES))) {
    if (value === undefined || handled.has(key)) continue;
    body[renames[key] ?? key] = value;
  }
  body.max_tokens = maxTokens;
  body.temperature = request.temperature * TEMPERATURE_SCALE;
  return body;
}

/** An OpenAI `image_url` part as Anthropic's image block: a data URL inline, anything else by URL. */
function toImageBlock(url: string): AnthropicBody {
  const marker = url.indexOf(BASE64_MARKER);
  if (url.startsWith(DATA_URL_PREFIX) && marker !== -1) {
    const mediaType = url.slice(DATA_URL_PREFIX.length, marker);
    const data = url.slice(marker + BASE64_MARKER.length);
    return { type: 'image', source: { type: 'base64', media_type: mediaType, data } };
  }
  return { type: 'image', source: { type: 'url', url } };
}

function toContentBlock(part: ContentPart, field: string): AnthropicBody {
  switch (part.type) {
    case 'text':
      return { type: 'text', text: part.text };
    case 'image_url':
      return toImageBlock(part.image_url.url);
    case 'input_audio':
      return invalid('Audio input is not supported by the Anthropic provider.', field);
  }
}

function toContent(content: ChatMessage['content'], field: string): unknown {
  return Array.isArray(content) ? content.map((part) => toContentBlock(part, field)) : content;
}

/** Reference §4 step 7: every system message's text, joined with newlines into `system`. */
function toSystem(messages: readonly ChatMessage[]): string | undefined {
  const texts = messages.flatMap(({ role, content }, index) => {
    if (role !== 'system' || content === undefined) return [];
    if (typeof content === 'string') return [content];
    const parts = content.map((part) =>
      part.type === 'text'
        ? part.text
        : invalid(
            'System messages can only contain text for the Anthropic provider.',
            `messages.${index}.content`,
          ),
    );
    return [parts.join('')];
  });
  return texts.length === 0 ? undefined : texts.join('\n');
}

function parseArguments(text: string, field: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return invalid('Tool call arguments must be valid JSON for the Anthropic provider.', field);
  }
}

function toAssistantMessage(message: ChatMessage, index: number): AnthropicBody {
  const calls = message.tool_calls;
  if (calls === undefined || calls.length === 0) {
    return { role: 'assistant', content: toContent(message.content, `messages.${index}.content`) };
  }
  // Reference §4 step 8: the tool calls replace the assistant's content.
  const content = calls.map((call, callIndex) => ({
    type: 'tool_use',
    id: call.id,
    name: call.function.name,
    input: parseArguments(
      call.function.arguments,
      `messages.${index}.tool_calls.${callIndex}.function.arguments`,
    ),
  }));
  return { role: 'assistant', content };
}

/** Reference §4 step 8: user, assistant and tool messages in order; other roles are dropped. */
function toMessages(messages: readonly ChatMessage[]): AnthropicBody[] {
  return messages.flatMap((message, index): AnthropicBody[] => {
    const field = `messages.${index}.content`;
    switch (message.role) {
      case 'user':
        return [{ role: 'user', content: toContent(message.content, field) }];
      case 'assistant':
        return [toAssistantMessage(message, index)];
      case 'tool': {
        const content = toContent(message.content, field);
        const result = { type: 'tool_result', tool_use_id: message.tool_call_id, content };
        return [{ role: 'user', content: [result] }];
      }
      default:
        return [];
    }
  });
}

function toTool(tool: Tool, index: number): AnthropicBody {
  if (tool.type !== 'function') {
    invalid(
      `Only function calling tool is supported, but received tool type ${tool.type}`,
      `tools.${index}.type`,
    );
  }
  const definition =
    tool.function ?? invalid('A function tool needs a function definition.', `tools.${index}`);
  return {
    name: definition.name,
    description: definition.description,
    input_schema: definition.parameters ?? EMPTY_INPUT_SCHEMA,
  };
}

function toToolChoice(choice: unknown): AnthropicBody | undefined {
  if (typeof choice === 'string') return TOOL_CHOICES[choice];
  if (isRecord(choice) && choice.type === 'function' && isRecord(choice.function)) {
    const name = choice.function.name;
    if (typeof name === 'string') return { type: 'tool', name };
  }
  return undefined;
}

/**
 * OpenAI's `parallel_tool_calls: false` is Anthropic's `disable_parallel_tool_use` on the tool
 * choice (auto when none was given, as a request with tools); `none` takes no such flag, and
 * `true` is both APIs' default.
 */
function withParallelism(choice: AnthropicBody | undefined, parallel: unknown): AnthropicBody | undefined {
  if (parallel !== false || choice?.type === 'none') return choice;
  return { ...(choice ?? { type: 'auto' }), disable_parallel_tool_use: true };
}

/** [2026] OpenAI `json_schema` response formats → Anthropic structured outputs (`output_config.format`). */
function toOutputFormat(responseFormat: unknown): AnthropicBody | undefined {
  if (!isRecord(responseFormat) || responseFormat.type !== 'json_schema') return undefined;
  const schema = isRecord(responseFormat.json_schema) ? responseFormat.json_schema.schema : undefined;
  if (!isRecord(schema))
    invalid('A json_schema response format needs a schema.', 'response_format.json_schema.schema');
  return { type: 'json_schema', schema };
}

/** Reference §4 (and §10's [2026] additions): a gateway chat request as a Messages request. */
export function toAnthropicChatBody(request: ChatRequest, model: string | null): AnthropicBody {
  const body = toParameters(request, model, CHAT_HANDLED, TOP_P_CHAT);
  const system = toSystem(request.messages);
  if (system !== undefined) body.system = system;
  body.messages = toMessages(request.messages);
  if (request.tools !== undefined) body.tools = request.tools.map(toTool);
  const toolChoice =
    request.tools === undefined
      ? toToolChoice(request.tool_choice)
      : withParallelism(toToolChoice(request.tool_choice), request.parallel_tool_calls);
  if (toolChoice !== undefined) body.tool_choice = toolChoice;
  const format = toOutputFormat(request.response_format);
  if (format !== undefined) {
    body.output_config = { ...(isRecord(request.output_config) ? request.output_config : {}), format };
  }
  return body;
}

/** Reference §7 "recommended current-API target": the prompt as one user message. */
export function toAnthropicCompletionsBody(request: CompletionsRequest, model: string | null): AnthropicBody {
  const body = toParameters(request, model, COMPLETIONS_HANDLED, TOP_P_COMPLETIONS);
  body.messages = [{ role: 'user', content: request.prompt }];
  return body;
}
