// PaLM API v1beta3 payloads, shaped as Google's (decommissioned) PaLM reference shows them
// (ai.google.dev/api/palm: generateMessage, generateText, batchEmbedText, the Google error
// body). Values follow reference palm.md's test vectors.

/** Reference §3: a generateMessage answer; PaLM names authors "0" (the user) and "1". */
export const MESSAGE_RESPONSE = {
  candidates: [{ author: '1', content: 'Hi there! How can I help you today?' }],
  messages: [{ author: '0', content: 'hi' }],
};

/** Two candidates (`candidateCount: 2`). */
export const MESSAGE_RESPONSE_TWO_CANDIDATES = {
  candidates: [
    { author: '1', content: 'Why did the chicken cross the road?' },
    { author: '1', content: 'Knock knock.' },
  ],
  messages: [{ author: 'user', content: 'Tell me a joke' }],
};

/** Reference §4: a generateText answer with its safety ratings. */
export const TEXT_RESPONSE = {
  candidates: [
    {
      output: 'This is a test',
      safetyRatings: [
        { category: 'HARM_CATEGORY_DEROGATORY', probability: 'NEGLIGIBLE' },
        { category: 'HARM_CATEGORY_TOXICITY', probability: 'NEGLIGIBLE' },
      ],
    },
  ],
};

/** A prompt PaLM blocks: `filters` says why, and there are no candidates. */
export const BLOCKED_TEXT_RESPONSE = {
  filters: [{ reason: 'SAFETY' }],
  safetyFeedback: [
    {
      rating: { category: 'HARM_CATEGORY_DANGEROUS', probability: 'HIGH' },
      setting: { category: 'HARM_CATEGORY_DANGEROUS', threshold: 'BLOCK_MEDIUM_AND_ABOVE' },
    },
  ],
};

/** Reference §5: batchEmbedText for two texts. */
export const EMBEDDINGS_RESPONSE = {
  embeddings: [{ value: [3.25, 0.7685547] }, { value: [7.25, 0.7685547] }],
};

/** Google's error body: `{"error": {"code", "message", "status"}}`. */
export function googleError(code: number, message: string, status: string) {
  return { error: { code, message, status } };
}

/** Reference test vector 6. */
export const MODEL_NOT_FOUND = googleError(
  404,
  'models/text-bison is not found for API version v1beta3',
  'NOT_FOUND',
);

export const INVALID_KEY = googleError(
  400,
  'API key not valid. Please pass a valid API key.',
  'INVALID_ARGUMENT',
);

export const QUOTA_EXCEEDED = googleError(
  429,
  'Resource has been exhausted (e.g. check quota).',
  'RESOURCE_EXHAUSTED',
);

export const SERVICE_UNAVAILABLE = googleError(503, 'The service is currently unavailable.', 'UNAVAILABLE');
