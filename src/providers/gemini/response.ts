import { createHash } from 'node:crypto';
import { z } from 'zod';
import { UpstreamError } from '../../errors.js';
import type { ChatResponse, ResponseToolCall } from '../../schemas/chat.js';
import type { CompletionsResponse } from '../../schemas/completions.js';
import type { EmbeddingsResponse } from '../../schemas/embeddings.js';
import type { Usage } from '../../schemas/generation.js';
import { parseUpstreamBody } from '../base.js';
import { toPythonJson } from '../python-json.js';
import { nowSeconds } from '../timestamps.js';
import type { GeminiEmbeddingsCall } from './request.js';

export const DISPLAY_NAME = 'Gemini';

const partSchema = z.object({
  text: z.string().nullish(),
  /** Thinking models mark their reasoning parts; they are not the answer. */
  thought: z.boolean().nullish(),
  functionCall: z
    .object({
      id: z.string().nullish(),
      name: z.string(),
      args: z.record(z.string(), z.unknown()).nullish(),
    })
    .nullish(),
});

const candidateSchema = z.object({
  content: z.object({ parts: z.array(partSchema).nullish() }).nullish(),
  finishReason: z.string().nullish(),
  index: z.number().int().nullish(),
});
export type GeminiCandidate = z.infer<typeof candidateSchema>;

/**
 * A GenerateContentResponse, unary or one stream event. `candidates` may be absent only when
 * `promptFeedback` says why (a blocked prompt).
 */
export const generateContentSchema = z
  .object({
    candidates: z.array(candidateSchema).nullish(),
    promptFeedback: z.object({ blockReason: z.string().nullish() }).nullish(),
    usageMetadata: z
      .object({
        promptTokenCount: z.number().int().nullish(),
        candidatesTokenCount: z.number().int().nullish(),
        totalTokenCount: z.number().int().nullish(),
      })
      .nullish(),
  })
  .superRefine((body, context) => {
    if (body.candidates != null || body.promptFeedback != null) return;
    context.addIssue({
      code: 'invalid_type',
      expected: 'array',
      input: undefined,
      path: ['candidates'],
      message: 'missing candidates',
    });
  });
export type GenerateContentResponse = z.infer<typeof generateContentSchema>;

const valuesSchema = z.object({ values: z.array(z.number()) });
const embedContentSchema = z.object({ embedding: valuesSchema });
const batchEmbedContentsSchema = z.object({ embeddings: z.array(valuesSchema) });

/** Reference §4: only `MAX_TOKENS` is renamed; Gemini's other reasons pass as sent. */
const FINISH_REASONS: Readonly<Record<string, string>> = { MAX_TOKENS: 'length' };

export function toFinishReason(reason: string): string {
  return FINISH_REASONS[reason] ?? reason;
}

/**
 * The candidates of a response. A prompt Gemini refused has none, only a block reason; that is
 * answered as an error the client can read rather than a reply without choices.
 */
export function readCandidates(body: GenerateContentResponse): GeminiCandidate[] {
  const blockReason = body.promptFeedback?.blockReason;
  if (body.candidates == null && blockReason) {
    throw new UpstreamError(400, `Gemini blocked the prompt: ${blockReason}`);
  }
  return body.candidates ?? [];
}

/** The answer text of a candidate: every non-thought text part, joined; null when there is none. */
export function joinText(candidate: GeminiCandidate): string | null {
  const texts = (candidate.content?.parts ?? []).flatMap((part) =>
    part.text && !part.thought ? [part.text] : [],
  );
  return texts.length === 0 ? null : texts.join('');
}

/** Reference §4: Gemini's id, else `call_` + md5 of `name/args` as Python's json.dumps writes them. */
export function toToolCalls(candidate: GeminiCandidate): ResponseToolCall[] {
  return (candidate.content?.parts ?? []).flatMap((part) => {
    const call = part.functionCall;
    if (!call) return [];
    const args = toPythonJson(call.args ?? {});
    const id = call.id ?? `call_${createHash('md5').update(`${call.name}/${args}`).digest('hex')}`;
    return [{ id, type: 'function', function: { name: call.name, arguments: args } }];
  });
}

export function toUsage(body: GenerateContentResponse): Usage {
  const usage = body.usageMetadata;
  return {
    prompt_tokens: usage?.promptTokenCount ?? null,
    completion_tokens: usage?.candidatesTokenCount ?? null,
    total_tokens: usage?.totalTokenCount ?? null,
  };
}

/** Reference §4, with every candidate answered (a candidate with no text keeps its finish reason). */
export function fromGeminiChatResponse(json: unknown, model: string): ChatResponse {
  const body = parseUpstreamBody(generateContentSchema, json, DISPLAY_NAME);
  const created = nowSeconds();
  const choices = readCandidates(body).map((candidate, position) => {
    const toolCalls = toToolCalls(candidate);
    return {
      index: candidate.index ?? position,
      message: {
        role: 'assistant',
        content: joinText(candidate),
        tool_calls: toolCalls.length === 0 ? null : toolCalls,
        refusal: null,
      },
      finish_reason: toFinishReason(candidate.finishReason ?? 'stop'),
    };
  });
  return {
    id: `gemini-chat-${created}`,
    object: 'chat.completion',
    created,
    model,
    choices,
    usage: toUsage(body),
  };
}

/** Reference §6: one choice per candidate, its text ("" when it has none). */
export function fromGeminiCompletionsResponse(json: unknown, model: string): CompletionsResponse {
  const body = parseUpstreamBody(generateContentSchema, json, DISPLAY_NAME);
  return {
    id: null,
    object: 'text_completion',
    created: nowSeconds(),
    model,
    choices: readCandidates(body).map((candidate, position) => ({
      index: candidate.index ?? position,
      text: joinText(candidate) ?? '',
      finish_reason: toFinishReason(candidate.finishReason ?? 'stop'),
    })),
    usage: toUsage(body),
  };
}

/** Reference §8: `embedding.values` or `embeddings[].values`, in input order. */
export function fromGeminiEmbeddingsResponse(
  json: unknown,
  model: string,
  call: Pick<GeminiEmbeddingsCall, 'isBatch'>,
): EmbeddingsResponse {
  const vectors = call.isBatch
    ? parseUpstreamBody(batchEmbedContentsSchema, json, DISPLAY_NAME).embeddings
    : [parseUpstreamBody(embedContentSchema, json, DISPLAY_NAME).embedding];
  return {
    object: 'list',
    data: vectors.map(({ values }, index) => ({ object: 'embedding', embedding: values, index })),
    model,
    usage: { prompt_tokens: null, total_tokens: null },
  };
}
