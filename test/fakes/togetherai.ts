import { sseFrame } from './fake-upstream.js';

// Together AI payloads, shaped as its API reference (docs.together.ai/reference, OpenAPI spec
// togethercomputer/openapi) and MLflow's togetherai tests show them.

export const CHAT_RESPONSE = {
  id: '8448080b880415ea-SJC',
  object: 'chat.completion',
  created: 1705090115,
  model: 'mistralai/Mixtral-8x7B-Instruct-v0.1',
  prompt: [],
  choices: [
    {
      index: 0,
      message: { role: 'assistant', content: 'Its Artyom!' },
      finish_reason: 'stop',
      logprobs: null,
      seed: 1234567890,
    },
  ],
  usage: { prompt_tokens: 13, completion_tokens: 7, total_tokens: 20 },
};

/** Two choices (`n: 2`), one of them a tool call, as Together returns them. */
export const CHAT_RESPONSE_WITH_TOOL_CALL = {
  id: '8f3c1e7a2b9d4c11-SJC',
  object: 'chat.completion',
  created: 1733000000,
  model: 'meta-llama/Meta-Llama-3.1-8B-Instruct-Turbo',
  prompt: [],
  choices: [
    {
      index: 0,
      message: {
        role: 'assistant',
        content: null,
        tool_calls: [
          {
            index: 0,
            id: 'call_4q2c8xk1m3',
            type: 'function',
            function: { name: 'get_weather', arguments: '{"location":"Singapore"}' },
          },
        ],
      },
      finish_reason: 'tool_calls',
    },
    { index: 1, message: { role: 'assistant', content: 'It is sunny.' }, finish_reason: 'eos' },
  ],
  usage: { prompt_tokens: 40, completion_tokens: 25, total_tokens: 65 },
};

export const COMPLETIONS_RESPONSE = {
  id: '8447f286bbdb67b3-SJC',
  object: 'text_completion',
  created: 1705089226,
  model: 'mistralai/Mixtral-8x7B-Instruct-v0.1',
  prompt: [],
  choices: [{ index: 0, text: 'The capital of France is Paris.', finish_reason: 'eos', logprobs: null }],
  usage: { prompt_tokens: 16, completion_tokens: 78, total_tokens: 94 },
};

export const EMBEDDINGS_RESPONSE = {
  object: 'list',
  data: [{ object: 'embedding', embedding: [0.44990748, -0.2521129, -0.43091708, 0.214978], index: 0 }],
  model: 'togethercomputer/m2-bert-80M-8k-retrieval',
  request_id: '840fc1b5bb2830cb-SEA',
};

/** Reference §7: Together's chat chunks carry the text both in `text` and `delta.content`. */
export const CHAT_STREAM_EVENTS = [
  sseFrame({
    id: 'test-id',
    object: 'chat.completion.chunk',
    created: 1,
    choices: [
      {
        index: 0,
        text: 'test',
        logprobs: null,
        finish_reason: null,
        delta: { token_id: 546, content: 'test' },
      },
    ],
    model: 'test',
    usage: null,
  }),
  sseFrame({
    id: 'test-id',
    object: 'chat.completion.chunk',
    created: 1,
    choices: [
      {
        index: 0,
        text: 'test',
        logprobs: null,
        finish_reason: 'length',
        delta: { token_id: 1345, content: 'test' },
      },
    ],
    model: 'test',
    usage: { prompt_tokens: 17, completion_tokens: 200, total_tokens: 217 },
  }),
  sseFrame('[DONE]'),
];

export const COMPLETIONS_STREAM_EVENTS = [
  sseFrame({
    id: '8447f286bbdb67b3-SJC',
    object: 'completion.chunk',
    created: 1705089226,
    choices: [
      {
        index: 0,
        text: ' Paris',
        logprobs: null,
        finish_reason: null,
        seed: null,
        delta: { token_id: 12366, role: 'assistant', content: ' Paris' },
      },
    ],
    model: 'mistralai/Mixtral-8x7B-Instruct-v0.1',
    usage: null,
  }),
  sseFrame({
    id: '8447f286bbdb67b3-SJC',
    object: 'completion.chunk',
    created: 1705089226,
    choices: [
      {
        index: 0,
        text: '.',
        logprobs: null,
        finish_reason: 'eos',
        seed: 5127394551,
        delta: { token_id: 28723, role: 'assistant', content: '.' },
      },
    ],
    model: 'mistralai/Mixtral-8x7B-Instruct-v0.1',
    usage: { prompt_tokens: 16, completion_tokens: 2, total_tokens: 18 },
  }),
  sseFrame('[DONE]'),
];

/** Together's error body (OpenAPI `ErrorData`). */
export function togetherError(message: string, type: string, param: string | null = null) {
  return { error: { message, type, param, code: null } };
}

export const INVALID_KEY_ERROR = togetherError('Invalid API key provided', 'invalid_request_error');

export const RATE_LIMIT_ERROR = togetherError(
  'You have reached the rate limit specific to this model mistralai/Mixtral-8x7B-Instruct-v0.1. The maximum rate limit for this model is 60.0 queries and 1000000 tokens per minute.',
  'model_rate_limit',
);

export const SERVICE_UNAVAILABLE_ERROR = togetherError(
  'The server is overloaded or not ready yet.',
  'server_error',
);
