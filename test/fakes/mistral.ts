import { sseFrame } from './fake-upstream.js';

// Mistral AI payloads, shaped as its API reference (docs.mistral.ai/api: chat completions,
// embeddings, reasoning chunks) and the reference file's test vectors show them.

/** Reference §3: the answer to a completions request (sent as a one-message chat). */
export const COMPLETIONS_RESPONSE = {
  id: 'cmpl-e5cc70bb28c444948073e77776eb30ef',
  object: 'chat.completion',
  created: 1702256327,
  model: 'mistral-tiny',
  choices: [{ index: 0, message: { role: 'assistant', content: 'This is a test' }, finish_reason: 'length' }],
  usage: { prompt_tokens: 9, completion_tokens: 9, total_tokens: 18 },
};

/** Reference §9.4. */
export const CHAT_RESPONSE = {
  id: 'c1',
  object: 'chat.completion',
  created: 1700000000,
  model: 'mistral-small-latest',
  choices: [{ index: 0, message: { role: 'assistant', content: 'Hi!' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 },
};

/** Two choices (`n: 2`): a function call (Mistral's 9-character tool call id) and a text answer. */
export const CHAT_RESPONSE_WITH_TOOL_CALL = {
  id: '4f1b7c9e2a3d4e5f8a9b0c1d2e3f4a5b',
  object: 'chat.completion',
  created: 1733000000,
  model: 'mistral-large-latest',
  choices: [
    {
      index: 0,
      message: {
        role: 'assistant',
        content: '',
        tool_calls: [
          {
            id: 'D681PevKs',
            type: 'function',
            function: { name: 'get_current_weather', arguments: '{"location": "Paris, 75"}' },
          },
        ],
        prefix: false,
      },
      finish_reason: 'tool_calls',
    },
    {
      index: 1,
      message: { role: 'assistant', content: 'It is sunny in Paris.', tool_calls: null, prefix: false },
      finish_reason: 'stop',
    },
  ],
  usage: { prompt_tokens: 85, completion_tokens: 41, total_tokens: 126 },
};

/** Mistral's spec lets `arguments` be an object as well as a JSON string. */
export const CHAT_RESPONSE_WITH_OBJECT_ARGUMENTS = {
  ...CHAT_RESPONSE_WITH_TOOL_CALL,
  choices: [
    {
      index: 0,
      message: {
        role: 'assistant',
        content: '',
        tool_calls: [
          { id: 'D681PevKs', function: { name: 'get_current_weather', arguments: { location: 'Paris' } } },
        ],
      },
      finish_reason: 'tool_calls',
    },
  ],
};

/** Reasoning output (docs.mistral.ai/capabilities/reasoning): a thinking chunk, then text. */
export const CHAT_RESPONSE_WITH_THINKING = {
  id: '9a8b7c6d5e4f4a3b2c1d0e9f8a7b6c5d',
  object: 'chat.completion',
  created: 1760000000,
  model: 'mistral-small-latest',
  choices: [
    {
      index: 0,
      message: {
        role: 'assistant',
        content: [
          { type: 'thinking', thinking: [{ type: 'text', text: 'The user greets me; greet back.' }] },
          { type: 'text', text: 'Hello! ' },
          { type: 'text', text: 'How can I help?' },
        ],
      },
      finish_reason: 'stop',
    },
  ],
  usage: { prompt_tokens: 10, completion_tokens: 30, total_tokens: 40 },
};

/** Reference §4: a batch of two inputs. */
export const EMBEDDINGS_RESPONSE = {
  id: 'embd-aad6fc62b17349b192ef09225058bc45',
  object: 'list',
  data: [
    { object: 'embedding', embedding: [3.25, 0.7685547], index: 0 },
    { object: 'embedding', embedding: [7.25, 0.7685547], index: 1 },
  ],
  model: 'mistral-embed',
  usage: { prompt_tokens: 9, total_tokens: 9 },
};

/** Reference §9.2: usage values may be null. */
export const EMBEDDINGS_RESPONSE_NULL_USAGE = {
  id: 'x',
  object: 'list',
  data: [{ object: 'embedding', embedding: [3.25, 0.7685547], index: 0 }],
  model: 'mistral-embed',
  usage: { prompt_tokens: null, total_tokens: null },
};

function chatChunk(choice: object, extra: object = {}) {
  return {
    id: 'cmpl-1',
    object: 'chat.completion.chunk',
    created: 1700000000,
    model: 'mistral-small-latest',
    choices: [choice],
    ...extra,
  };
}

/** Reference §6, one frame per chunk. */
export const CHAT_STREAM_CHUNKS = [
  chatChunk({ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }),
  chatChunk({ index: 0, delta: { content: 'Hi' }, finish_reason: null }),
  chatChunk(
    { index: 0, delta: { content: '!' }, finish_reason: 'stop' },
    { usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 } },
  ),
];

export const CHAT_STREAM_EVENTS = [...CHAT_STREAM_CHUNKS.map((chunk) => sseFrame(chunk)), sseFrame('[DONE]')];

/** Mistral streams a whole tool call in one delta, with its index. */
export const CHAT_STREAM_TOOL_CALL_EVENTS = [
  sseFrame(chatChunk({ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null })),
  sseFrame(
    chatChunk(
      {
        index: 0,
        delta: {
          tool_calls: [
            {
              id: 'D681PevKs',
              function: { name: 'get_current_weather', arguments: '{"location": "Paris"}' },
              index: 0,
            },
          ],
        },
        finish_reason: 'tool_calls',
      },
      { usage: { prompt_tokens: 85, completion_tokens: 20, total_tokens: 105 } },
    ),
  ),
  sseFrame('[DONE]'),
];

/** Mistral's error body for a rejected request (no `error` key, reference §7). */
export function mistralError(message: string, type: string, code: string | null = null) {
  return { object: 'error', message, type, param: null, code };
}

/** Reference §9.3. */
export const UNAUTHORIZED_ERROR = { message: 'Unauthorized', request_id: 'r1' };

export const INVALID_MODEL_ERROR = mistralError('Invalid model: mistral-tiny-nope', 'invalid_model', '1500');

export const RATE_LIMIT_ERROR = mistralError('Requests rate limit exceeded', 'rate_limited', '1300');

export const SERVICE_UNAVAILABLE_ERROR = mistralError(
  'Service unavailable.',
  'internal_server_error',
  '1000',
);
