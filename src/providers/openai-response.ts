// OpenAI's Chat Completions, Completions and Embeddings answers (unary and streamed), read as
// MLflow's openai provider reads them (reference §9.5) and mapped to the gateway's wire format.
import { z } from 'zod';
import type { ChatChunk, ChatResponse } from '../schemas/chat.js';
import type { CompletionsChunk, CompletionsResponse } from '../schemas/completions.js';
import type { EmbeddingsResponse } from '../schemas/embeddings.js';
import { parseUpstreamBody, throwIfStreamError } from './base.js';

const DISPLAY_NAME = 'OpenAI';

const toolCallSchema = z.object({
  id: z.string().nullish(),
  type: z.string().nullish(),
  function: z.object({ name: z.string().nullish(), arguments: z.string().nullish() }),
});

const usageSchema = z.object({
  prompt_tokens: z.number().int().nullish(),
  completion_tokens: z.number().int().nullish(),
  total_tokens: z.number().int().nullish(),
});

const chatResponseSchema = z.object({
  id: z.string().nullish(),
  object: z.string().nullish(),
  created: z.number().int(),
  model: z.string().nullish(),
  choices: z.array(
    z.object({
      message: z.object({
        role: z.string(),
        content: z.string().nullish(),
        tool_calls: z.array(toolCallSchema).nullish(),
      }),
      finish_reason: z.string().nullish(),
    }),
  ),
  usage: usageSchema,
});

const completionsResponseSchema = z.object({
  id: z.string().nullish(),
  created: z.number().int(),
  model: z.string().nullish(),
  choices: z.array(
    z.object({
      text: z.string().nullish(),
      message: z.object({ content: z.string().nullish() }).nullish(),
      finish_reason: z.string().nullish(),
    }),
  ),
  usage: usageSchema,
});

const embeddingsResponseSchema = z.object({
  data: z.array(z.object({ embedding: z.union([z.array(z.number()), z.string()]) })),
  model: z.string().nullish(),
  usage: z.object({ prompt_tokens: z.number().int().nullish(), total_tokens: z.number().int().nullish() }),
});

const chatChunkSchema = z.object({
  id: z.string().nullish(),
  object: z.string().nullish(),
  created: z.number().int(),
  model: z.string().nullish(),
  choices: z.array(
    z.object({
      index: z.number().int(),
      finish_reason: z.string().nullish(),
      delta: z
        .object({
          role: z.string().nullish(),
          content: z.string().nullish(),
          tool_calls: z
            .array(
              z.object({
                index: z.number().int(),
                id: z.string().nullish(),
                type: z.string().nullish(),
                function: z.object({ name: z.string().nullish(), arguments: z.string().nullish() }).nullish(),
              }),
            )
            .nullish(),
        })
        .nullish(),
    }),
  ),
  usage: usageSchema.nullish(),
});

const completionsChunkSchema = z.object({
  id: z.string().nullish(),
  created: z.number().int(),
  model: z.string().nullish(),
  choices: z.array(
    z.object({
      index: z.number().int(),
      finish_reason: z.string().nullish(),
      text: z.string().nullish(),
      delta: z.object({ content: z.string().nullish() }).nullish(),
    }),
  ),
  usage: usageSchema.nullish(),
});

function toUsage(usage: z.infer<typeof usageSchema>): ChatResponse['usage'] {
  return {
    prompt_tokens: usage.prompt_tokens ?? null,
    completion_tokens: usage.completion_tokens ?? null,
    total_tokens: usage.total_tokens ?? null,
  };
}

export function fromOpenAiChatResponse(json: unknown): ChatResponse {
  const body = parseUpstreamBody(chatResponseSchema, json, DISPLAY_NAME);
  return {
    id: body.id ?? null,
    object: body.object ?? 'chat.completion',
    created: body.created,
    model: body.model ?? null,
    choices: body.choices.map((choice, index) => ({
      index,
      message: {
        role: choice.message.role,
        content: choice.message.content ?? null,
        tool_calls:
          choice.message.tool_calls?.map((call) => ({
            id: call.id ?? null,
            type: call.type ?? 'function',
            function: { name: call.function.name ?? null, arguments: call.function.arguments ?? null },
          })) ?? null,
        refusal: null,
      },
      finish_reason: choice.finish_reason ?? null,
    })),
    usage: toUsage(body.usage),
  };
}

export function fromOpenAiCompletionsResponse(json: unknown): CompletionsResponse {
  const body = parseUpstreamBody(completionsResponseSchema, json, DISPLAY_NAME);
  return {
    id: body.id ?? null,
    object: 'text_completion',
    created: body.created,
    model: body.model ?? null,
    choices: body.choices.map((choice, index) => ({
      index,
      // Reference §9.5: message.content if non-empty, else text if non-empty, else "".
      text: choice.message?.content || choice.text || '',
      finish_reason: choice.finish_reason ?? null,
    })),
    usage: toUsage(body.usage),
  };
}

export function fromOpenAiEmbeddingsResponse(json: unknown): EmbeddingsResponse {
  const body = parseUpstreamBody(embeddingsResponseSchema, json, DISPLAY_NAME);
  return {
    object: 'list',
    data: body.data.map((item, index) => ({ object: 'embedding', embedding: item.embedding, index })),
    model: body.model ?? null,
    usage: { prompt_tokens: body.usage.prompt_tokens ?? null, total_tokens: body.usage.total_tokens ?? null },
  };
}

export function fromOpenAiChatChunk(json: unknown): ChatChunk {
  throwIfStreamError(json);
  const chunk = parseUpstreamBody(chatChunkSchema, json, DISPLAY_NAME);
  return {
    id: chunk.id ?? null,
    object: chunk.object ?? 'chat.completion.chunk',
    created: chunk.created,
    model: chunk.model ?? null,
    choices: chunk.choices.map((choice) => ({
      index: choice.index,
      finish_reason: choice.finish_reason ?? null,
      delta: {
        role: choice.delta?.role ?? null,
        content: choice.delta?.content ?? null,
        tool_calls:
          choice.delta?.tool_calls?.map((call) => ({
            index: call.index,
            id: call.id ?? null,
            type: call.type ?? null,
            function: { name: call.function?.name ?? null, arguments: call.function?.arguments ?? null },
          })) ?? null,
      },
    })),
    ...(chunk.usage && { usage: toUsage(chunk.usage) }),
  };
}

export function fromOpenAiCompletionsChunk(json: unknown): CompletionsChunk {
  throwIfStreamError(json);
  const chunk = parseUpstreamBody(completionsChunkSchema, json, DISPLAY_NAME);
  return {
    id: chunk.id ?? null,
    object: 'text_completion_chunk',
    created: chunk.created,
    model: chunk.model ?? null,
    choices: chunk.choices.map((choice) => ({
      index: choice.index,
      finish_reason: choice.finish_reason ?? null,
      // [D9]: the Completions API streams `text`; MLflow read the chat shape's delta.content.
      text: choice.text ?? choice.delta?.content ?? null,
    })),
    ...(chunk.usage && { usage: toUsage(chunk.usage) }),
  };
}
