// AI21 Studio Jurassic-2 complete payloads, shaped as AI21's (retired) J2 complete reference
// showed them (docs.ai21.com/reference/j2-complete-ref: the tokenized prompt, `completions` with
// `data.text` and `finishReason`, error bodies with `detail`). Values follow reference
// ai21labs.md's test vectors.

function tokens(...texts: string[]) {
  return texts.map((text, index) => ({
    generatedToken: { token: text, logprob: -1.5 - index, raw_logprob: -1.5 - index },
    topTokens: null,
    textRange: { start: index, end: index + text.length },
  }));
}

/** Reference §4's answer. */
export const COMPLETE_RESPONSE = {
  id: '7921a78e-d905-c9df-27e3-88e4831e3c3b',
  prompt: { text: 'This is a test', tokens: tokens('▁This', '▁is', '▁a', '▁test') },
  completions: [
    {
      data: { text: 'this is a test response', tokens: tokens('▁this', '▁is') },
      finishReason: { reason: 'length', length: 2 },
    },
  ],
};

/** Two results (`numResults: 2`) ending differently. */
export const TWO_COMPLETIONS_RESPONSE = {
  id: 'b5a3e1f0-6c2d-4f7e-9a8b-0c1d2e3f4a5b',
  prompt: { text: 'Say hi', tokens: tokens('▁Say', '▁hi') },
  completions: [
    { data: { text: 'Hi!', tokens: tokens('▁Hi', '!') }, finishReason: { reason: 'endoftext' } },
    {
      data: { text: 'Hello', tokens: tokens('▁Hello') },
      finishReason: { reason: 'stop', sequence: '\n' },
    },
  ],
};

/** Reference test vector 5. */
export const UNAUTHORIZED = { detail: 'Forbidden: Bad or missing API token.' };

export const UNPROCESSABLE = {
  detail: [
    {
      loc: ['body', 'maxTokens'],
      msg: 'ensure this value is less than or equal to 8191',
      type: 'value_error.number.not_le',
    },
  ],
};

export const RATE_LIMITED = { detail: 'Too many requests' };

export const SERVER_ERROR = { detail: 'Internal server error' };
