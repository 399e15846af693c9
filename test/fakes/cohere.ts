// Cohere API v2 payloads, shaped as Cohere's API reference shows them (docs.cohere.com/v2/reference/chat,
// chat-stream and embed; cohere-openapi.yaml): the chat response, the typed SSE stream events and
// the embed-by-type response. Values follow reference cohere.md's test vectors where it has them.
import { sseFrame } from './fake-upstream.js';

export interface ChatResponseOptions {
  id?: string;
  text?: string;
  inputTokens?: number;
  outputTokens?: number;
}

/** A `POST /v2/chat` answer (non-streaming). */
export function cohereChatResponse(options: ChatResponseOptions = {}): Record<string, unknown> {
  const { id = 'abc123', text = '\n\nThis is a test!', inputTokens = 13, outputTokens = 7 } = options;
  return {
    id,
    finish_reason: 'COMPLETE',
    message: { role: 'assistant', content: [{ type: 'text', text }] },
    usage: {
      billed_units: { input_tokens: inputTokens, output_tokens: outputTokens },
      tokens: { input_tokens: inputTokens, output_tokens: outputTokens },
    },
  };
}

/** A `POST /v2/chat` answer in which the model asks for a tool (tools passed, no tool results yet). */
export const COHERE_TOOL_CALL_RESPONSE = {
  id: 'c14c80c3-18eb-4519-9460-6c92edd8cfb4',
  finish_reason: 'TOOL_CALL',
  message: {
    role: 'assistant',
    tool_plan: 'I will look up the weather in Toronto.',
    tool_calls: [
      {
        id: 'get_weather_1byjy32y4hvq',
        type: 'function',
        function: { name: 'get_weather', arguments: '{"location":"Toronto"}' },
      },
    ],
  },
  usage: {
    billed_units: { input_tokens: 37, output_tokens: 28 },
    tokens: { input_tokens: 1048, output_tokens: 59 },
  },
};

/** One typed v2 stream event as Cohere frames it: `event: <type>` then `data: <json>`. */
function event(data: { type: string } & Record<string, unknown>): string {
  return sseFrame(data, data.type);
}

export function messageStart(id: string): string {
  return event({
    id,
    type: 'message-start',
    delta: { message: { role: 'assistant', content: [], tool_plan: '', tool_calls: [], citations: [] } },
  });
}

export const CONTENT_START = event({
  type: 'content-start',
  index: 0,
  delta: { message: { content: { type: 'text', text: '' } } },
});

export function contentDelta(text: string): string {
  return event({ type: 'content-delta', index: 0, delta: { message: { content: { text } } } });
}

export const CONTENT_END = event({ type: 'content-end', index: 0 });

export function messageEnd(finishReason: string): string {
  return event({
    type: 'message-end',
    delta: {
      finish_reason: finishReason,
      usage: {
        billed_units: { input_tokens: 83, output_tokens: 63 },
        tokens: { input_tokens: 83, output_tokens: 63 },
      },
    },
  });
}

/** Reference §6's stream (" Hi", " there", COMPLETE; id test-id1), in v2's event format. */
export const COHERE_TEXT_STREAM = [
  messageStart('test-id1'),
  CONTENT_START,
  contentDelta(' Hi'),
  contentDelta(' there'),
  CONTENT_END,
  messageEnd('COMPLETE'),
];

/** A v2 stream in which the model calls a tool, arguments streamed in two pieces. */
export const COHERE_TOOL_STREAM = [
  messageStart('tool-stream-1'),
  event({ type: 'tool-plan-delta', delta: { message: { tool_plan: 'I will check.' } } }),
  event({
    type: 'tool-call-start',
    index: 0,
    delta: {
      message: {
        tool_calls: {
          id: 'get_weather_nsz5zm3w56q3',
          type: 'function',
          function: { name: 'get_weather', arguments: '' },
        },
      },
    },
  }),
  event({
    type: 'tool-call-delta',
    index: 0,
    delta: { message: { tool_calls: { function: { arguments: '{"location":' } } } },
  }),
  event({
    type: 'tool-call-delta',
    index: 0,
    delta: { message: { tool_calls: { function: { arguments: '"Toronto"}' } } } },
  }),
  event({ type: 'tool-call-end', index: 0 }),
  messageEnd('TOOL_CALL'),
];

/** A `POST /v2/embed` answer (embeddings by type). */
export function cohereEmbedResponse(
  embeddings: Record<string, unknown[]> = { float: [[3.25, 0.7685547, 2.65625]] },
): Record<string, unknown> {
  return {
    id: 'bc57846a-3e56-4327-8acc-588ca1a37b8a',
    texts: ['hello world'],
    embeddings,
    meta: { api_version: { version: '2' }, billed_units: { input_tokens: 2 } },
  };
}

/** Cohere's error body: `{"message": …}` (v2 adds an `id`), never an `error` object. */
export const COHERE_INVALID_TOKEN = { message: 'invalid api token' };
export const COHERE_RATE_LIMITED = {
  id: '6a2b6f63-51b3-4b71-a45b-8d4c1d4f1c2a',
  message:
    "You are using a Trial key, which is limited to 10 API calls / minute. You can continue to use the Trial key for free or upgrade to a Production key with higher rate limits at 'https://dashboard.cohere.com/api-keys'. Contact us on 'https://discord.gg/XW44jPfYJu' or email us at support@cohere.com with any questions",
};
export const COHERE_INTERNAL_ERROR = {
  id: '0d2b2fc9-3e5b-4ae0-a1d1-3b1d5a2ff0f1',
  message: 'internal server error, this has been reported to our developers',
};
