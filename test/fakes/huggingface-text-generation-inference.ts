// Text Generation Inference `/generate` payloads, shaped as TGI's OpenAPI document shows them
// (GenerateResponse with `details`, PrefillToken, Token, ErrorResponse `{error, error_type}`).
// Values follow reference huggingface-tgi.md §3 and its test vectors.

export interface GenerateOptions {
  text?: string;
  finishReason?: string;
  generatedTokens?: number;
  prefill?: { id: number; text: string; logprob: number | null }[];
}

/** Reference §3: four prefill tokens, five generated. */
const PREFILL = [
  { id: 1, text: 'This', logprob: null },
  { id: 2, text: 'is', logprob: -2.1 },
  { id: 3, text: 'a', logprob: -1.3 },
  { id: 4, text: 'test', logprob: -4.0 },
];

/** A `POST /generate` answer with `details: true` and `decoder_input_details: true`. */
export function generateResponse(options: GenerateOptions = {}): Record<string, unknown> {
  const {
    text = 'this is a test response',
    finishReason = 'length',
    generatedTokens = 5,
    prefill = PREFILL,
  } = options;
  return {
    generated_text: text,
    details: {
      finish_reason: finishReason,
      generated_tokens: generatedTokens,
      seed: 0,
      prefill,
      tokens: [],
    },
  };
}

/** TGI's error body: a string `error` and its kind. */
export function tgiError(error: string, errorType: string): { error: string; error_type: string } {
  return { error, error_type: errorType };
}

/** Reference test vector 4. */
export const INPUT_TOO_LONG = tgiError(
  'Input validation error: inputs must have less than 1024 tokens. Given: 1500',
  'validation',
);
export const OVERLOADED = tgiError('Model is overloaded', 'overloaded');
export const GENERATION_FAILED = tgiError(
  'Request failed during generation: CUDA out of memory',
  'generation',
);
