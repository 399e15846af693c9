import { z } from 'zod';
import type { CompletionsRequest } from '../../schemas/completions.js';
import { toAnthropicCompletionsBody } from '../anthropic/request.js';
import { parseUpstreamBody } from '../base.js';
import { toCompletionsResponse, type CompletionsFamily } from './completions.js';
import { DISPLAY_NAME, type Payload } from './payload.js';

// Claude text completions on Bedrock (reference §5.1): Anthropic's completions checks and renames,
// then the legacy Text Completions body that InvokeModel takes for these models.

const BEDROCK_ANTHROPIC_VERSION = 'bedrock-2023-05-31';
const HUMAN_STOP = '\n\nHuman:';
/** Bedrock's ceiling for `max_tokens_to_sample`, one below Anthropic's default of 8192. */
const MAX_TOKENS_TO_SAMPLE = 8191;

const HUMAN = 'Human: ';
const HUMAN_TURN = `\n\n${HUMAN}`;
const ASSISTANT_TURN = '\n\nAssistant:';

/** anthropic.md §7 step 7: the prompt as one Human turn followed by the Assistant's. */
function toPrompt(prompt: string): string {
  let wrapped = prompt.startsWith(HUMAN) ? `\n\n${prompt}` : prompt;
  if (!wrapped.startsWith(HUMAN_TURN)) wrapped = `${HUMAN_TURN}${wrapped}`;
  return wrapped.endsWith(ASSISTANT_TURN) ? wrapped : `${wrapped}${ASSISTANT_TURN}`;
}

function toStopSequences(stops: unknown): unknown[] {
  const list = Array.isArray(stops) ? (stops as unknown[]) : [];
  return list.includes(HUMAN_STOP) ? list : [...list, HUMAN_STOP];
}

function toBody(request: CompletionsRequest): Payload {
  const {
    model: _model,
    messages: _messages,
    max_tokens: maxTokens,
    temperature,
    ...rest
  } = toAnthropicCompletionsBody(request, null);
  const body: Payload = {
    ...rest,
    max_tokens_to_sample: Math.min(Number(maxTokens), MAX_TOKENS_TO_SAMPLE),
    prompt: toPrompt(request.prompt),
    stop_sequences: toStopSequences(rest.stop_sequences),
    anthropic_version: BEDROCK_ANTHROPIC_VERSION,
  };
  // Reference §3: a temperature of 0 (the default) is dropped before Anthropic's scaling.
  if (request.temperature !== 0) body.temperature = temperature;
  return body;
}

const responseSchema = z.object({ completion: z.string(), stop_reason: z.string().nullable() });

export const anthropicFamily: CompletionsFamily = {
  name: 'anthropic',
  toBody,
  fromResponse(json, model) {
    const body = parseUpstreamBody(responseSchema, json, DISPLAY_NAME);
    const finishReason = body.stop_reason === 'stop_sequence' ? 'stop' : 'length';
    return toCompletionsResponse(model, [{ text: body.completion, finish_reason: finishReason }]);
  },
};
