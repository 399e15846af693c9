import type { ChatChunk, ToolCallDelta } from '../../schemas/chat.js';
import type { CompletionsChunk } from '../../schemas/completions.js';
import type { Usage } from '../../schemas/generation.js';
import { isRecord } from '../../schemas/json.js';
import { upstreamStatusError } from '../../upstream/errors.js';
import { parseUpstreamBody } from '../base.js';
import { nowSeconds } from '../timestamps.js';
import {
  DISPLAY_NAME,
  generateContentSchema,
  joinText,
  readCandidates,
  toFinishReason,
  toToolCalls,
  toUsage,
  type GeminiCandidate,
} from './response.js';

/** What one stream needs across events. */
export interface GeminiStreamState {
  readonly created: number;
  readonly model: string;
  /** Candidate index → tool calls already sent for it, so each call gets its own `index`. */
  readonly toolCallCounts: Map<number, number>;
}

export function newGeminiStreamState(model: string): GeminiStreamState {
  return { created: nowSeconds(), model, toolCallCounts: new Map() };
}

/** A stream mapper: one upstream event in, one gateway chunk (or nothing) out. */
export type GeminiStreamMapper<T> = (json: unknown, state: GeminiStreamState) => T | null;

/** Failure after the 200: Google sends `{"error": {code, message, status}}` as an event. */
function throwIfError(json: unknown): void {
  if (!isRecord(json) || !isRecord(json.error)) return;
  const code = json.error.code;
  throw upstreamStatusError(typeof code === 'number' ? code : 502, json);
}

interface GeminiEvent {
  readonly candidates: GeminiCandidate[];
  /** `{ usage }` on the finishing event, spread into its chunk; `{}` on every other. */
  readonly usage: { usage?: Usage };
}

const NO_USAGE = Object.freeze({});

/**
 * The candidates of one event; an event with an empty list maps to no chunk. Every event carries
 * running `usageMetadata`; only the finishing one's (a candidate has a finishReason) is final.
 */
function readEvent(json: unknown): GeminiEvent | null {
  throwIfError(json);
  const body = parseUpstreamBody(generateContentSchema, json, DISPLAY_NAME);
  const candidates = readCandidates(body);
  if (candidates.length === 0) return null;
  const isFinal = body.usageMetadata != null && candidates.some((candidate) => candidate.finishReason);
  return { candidates, usage: isFinal ? { usage: toUsage(body) } : NO_USAGE };
}

function finishReasonOf(candidate: GeminiCandidate): string | null {
  return candidate.finishReason ? toFinishReason(candidate.finishReason) : null;
}

/** Gemini sends whole calls; OpenAI clients merge deltas by `index`, so each call gets its own. */
function toToolCallDeltas(
  candidate: GeminiCandidate,
  choiceIndex: number,
  state: GeminiStreamState,
): ToolCallDelta[] | null {
  const calls = toToolCalls(candidate);
  if (calls.length === 0) return null;
  const sent = state.toolCallCounts.get(choiceIndex) ?? 0;
  state.toolCallCounts.set(choiceIndex, sent + calls.length);
  return calls.map((call, offset) => ({ index: sent + offset, ...call }));
}

/** Reference §5: each event → one chunk, one choice per candidate, role always `assistant`. */
export function fromGeminiChatEvent(json: unknown, state: GeminiStreamState): ChatChunk | null {
  const event = readEvent(json);
  if (event === null) return null;
  const choices = event.candidates.map((candidate, position) => {
    const index = candidate.index ?? position;
    const toolCalls = toToolCallDeltas(candidate, index, state);
    const text = joinText(candidate);
    return {
      index,
      finish_reason: finishReasonOf(candidate),
      delta: { role: 'assistant', content: text ?? (toolCalls ? null : ''), tool_calls: toolCalls },
    };
  });
  return {
    id: `gemini-chat-stream-${state.created}`,
    object: 'chat.completion.chunk',
    created: state.created,
    model: state.model,
    choices,
    ...event.usage,
  };
}

/** Reference §7: each event → one chunk of text per candidate. */
export function fromGeminiCompletionsEvent(json: unknown, state: GeminiStreamState): CompletionsChunk | null {
  const event = readEvent(json);
  if (event === null) return null;
  return {
    id: `gemini-completions-stream-${state.created}`,
    object: 'text_completion_chunk',
    created: state.created,
    model: state.model,
    choices: event.candidates.map((candidate, position) => ({
      index: candidate.index ?? position,
      finish_reason: finishReasonOf(candidate),
      text: joinText(candidate) ?? '',
    })),
    ...event.usage,
  };
}
