import { InvalidRequestError } from '../../errors.js';
import type { ChatMessage, ChatRequest, ContentPart, Tool, ToolCall } from '../../schemas/chat.js';
import type {
  AnthropicMessage,
  AnthropicTool,
  AnthropicToolChoice,
  ImageBlock,
  MessagesRequest,
  TextBlock,
} from './schema.js';

// Anthropic Messages request → the gateway's chat request (ingress reference §5.1). Features the
// chat format cannot carry are refused by name; hints that do not change what the model is
// asked (cache_control, thinking, context_management, …) are dropped, as the reference says.

/** Top-level fields whose meaning a chat provider cannot honour. */
const REFUSED_FIELDS = ['top_k', 'mcp_servers', 'container', 'output_format'] as const;

/** Anthropic's default temperature; the gateway's own chat default (0) is not what the client asked for. */
const ANTHROPIC_DEFAULT_TEMPERATURE = 1;

const TOOL_CHOICES = { auto: 'auto', any: 'required', none: 'none' } as const;

export function toChatRequest(body: MessagesRequest): ChatRequest {
  for (const field of REFUSED_FIELDS) {
    if (body[field] !== undefined)
      throw untranslatable(field, `'${field}' has no equivalent on this endpoint's provider`);
  }
  const request: ChatRequest = {
    messages: toChatMessages(body),
    temperature: body.temperature ?? ANTHROPIC_DEFAULT_TEMPERATURE,
    n: 1,
  };
  if (body.max_tokens !== undefined) request.max_tokens = body.max_tokens;
  if (body.top_p !== undefined) request.top_p = body.top_p;
  if (body.stop_sequences !== undefined && body.stop_sequences.length > 0) request.stop = body.stop_sequences;
  if (body.stream === true) request.stream = true;
  if (body.tools !== undefined && body.tools.length > 0) request.tools = body.tools.map(toChatTool);
  if (body.tool_choice !== undefined) Object.assign(request, toChatToolChoice(body.tool_choice));
  const user = body.metadata?.user_id;
  if (typeof user === 'string') request.user = user;
  return request;
}

function untranslatable(param: string, reason: string): InvalidRequestError {
  return new InvalidRequestError(400, `${param}: ${reason}, so this request cannot be translated.`, param);
}

function toChatMessages(body: MessagesRequest): ChatMessage[] {
  const messages: ChatMessage[] = [];
  const system = systemText(body.system);
  if (system !== undefined) messages.push({ role: 'system', content: system });
  body.messages.forEach((message, index) => {
    const path = `messages.${index}`;
    if (message.role === 'assistant') messages.push(toAssistantMessage(message, path));
    else if (message.role === 'system') messages.push({ role: 'system', content: plainText(message, path) });
    else messages.push(...toUserMessages(message, path));
  });
  return messages;
}

function systemText(system: MessagesRequest['system']): string | undefined {
  if (system === undefined) return undefined;
  if (typeof system === 'string') return system === '' ? undefined : system;
  return system.length === 0 ? undefined : system.map((block) => block.text).join('\n');
}

function plainText(message: AnthropicMessage, path: string): string {
  if (typeof message.content === 'string') return message.content;
  return message.content
    .map((block, index) => {
      if (block.type !== 'text') throw unsupportedBlock(block.type, `${path}.content.${index}`);
      return (block as TextBlock).text;
    })
    .join('\n');
}

function unsupportedBlock(type: string, path: string): InvalidRequestError {
  return untranslatable(
    `${path}.type`,
    `content blocks of type '${type}' have no equivalent on this endpoint's provider`,
  );
}

/** Tool results become `tool` messages ahead of the turn's remaining text and images (§5.1). */
function toUserMessages(message: AnthropicMessage, path: string): ChatMessage[] {
  if (typeof message.content === 'string') return [{ role: 'user', content: message.content }];
  const results: ChatMessage[] = [];
  const parts: ContentPart[] = [];
  message.content.forEach((block, index) => {
    const blockPath = `${path}.content.${index}`;
    switch (block.type) {
      case 'text':
        parts.push({ type: 'text', text: (block as TextBlock).text });
        return;
      case 'image':
        parts.push(toImagePart(block as ImageBlock));
        return;
      case 'tool_result': {
        const result = block as Extract<typeof block, { type: 'tool_result' }>;
        const content = typeof result.content === 'string' ? result.content : (result.content ?? []);
        const texts = typeof content === 'string' ? [content] : [];
        // Chat tool messages carry text only: a result's images follow as user image parts.
        if (typeof content !== 'string') {
          for (const item of content) {
            if (item.type === 'text') texts.push(item.text);
            else parts.push(toImagePart(item));
          }
        }
        results.push({ role: 'tool', tool_call_id: result.tool_use_id, content: texts.join('\n') });
        return;
      }
      case 'thinking':
      case 'redacted_thinking':
        return;
      default:
        throw unsupportedBlock(block.type, blockPath);
    }
  });
  if (parts.length === 0) return results;
  const only = parts[0];
  const content = parts.length === 1 && only?.type === 'text' ? only.text : parts;
  return [...results, { role: 'user', content }];
}

function toImagePart(block: ImageBlock): ContentPart {
  const source = block.source;
  const url = source.type === 'base64' ? `data:${source.media_type};base64,${source.data}` : source.url;
  return { type: 'image_url', image_url: { url } };
}

function toAssistantMessage(message: AnthropicMessage, path: string): ChatMessage {
  if (typeof message.content === 'string') return { role: 'assistant', content: message.content };
  const texts: string[] = [];
  const calls: ToolCall[] = [];
  message.content.forEach((block, index) => {
    switch (block.type) {
      case 'text':
        texts.push((block as TextBlock).text);
        return;
      case 'tool_use': {
        const use = block as Extract<typeof block, { type: 'tool_use' }>;
        calls.push({
          id: use.id,
          type: 'function',
          function: { name: use.name, arguments: JSON.stringify(use.input ?? {}) },
        });
        return;
      }
      case 'thinking':
      case 'redacted_thinking':
        return;
      default:
        throw unsupportedBlock(block.type, `${path}.content.${index}`);
    }
  });
  const assistant: ChatMessage = { role: 'assistant' };
  if (texts.length > 0) assistant.content = texts.join('\n');
  if (calls.length > 0) assistant.tool_calls = calls;
  return assistant;
}

function toChatTool(tool: AnthropicTool, index: number): Tool {
  if (tool.type !== undefined && tool.type !== 'custom') {
    throw untranslatable(`tools.${index}.type`, `server tool '${tool.type}' runs only on Anthropic`);
  }
  const definition: NonNullable<Tool['function']> = { name: tool.name };
  if (tool.description !== undefined) definition.description = tool.description;
  // The schema goes on whole: agents' tools nest objects, arrays and `anyOf`s.
  if (tool.input_schema !== undefined) definition.parameters = tool.input_schema;
  return { type: 'function', function: definition };
}

function toChatToolChoice(choice: AnthropicToolChoice): Record<string, unknown> {
  const mapped: Record<string, unknown> = {
    tool_choice:
      choice.type === 'tool'
        ? { type: 'function', function: { name: choice.name } }
        : TOOL_CHOICES[choice.type],
  };
  if ('disable_parallel_tool_use' in choice && choice.disable_parallel_tool_use === true) {
    mapped.parallel_tool_calls = false;
  }
  return mapped;
}
