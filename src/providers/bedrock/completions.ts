import type { CompletionsRequest, CompletionsResponse } from '../../schemas/completions.js';
import { nowSeconds } from '../timestamps.js';
import type { Payload } from './payload.js';

/** One model family's InvokeModel body and response (reference §5). */
export interface CompletionsFamily {
  /** Reference §4: the family is the first of these names the model id contains. */
  readonly name: 'amazon' | 'cohere' | 'ai21' | 'anthropic';
  toBody(request: CompletionsRequest): Payload;
  fromResponse(json: unknown, model: string): CompletionsResponse;
}

interface CompletionChoice {
  text: string;
  finish_reason: string | null;
}

/** Reference §5: `id` null, the configured model, and no usage: InvokeModel bodies report none we map. */
export function toCompletionsResponse(
  model: string,
  choices: readonly CompletionChoice[],
): CompletionsResponse {
  return {
    id: null,
    object: 'text_completion',
    created: nowSeconds(),
    model,
    choices: choices.map((choice, index) => ({ index, ...choice })),
    usage: { prompt_tokens: null, completion_tokens: null, total_tokens: null },
  };
}
