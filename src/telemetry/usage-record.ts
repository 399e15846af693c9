import { isRecord } from '../schemas/json.js';

/** What an answer says about itself: token counts, the model that answered, why it stopped. */
export interface AnswerFacts {
  inputTokens: number | null;
  outputTokens: number | null;
  responseModel: string | null;
  finishReasons: string[] | null;
}

function tokens(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/**
 * Reads a gateway response or stream chunk (chat, completions, embeddings: all carry `model`,
 * `usage` and `choices[].finish_reason` where they have them). Only counts and names are kept,
 * never text.
 */
export function readAnswer(facts: AnswerFacts, answer: unknown): void {
  if (!isRecord(answer)) return;
  if (typeof answer.model === 'string') facts.responseModel = answer.model;
  const usage = answer.usage;
  if (isRecord(usage)) {
    facts.inputTokens = tokens(usage.prompt_tokens) ?? facts.inputTokens;
    facts.outputTokens = tokens(usage.completion_tokens) ?? facts.outputTokens;
  }
  const choices = answer.choices;
  if (!Array.isArray(choices)) return;
  for (const choice of choices as unknown[]) {
    if (!isRecord(choice) || typeof choice.finish_reason !== 'string') continue;
    (facts.finishReasons ??= []).push(choice.finish_reason);
  }
}

/** The access log's `usage` field: one per request that reached an endpoint. No content. */
export interface UsageRecord {
  endpoint: string;
  route: string | null;
  destination: string;
  provider: string;
  model: string | null;
  responseModel: string | null;
  status: number;
  inputTokens: number | null;
  outputTokens: number | null;
  durationMs: number;
  overheadMs: number;
  attempts: number;
  streamed: boolean;
}
