import { InvalidRequestError } from '../../errors.js';
import type { ChatMessage, ChatRequest, ContentPart, FunctionDefinition, Tool } from '../../schemas/chat.js';
import type {
  ResponsesFunctionTool,
  ResponsesInputItem,
  ResponsesInputPart,
  ResponsesRequest,
  ResponsesTool,
  ResponsesToolChoice,
} from './schema.js';

// Responses request → the gateway's chat request (reference ingress.md §5.4, "CC" column).

/** How a tool was declared, so its calls go back to the client as the right item type. */
export type ToolKind = 'function' | 'custom' | 'local_shell';

export interface ChatTranslation {
  chat: ChatRequest;
  toolKinds: ReadonlyMap<string, ToolKind>;
}

/** OpenAI's default; the gateway's chat schema would otherwise pin 0 (MLflow's default). */
const DEFAULT_TEMPERATURE = 1;
export const LOCAL_SHELL = 'local_shell';

/** Codex's freeform tools (apply_patch) take their whole input as one string. */
const CUSTOM_PARAMETERS = {
  type: 'object',
  properties: { input: { type: 'string', description: 'The raw input for the tool.' } },
  required: ['input'],
  additionalProperties: false,
};

/** The arguments of openai-node's `LocalShellCall.Action` that a model chooses. */
const LOCAL_SHELL_PARAMETERS = {
  type: 'object',
  properties: {
    command: { type: 'array', items: { type: 'string' }, description: 'The command and its arguments.' },
    workdir: { type: 'string', description: 'The working directory.' },
    timeout_ms: { type: 'integer', description: 'Timeout in milliseconds.' },
  },
  required: ['command'],
  additionalProperties: false,
};

function invalid(message: string, param: string): never {
  throw new InvalidRequestError(400, message, param);
}

function toPart(part: ResponsesInputPart, field: string): ContentPart {
  switch (part.type) {
    case 'input_text':
    case 'output_text':
      return { type: 'text', text: part.text };
    case 'refusal':
      return { type: 'text', text: part.refusal };
    case 'input_image':
      if (part.image_url === undefined) {
        return invalid(
          `${field}: images uploaded as files (file_id) cannot be translated; send image_url.`,
          `${field}.file_id`,
        );
      }
      return {
        type: 'image_url',
        image_url:
          part.detail === undefined ? { url: part.image_url } : { url: part.image_url, detail: part.detail },
      };
  }
}

function toContent(content: string | ResponsesInputPart[], field: string): ChatMessage['content'] {
  if (typeof content === 'string') return content;
  const parts = content.map((part, index) => toPart(part, `${field}.${index}`));
  const [only] = parts;
  return parts.length === 1 && only?.type === 'text' ? only.text : parts;
}

/** A tool's output is text in the chat format. */
function toToolOutput(output: string | ResponsesInputPart[], field: string): string {
  if (typeof output === 'string') return output;
  return output
    .map((part, index) => {
      const mapped = toPart(part, `${field}.${index}`);
      if (mapped.type !== 'text') {
        return invalid(`${field}.${index}: only text can be returned from a tool here.`, `${field}.${index}`);
      }
      return mapped.text;
    })
    .join('');
}

/** Appends a tool call to the assistant turn it belongs to (the last message, or a new one). */
function addToolCall(messages: ChatMessage[], id: string, name: string, args: string): void {
  const call = { id, type: 'function', function: { name, arguments: args } };
  const last = messages.at(-1);
  if (last?.role === 'assistant') {
    last.tool_calls = [...(last.tool_calls ?? []), call];
    return;
  }
  messages.push({ role: 'assistant', tool_calls: [call] });
}

function addItem(messages: ChatMessage[], item: ResponsesInputItem, field: string): void {
  switch (item.type) {
    case 'message': {
      const role = item.role === 'developer' ? 'system' : item.role;
      messages.push({ role, content: toContent(item.content, `${field}.content`) });
      return;
    }
    case 'function_call':
      addToolCall(messages, item.call_id, item.name, item.arguments);
      return;
    case 'custom_tool_call':
      addToolCall(messages, item.call_id, item.name, JSON.stringify({ input: item.input }));
      return;
    case 'local_shell_call': {
      const { command, working_directory, timeout_ms } = item.action;
      const args = { command, workdir: working_directory ?? undefined, timeout_ms: timeout_ms ?? undefined };
      addToolCall(messages, item.call_id, LOCAL_SHELL, JSON.stringify(args));
      return;
    }
    case 'function_call_output':
    case 'custom_tool_call_output':
      messages.push({
        role: 'tool',
        tool_call_id: item.call_id,
        content: toToolOutput(item.output, `${field}.output`),
      });
      return;
    case 'local_shell_call_output': {
      const id =
        item.call_id ??
        item.id ??
        invalid(`${field}: a local_shell_call_output needs its call's id.`, `${field}.id`);
      messages.push({ role: 'tool', tool_call_id: id, content: item.output });
      return;
    }
    case 'reasoning':
      return;
  }
}

function toMessages(request: ResponsesRequest): ChatMessage[] {
  const messages: ChatMessage[] = [];
  if (request.instructions != null) messages.push({ role: 'system', content: request.instructions });
  if (typeof request.input === 'string') {
    messages.push({ role: 'user', content: request.input });
  } else {
    request.input.forEach((item, index) => {
      addItem(messages, item, `input.${index}`);
    });
  }
  if (messages.length === 0) invalid('input: the request has no messages to send.', 'input');
  return messages;
}

function functionTool(name: string, description: string | null | undefined, parameters: object): Tool {
  const definition: FunctionDefinition = {
    name,
    parameters: parameters as FunctionDefinition['parameters'],
  };
  if (description != null) definition.description = description;
  return { type: 'function', function: definition };
}

function fromFunctionTool(tool: ResponsesFunctionTool): Tool {
  const result = functionTool(
    tool.name,
    tool.description,
    tool.parameters ?? { type: 'object', properties: {} },
  );
  if (tool.strict != null && result.function) result.function.strict = tool.strict;
  return result;
}

/** Every declared tool as a chat function tool, and how each was declared (§5.4). */
function toTools(tools: readonly ResponsesTool[]): { tools: Tool[]; kinds: Map<string, ToolKind> } {
  const result: Tool[] = [];
  const kinds = new Map<string, ToolKind>();
  const add = (kind: ToolKind, tool: Tool, index: number): void => {
    const name = tool.function?.name ?? '';
    if (kinds.has(name)) invalid(`tools.${index}: more than one tool is named '${name}'.`, `tools.${index}`);
    kinds.set(name, kind);
    result.push(tool);
  };
  tools.forEach((tool, index) => {
    switch (tool.type) {
      case 'function':
        add('function', fromFunctionTool(tool), index);
        return;
      case 'custom':
        add('custom', functionTool(tool.name, tool.description, CUSTOM_PARAMETERS), index);
        return;
      case 'local_shell':
        add('local_shell', functionTool(LOCAL_SHELL, 'Runs a shell command.', LOCAL_SHELL_PARAMETERS), index);
        return;
      case 'namespace':
        for (const inner of tool.tools) add('function', fromFunctionTool(inner), index);
        return;
    }
  });
  return { tools: result, kinds };
}

function toToolChoice(choice: ResponsesToolChoice): unknown {
  if (typeof choice === 'string') return choice;
  return { type: 'function', function: { name: choice.name } };
}

function toResponseFormat(request: ResponsesRequest): unknown {
  const format = request.text?.format;
  if (format === undefined || format.type === 'text') return undefined;
  if (format.type === 'json_object') return { type: 'json_object' };
  const { name, schema, description, strict } = format;
  return { type: 'json_schema', json_schema: { name, schema, description, strict: strict ?? undefined } };
}

/**
 * The chat request for a translated endpoint. Fields with no chat counterpart that only tune
 * OpenAI's own service (`store`, `include`, `reasoning`, `prompt_cache_key`, `metadata`, …)
 * are left out; `parallel_tool_calls` goes on only when it turns parallel calls off.
 */
export function toChatTranslation(request: ResponsesRequest): ChatTranslation {
  const chat: ChatRequest = {
    messages: toMessages(request),
    temperature: request.temperature ?? DEFAULT_TEMPERATURE,
    n: 1,
  };
  if (request.max_output_tokens != null) chat.max_tokens = request.max_output_tokens;
  if (request.top_p != null) chat.top_p = request.top_p;
  if (request.stream === true) {
    chat.stream = true;
    chat.stream_options = { include_usage: true };
  }
  const { tools, kinds } = toTools(request.tools ?? []);
  if (tools.length > 0) chat.tools = tools;
  if (request.tool_choice != null) chat.tool_choice = toToolChoice(request.tool_choice);
  if (request.parallel_tool_calls === false) chat.parallel_tool_calls = false;
  const responseFormat = toResponseFormat(request);
  if (responseFormat !== undefined) chat.response_format = responseFormat;
  return { chat, toolKinds: kinds };
}
