// MosaicML Inference predict payloads, shaped as MosaicML's (retired) inference docs showed them
// (docs.mosaicml.com/en/latest/inference.html: `{"outputs": [...]}` for text and embeddings,
// error bodies with a top-level `message`). Values follow reference mosaicml.md's test vectors.

/** Reference §3/§4: one generated text. */
export const TEXT_OUTPUTS = { outputs: ['This is a test'] };

/** Reference §5: two embeddings (instructor-xl returns 768 numbers; two are enough here). */
export const EMBEDDING_OUTPUTS = {
  outputs: [
    [3.25, 0.7685547],
    [7.25, 0.7685547],
  ],
};

/** Reference test vector 3: a token-limit error MosaicML reports as a 500. */
export const PROMPT_TOKEN_LIMIT = {
  message:
    'Error: prompt token count (29) + max output tokens (4085) cannot exceed 4096. Please reduce the length of your prompt and/or max output tokens generated.\n',
};

export const MAX_OUTPUT_TOKEN_LIMIT = {
  message: 'Error: max output tokens is limited to 4096 for this model.\n',
};

/** An ordinary server failure. */
export const INTERNAL_ERROR = { message: 'Internal server error while running the model.' };

export const UNAUTHORIZED = { message: 'Unauthorized: invalid API key' };

export const RATE_LIMITED = { message: 'Rate limit exceeded: 60 requests per minute.' };
