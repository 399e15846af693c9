import { z } from 'zod';
import { InvalidRequestError } from '../../errors.js';
import type { ChatMessage, ChatRequest, ChatResponse, ContentPart } from '../../schemas/chat.js';
import { parseUpstreamBody } from '../base.js';
import { nowSeconds } from '../timestamps.js';
import { DISPLAY_NAME } from './payload.js';

// Chat through the Bedrock Converse API (reference §6, MLflow [2026]): text only, one choice.

const NOT_YET = 'This feature will be added in a future update.';

interface TextBlock {
  text: string;
}

/** Converse's request body without `modelId`, which the SDK puts in the path. */
export interface ConverseBody {
  messages: { role: string; content: TextBlock[] }[];
  system?: TextBlock[];
  inferenceConfig?: { maxTokens?: number; temperature?: number; topP?: number; stopSequences?: string[] };
}

function invalid(detail: string, field: string): never {
  throw new InvalidRequestError(422, detail, field);
}

const UNSUPPORTED_PARTS: Readonly<Record<string, string>> = {
  image_url: 'Image content is not yet supported in Bedrock Converse API integration',
  document: 'Document content is not yet supported in Bedrock Converse API integration',
  video: 'Video content is not yet supported in Bedrock Converse API integration',
};

function toTextBlock(part: ContentPart, field: string): TextBlock {
  if (part.type === 'text') return { text: part.text };
  const detail =
    UNSUPPORTED_PARTS[part.type] ??
    `Unsupported content part type: '${part.type}'. Converse API currently only supports 'text' content parts.`;
  return invalid(detail, field);
}

function toContent(content: ChatMessage['content'], field: string): TextBlock[] {
  if (content === undefined) return [{ text: '' }];
  if (typeof content === 'string') return [{ text: content }];
  return content.map((part, index) => toTextBlock(part, `${field}.${index}`));
}

/** Reference §6 step 4: system messages into `system`, the others in order with their role. */
function toMessages(messages: readonly ChatMessage[]): Pick<ConverseBody, 'messages' | 'system'> {
  const system: TextBlock[] = [];
  const converse: ConverseBody['messages'] = [];
  for (const [index, message] of messages.entries()) {
    const field = `messages.${index}`;
    if (message.role === 'tool') {
      invalid(
        `Tool result messages (role='tool') are not yet supported in Bedrock Converse API integration. ${NOT_YET}`,
        `${field}.role`,
      );
    }
    if (message.tool_calls !== undefined) {
      invalid(
        `Assistant messages with tool_calls are not yet supported in Bedrock Converse API integration. ${NOT_YET}`,
        `${field}.tool_calls`,
      );
    }
    if (message.role === 'system') {
      if (typeof message.content !== 'string') {
        invalid(
          'System message content must be a string. Bedrock Converse API does not support content parts (e.g., images) in system messages.',
          `${field}.content`,
        );
      }
      system.push({ text: message.content });
      continue;
    }
    converse.push({ role: message.role, content: toContent(message.content, `${field}.content`) });
  }
  return system.length === 0 ? { messages: converse } : { messages: converse, system };
}

function numberField(request: ChatRequest, field: string): number | undefined {
  const value = request[field];
  if (value === undefined || typeof value === 'number') return value;
  return invalid(`${field} must be a number.`, field);
}

/** Reference §6 step 5: the four sampling fields; the temperature unscaled, 0 (the default) dropped. */
function toInferenceConfig(request: ChatRequest): ConverseBody['inferenceConfig'] {
  const config: NonNullable<ConverseBody['inferenceConfig']> = {};
  const maxTokens = request.max_tokens ?? numberField(request, 'max_completion_tokens');
  if (maxTokens !== undefined) config.maxTokens = maxTokens;
  if (request.temperature !== 0) config.temperature = request.temperature;
  const topP = numberField(request, 'top_p');
  if (topP !== undefined) config.topP = topP;
  if (request.stop !== undefined) config.stopSequences = request.stop;
  return Object.keys(config).length === 0 ? undefined : config;
}

/** Reference §6 steps 1–6: a gateway chat request as a Converse body; every other field is dropped. */
export function toConverseBody(request: ChatRequest): ConverseBody {
  if (request.n !== 1) {
    invalid(`'n' must be '1' for Bedrock Converse API. Received value: '${request.n}'.`, 'n');
  }
  if (request.tools !== undefined) {
    invalid(`Tool calling is not yet supported in Bedrock Converse API integration. ${NOT_YET}`, 'tools');
  }
  if (request.tool_choice !== undefined) {
    invalid(
      `tool_choice is not yet supported in Bedrock Converse API integration. ${NOT_YET}`,
      'tool_choice',
    );
  }
  const body: ConverseBody = toMessages(request.messages);
  const inferenceConfig = toInferenceConfig(request);
  if (inferenceConfig !== undefined) body.inferenceConfig = inferenceConfig;
  return body;
}

/** Reference §6: Converse's stop reasons; anything else (tool use, guardrails, none) is `stop`. */
const FINISH_REASONS: Readonly<Record<string, string>> = {
  end_turn: 'stop',
  max_tokens: 'length',
  stop_sequence: 'stop',
  content_filtered: 'content_filter',
};

export function toFinishReason(stopReason: string | undefined): string {
  return (stopReason === undefined ? undefined : FINISH_REASONS[stopReason]) ?? 'stop';
}

const converseOutputSchema = z.object({
  output: z.object({
    message: z.object({
      role: z.string().optional(),
      content: z.array(z.object({ text: z.string().optional() })),
    }),
  }),
  stopReason: z.string().optional(),
  usage: z
    .object({
      inputTokens: z.number().int().optional(),
      outputTokens: z.number().int().optional(),
      totalTokens: z.number().int().optional(),
    })
    .optional(),
});

/** Reference §6's response table: the text blocks joined, `id` null, the configured model. */
export function fromConverseOutput(output: unknown, model: string): ChatResponse {
  const body = parseUpstreamBody(converseOutputSchema, output, DISPLAY_NAME);
  const message = body.output.message;
  const texts = message.content.flatMap((block) => (block.text === undefined ? [] : [block.text]));
  return {
    id: null,
    object: 'chat.completion',
    created: nowSeconds(),
    model,
    choices: [
      {
        index: 0,
        message: {
          role: message.role ?? 'assistant',
          content: texts.length === 0 ? null : texts.join(''),
          tool_calls: null,
          refusal: null,
        },
        finish_reason: toFinishReason(body.stopReason),
      },
    ],
    usage: {
      prompt_tokens: body.usage?.inputTokens ?? null,
      completion_tokens: body.usage?.outputTokens ?? null,
      total_tokens: body.usage?.totalTokens ?? null,
    },
  };
}
