// Gemini API payloads shaped as Google's API reference shows them (ai.google.dev/api:
// models.generateContent, models.streamGenerateContent with alt=sse, models.embedContent,
// models.batchEmbedContents, and the google.rpc.Status error body). Values follow reference
// gemini.md's test vectors.

export interface CandidateOptions {
  parts?: unknown[];
  finishReason?: string | null;
  index?: number;
}

/** One `Candidate`: the model's content and why it stopped. */
export function candidate(options: CandidateOptions = {}): Record<string, unknown> {
  const { parts = [{ text: 'Hello' }], finishReason = 'STOP', index = 0 } = options;
  const result: Record<string, unknown> = { content: { parts, role: 'model' }, index };
  if (finishReason !== null) result.finishReason = finishReason;
  return result;
}

/** The `usageMetadata` Google sends with a reply (and with the last stream event). */
export function usageMetadata(prompt: number, completion: number): Record<string, unknown> {
  return {
    promptTokenCount: prompt,
    candidatesTokenCount: completion,
    totalTokenCount: prompt + completion,
    promptTokensDetails: [{ modality: 'TEXT', tokenCount: prompt }],
  };
}

/** A `GenerateContentResponse`. */
export function generateContentResponse(
  candidates: unknown[],
  usage: Record<string, unknown> | null = usageMetadata(6, 12),
): Record<string, unknown> {
  const body: Record<string, unknown> = {
    candidates,
    modelVersion: 'gemini-2.0-flash',
    responseId: 'mMR8aJ3vKaeHz7IPmM2w2AY',
  };
  if (usage !== null) body.usageMetadata = usage;
  return body;
}

export const JOKE = 'Why did the chicken cross the road? To get to the other side.';

/** Reference §4's reply (test vector 1 sends `"finishReason": "stop"`, as MLflow's test does). */
export function jokeResponse(finishReason = 'STOP'): Record<string, unknown> {
  return generateContentResponse([candidate({ parts: [{ text: JOKE }], finishReason })]);
}

/** Reference test vector 3: one function call, no id (Gemini API calls carry none). */
export const WEATHER_CALL_RESPONSE = {
  candidates: [
    {
      content: {
        parts: [{ functionCall: { name: 'get_weather', args: { location: 'Singapore' } } }],
        role: 'model',
      },
      finishReason: 'STOP',
      index: 0,
    },
  ],
};

/** A prompt Gemini refused: no candidates, only `promptFeedback.blockReason`. */
export const BLOCKED_PROMPT_RESPONSE = {
  promptFeedback: {
    blockReason: 'SAFETY',
    safetyRatings: [{ category: 'HARM_CATEGORY_DANGEROUS_CONTENT', probability: 'HIGH' }],
  },
  usageMetadata: { promptTokenCount: 8, totalTokenCount: 8 },
  modelVersion: 'gemini-2.0-flash',
};

/**
 * One stream event as Google frames it with `alt=sse`: `data: <json>` and a CRLF blank line
 * (the connection's close ends the stream; there is no `[DONE]`).
 */
export function geminiFrame(data: unknown): string {
  return `data: ${JSON.stringify(data)}\r\n\r\n`;
}

/** Reference §5's two events: "a", then "b" with STOP and usage. */
export const AB_STREAM = [
  geminiFrame({
    candidates: [{ content: { parts: [{ text: 'a' }], role: 'model' }, index: 0 }],
    modelVersion: 'gemini-2.0-flash',
  }),
  geminiFrame({
    candidates: [{ content: { parts: [{ text: 'b' }], role: 'model' }, finishReason: 'STOP', index: 0 }],
    usageMetadata: { promptTokenCount: 4, candidatesTokenCount: 2, totalTokenCount: 6 },
  }),
];

/** `models.embedContent`'s reply. */
export function embedContentResponse(values: number[]): Record<string, unknown> {
  return { embedding: { values } };
}

/** `models.batchEmbedContents`'s reply, in request order. */
export function batchEmbedContentsResponse(vectors: number[][]): Record<string, unknown> {
  return { embeddings: vectors.map((values) => ({ values })) };
}

/** Google's error body (google.rpc.Status): `{"error": {code, message, status, details?}}`. */
export function googleError(code: number, status: string, message: string): Record<string, unknown> {
  return { error: { code, message, status } };
}

/** Reference test vector 5: a bad key, as Google answers it (with its ErrorInfo detail). */
export const INVALID_KEY_ERROR = {
  error: {
    code: 400,
    message: 'API key not valid. Please pass a valid API key.',
    status: 'INVALID_ARGUMENT',
    details: [
      {
        '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
        reason: 'API_KEY_INVALID',
        domain: 'googleapis.com',
        metadata: { service: 'generativelanguage.googleapis.com' },
      },
    ],
  },
};
