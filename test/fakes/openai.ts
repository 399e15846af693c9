// Realistic OpenAI REST API v1 payloads (Chat Completions, legacy Completions, Embeddings and
// their streams), shaped as in OpenAI's API reference; used with test/fakes/fake-upstream.ts.
import { sseFrame } from './fake-upstream.js';

/** A `chat.completion` object as `POST /v1/chat/completions` returns it. */
export const chatCompletion = {
  id: 'chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG',
  object: 'chat.completion',
  created: 1741570283,
  model: 'gpt-4o-mini-2024-07-18',
  choices: [
    {
      index: 0,
      message: {
        role: 'assistant',
        content: 'Hello! How can I assist you today?',
        refusal: null,
        annotations: [],
      },
      logprobs: null,
      finish_reason: 'stop',
    },
  ],
  usage: {
    prompt_tokens: 19,
    completion_tokens: 10,
    total_tokens: 29,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  },
  service_tier: 'default',
  system_fingerprint: 'fp_06737a9306',
} as const;

/** A chat completion whose assistant message calls a tool (content null). */
export const chatCompletionWithToolCall = {
  id: 'chatcmpl-abc123',
  object: 'chat.completion',
  created: 1699896916,
  model: 'gpt-4o-mini-2024-07-18',
  choices: [
    {
      index: 0,
      message: {
        role: 'assistant',
        content: null,
        tool_calls: [
          {
            id: 'call_abc123',
            type: 'function',
            function: { name: 'get_current_weather', arguments: '{\n"location": "Boston, MA"\n}' },
          },
        ],
      },
      logprobs: null,
      finish_reason: 'tool_calls',
    },
  ],
  usage: { prompt_tokens: 82, completion_tokens: 17, total_tokens: 99 },
} as const;

/** A `text_completion` object from the legacy `POST /v1/completions`. */
export const textCompletion = {
  id: 'cmpl-uqkvlQyYK7bGYrRHQ0eXlWi7',
  object: 'text_completion',
  created: 1589478378,
  model: 'gpt-3.5-turbo-instruct',
  system_fingerprint: 'fp_44709d6fcb',
  choices: [{ text: '\n\nThis is indeed a test', index: 0, logprobs: null, finish_reason: 'length' }],
  usage: { prompt_tokens: 5, completion_tokens: 7, total_tokens: 12 },
} as const;

/** An embeddings `list` for two inputs. */
export const embeddingsList = {
  object: 'list',
  data: [
    { object: 'embedding', embedding: [0.0023064255, -0.009327292, -0.0028842222], index: 0 },
    { object: 'embedding', embedding: [-0.0069292834, 0.0068945703, 0.0040140655], index: 1 },
  ],
  model: 'text-embedding-ada-002',
  usage: { prompt_tokens: 8, total_tokens: 8 },
} as const;

const CHUNK_BASE = {
  id: 'chatcmpl-123',
  object: 'chat.completion.chunk',
  created: 1694268190,
  model: 'gpt-4o-mini-2024-07-18',
  system_fingerprint: 'fp_44709d6fcb',
} as const;

/** `chat.completion.chunk` objects of one streamed answer, in order. */
export const chatChunks = [
  {
    ...CHUNK_BASE,
    choices: [{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }],
  },
  {
    ...CHUNK_BASE,
    choices: [{ index: 0, delta: { content: 'Hello' }, logprobs: null, finish_reason: null }],
  },
  { ...CHUNK_BASE, choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }] },
] as const;

/** The gateway chunks (reference §5.2) that `chatChunks` map to, in order. */
export const gatewayChatChunks = [
  {
    id: 'chatcmpl-123',
    object: 'chat.completion.chunk',
    created: 1694268190,
    model: 'gpt-4o-mini-2024-07-18',
    choices: [{ index: 0, finish_reason: null, delta: { role: 'assistant', content: '', tool_calls: null } }],
  },
  {
    id: 'chatcmpl-123',
    object: 'chat.completion.chunk',
    created: 1694268190,
    model: 'gpt-4o-mini-2024-07-18',
    choices: [{ index: 0, finish_reason: null, delta: { role: null, content: 'Hello', tool_calls: null } }],
  },
  {
    id: 'chatcmpl-123',
    object: 'chat.completion.chunk',
    created: 1694268190,
    model: 'gpt-4o-mini-2024-07-18',
    choices: [{ index: 0, finish_reason: 'stop', delta: { role: null, content: null, tool_calls: null } }],
  },
];

/** The SSE body OpenAI sends for `chatChunks`: one `data:` frame each, then `[DONE]`. */
export function chatStreamFrames(): string[] {
  return [...chatChunks.map((chunk) => sseFrame(chunk)), sseFrame('[DONE]')];
}

/** Legacy Completions stream chunks: each choice carries `text` (object `text_completion`). */
export const completionsChunks = [
  {
    id: 'cmpl-7iA7iJjj8V2zOkCGvWF2hAkDWBQZe',
    object: 'text_completion',
    created: 1690759702,
    choices: [{ text: 'This', index: 0, logprobs: null, finish_reason: null }],
    model: 'gpt-3.5-turbo-instruct',
  },
  {
    id: 'cmpl-7iA7iJjj8V2zOkCGvWF2hAkDWBQZe',
    object: 'text_completion',
    created: 1690759702,
    choices: [{ text: '', index: 0, logprobs: null, finish_reason: 'length' }],
    model: 'gpt-3.5-turbo-instruct',
  },
] as const;

/** OpenAI's error body for a wrong key (401). */
export const invalidApiKeyError = {
  error: {
    message:
      'Incorrect API key provided: sk-wrong. You can find your API key at https://platform.openai.com/account/api-keys.',
    type: 'invalid_request_error',
    param: null,
    code: 'invalid_api_key',
  },
} as const;

/** OpenAI's error body for a rate limit (429). */
export const rateLimitError = {
  error: {
    message:
      'Rate limit reached for gpt-4o-mini in organization org-1 on requests per min (RPM): Limit 3, Used 3, Requested 1.',
    type: 'requests',
    param: null,
    code: 'rate_limit_exceeded',
  },
} as const;

/** An error OpenAI writes into a stream that has already started (openai-node reads `data.error`). */
export const streamServerError = {
  error: {
    message: 'The server had an error while processing your request. Sorry about that!',
    type: 'server_error',
    param: null,
    code: null,
  },
} as const;
