import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { ChatResponse, ResponseToolCall } from '../../schemas/chat.js';
import type { Usage } from '../../schemas/generation.js';
import { isRecord } from '../../schemas/json.js';
import type { ToolKind } from './request.js';
import type { ResponsesRequest } from './schema.js';

// Gateway chat answers → Responses API objects (reference ingress.md §3.3, §5.3, §5.4).

export type ResponseObject = Record<string, unknown>;
export type OutputItem = Record<string, unknown>;

/** OpenAI-style ids: a prefix and 24 random bytes in hex. */
export function newId(prefix: string): string {
  return `${prefix}_${randomBytes(24).toString('hex')}`;
}

/** The fields of a response that echo its request, the same in every event of a stream. */
export function responseFrame(request: ResponsesRequest, model: string): ResponseObject {
  return {
    id: newId('resp'),
    object: 'response',
    created_at: Math.floor(Date.now() / 1000),
    status: 'in_progress',
    error: null,
    incomplete_details: null,
    instructions: request.instructions ?? null,
    max_output_tokens: request.max_output_tokens ?? null,
    model,
    output: [],
    parallel_tool_calls: request.parallel_tool_calls ?? true,
    previous_response_id: null,
    store: false,
    temperature: request.temperature ?? null,
    text: request.text ?? { format: { type: 'text' } },
    tool_choice: request.tool_choice ?? 'auto',
    tools: request.tools ?? [],
    top_p: request.top_p ?? null,
    truncation: 'disabled',
    metadata: {},
  };
}

/** §5.3: why the chat answer stopped → the response's status and incomplete reason. */
export function statusOf(finishReason: string | null): Pick<ResponseObject, 'status' | 'incomplete_details'> {
  if (finishReason === 'length') {
    return { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } };
  }
  if (finishReason === 'content_filter') {
    return { status: 'incomplete', incomplete_details: { reason: 'content_filter' } };
  }
  return { status: 'completed', incomplete_details: null };
}

export function toUsage(usage: Usage | null): ResponseObject {
  const input = usage?.prompt_tokens ?? 0;
  const output = usage?.completion_tokens ?? 0;
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: usage?.total_tokens ?? input + output,
  };
}

export function messageItem(id: string, text: string, status: string): OutputItem {
  return {
    type: 'message',
    id,
    status,
    role: 'assistant',
    content: text === '' && status === 'in_progress' ? [] : [outputTextPart(text)],
  };
}

export function outputTextPart(text: string): OutputItem {
  return { type: 'output_text', text, annotations: [] };
}

function parseArguments(args: string): Record<string, unknown> | null {
  try {
    const value = JSON.parse(args) as unknown;
    return isRecord(value) ? value : null;
  } catch {
    return null;
  }
}

/** A custom tool's input is the `input` string the model wrote, else its raw arguments. */
function customInput(args: string): string {
  const input = parseArguments(args)?.input;
  return typeof input === 'string' ? input : args;
}

function localShellAction(args: string): OutputItem {
  const parsed = parseArguments(args) ?? {};
  const action: OutputItem = { type: 'exec', command: parsed.command ?? [], env: {} };
  if (typeof parsed.workdir === 'string') action.working_directory = parsed.workdir;
  if (typeof parsed.timeout_ms === 'number') action.timeout_ms = parsed.timeout_ms;
  return action;
}

export interface CallFields {
  callId: string;
  name: string;
  arguments: string;
}

/** The output item for a finished tool call, as the tool was declared (§5.4). */
export function callItem(kind: ToolKind, id: string, call: CallFields, status: string): OutputItem {
  switch (kind) {
    case 'function':
      return {
        type: 'function_call',
        id,
        call_id: call.callId,
        name: call.name,
        arguments: call.arguments,
        status,
      };
    case 'custom':
      return {
        type: 'custom_tool_call',
        id,
        call_id: call.callId,
        name: call.name,
        input: customInput(call.arguments),
        status,
      };
    case 'local_shell':
      return {
        type: 'local_shell_call',
        id,
        call_id: call.callId,
        action: localShellAction(call.arguments),
        status,
      };
  }
}

/** Output item id prefixes, as OpenAI's own. */
export const ITEM_PREFIXES: Readonly<Record<ToolKind | 'message', string>> = {
  message: 'msg',
  function: 'fc',
  custom: 'ctc',
  local_shell: 'lsh',
};

export function kindOf(kinds: ReadonlyMap<string, ToolKind>, name: string): ToolKind {
  return kinds.get(name) ?? 'function';
}

function toCallItem(call: ResponseToolCall, kinds: ReadonlyMap<string, ToolKind>): OutputItem {
  const name = call.function.name ?? '';
  const kind = kindOf(kinds, name);
  const fields = { callId: call.id ?? newId('call'), name, arguments: call.function.arguments ?? '{}' };
  return callItem(kind, newId(ITEM_PREFIXES[kind]), fields, 'completed');
}

/** The whole Response for a unary chat answer; only the first choice is read (`n` is 1). */
export function toResponse(
  chat: ChatResponse,
  frame: ResponseObject,
  kinds: ReadonlyMap<string, ToolKind>,
): ResponseObject {
  const choice = chat.choices[0];
  const output: OutputItem[] = [];
  const text = choice?.message.content ?? choice?.message.refusal ?? null;
  if (text !== null && text !== '') output.push(messageItem(newId('msg'), text, 'completed'));
  for (const call of choice?.message.tool_calls ?? []) output.push(toCallItem(call, kinds));
  return {
    ...frame,
    ...statusOf(choice?.finish_reason ?? null),
    output,
    usage: toUsage(chat.usage),
  };
}

const answerUsageSchema = z.object({
  usage: z.object({
    input_tokens: z.number().int(),
    output_tokens: z.number().int(),
    total_tokens: z.number().int(),
  }),
});

/** The token counts of a Responses answer (OpenAI's own, on passthrough), when it has them. */
export function usageOfResponse(json: unknown): Usage | null {
  const parsed = answerUsageSchema.safeParse(json);
  if (!parsed.success) return null;
  const { input_tokens, output_tokens, total_tokens } = parsed.data.usage;
  return { prompt_tokens: input_tokens, completion_tokens: output_tokens, total_tokens };
}
