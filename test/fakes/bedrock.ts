import { EventStreamCodec, type MessageHeaders } from '@smithy/eventstream-codec';
import type { FakeReply, RecordedRequest } from './fake-upstream.js';

// Bedrock Runtime payloads as AWS's API reference shows them (InvokeModel per model family,
// Converse, ConverseStream's event stream, the restJson error shape). The event-stream frames are
// encoded with @smithy/eventstream-codec, as the real service's are, never by hand. Values follow
// reference bedrock.md §5–§10.

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const codec = new EventStreamCodec(
  (bytes) => decoder.decode(bytes),
  (text) => encoder.encode(text),
);

export const EVENT_STREAM_CONTENT_TYPE = 'application/vnd.amazon.eventstream';

/** Bedrock pads every stream event with a random `p` field so sizes leak nothing. */
function padding(length: number): string {
  return 'abcdefghijklmnopqrstuvwxyz'.slice(0, length);
}

function frame(headers: MessageHeaders, payload: unknown): Uint8Array {
  return codec.encode({ headers, body: encoder.encode(JSON.stringify(payload)) });
}

/** One `:message-type: event` frame of a ConverseStream response. */
export function eventFrame(eventType: string, payload: Record<string, unknown>): Uint8Array {
  return frame(
    {
      ':message-type': { type: 'string', value: 'event' },
      ':event-type': { type: 'string', value: eventType },
      ':content-type': { type: 'string', value: 'application/json' },
    },
    { ...payload, p: padding(Object.keys(payload).length + 3) },
  );
}

/** One `:message-type: exception` frame (e.g. `throttlingException`) with AWS's `{message}` body. */
export function exceptionFrame(exceptionType: string, message: string): Uint8Array {
  return frame(
    {
      ':message-type': { type: 'string', value: 'exception' },
      ':exception-type': { type: 'string', value: exceptionType },
      ':content-type': { type: 'string', value: 'application/json' },
    },
    { message },
  );
}

/** A 200 event-stream response carrying `frames`. */
export function eventStream(frames: Uint8Array[], ending: 'end' | 'drop' = 'end'): FakeReply {
  return { kind: 'bytes', contentType: EVENT_STREAM_CONTENT_TYPE, chunks: frames, ending };
}

/** Reference §7.2's example: "Hi", "!", then a `max_tokens` stop and the usage metadata. */
export const HI_STREAM_FRAMES = [
  eventFrame('messageStart', { role: 'assistant' }),
  eventFrame('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'Hi' } }),
  eventFrame('contentBlockDelta', { contentBlockIndex: 0, delta: { text: '!' } }),
  eventFrame('contentBlockStop', { contentBlockIndex: 0 }),
  eventFrame('messageStop', { stopReason: 'max_tokens' }),
  eventFrame('metadata', {
    usage: { inputTokens: 12, outputTokens: 2, totalTokens: 14 },
    metrics: { latencyMs: 300 },
  }),
];

/** Reference §6's Converse answer. */
export const CONVERSE_RESPONSE = {
  output: { message: { role: 'assistant', content: [{ text: 'Hi! How can I help?' }] } },
  stopReason: 'end_turn',
  usage: { inputTokens: 12, outputTokens: 7, totalTokens: 19 },
  metrics: { latencyMs: 310 },
};

/** Reference test vector 1: Claude v2's text completion. */
export const CLAUDE_TEXT_RESPONSE = {
  completion: 'Here is a basic overview of how a car works:\n\n1. The engine.',
  stop_reason: 'max_tokens',
  stop: null,
};

/** Reference §5.2: Titan Text's answer. */
export const TITAN_RESPONSE = {
  inputTextTokenCount: 4,
  results: [{ tokenCount: 5, outputText: '\nThis is a test', completionReason: 'FINISH' }],
};

/** Reference test vector 3: Jurassic-2's answer. */
export const AI21_RESPONSE = {
  id: 1234,
  prompt: { text: 'This is a test' },
  completions: [{ data: { text: '\nIt looks like' }, finishReason: { reason: 'endoftext' } }],
};

/** Cohere Command's Generate answer on Bedrock. */
export const COHERE_RESPONSE = {
  id: '6e1b1f2e-2b4e-4d27-9d3f-4c8b4e1c2f11',
  generations: [{ id: 'a1', text: ' This is a test', finish_reason: 'COMPLETE' }],
  prompt: 'This is a test',
};

/**
 * An AWS restJson error: the exception name in `x-amzn-errortype` (as Bedrock sends it, with
 * its namespace suffix) and `{"message": …}` as the body.
 */
export function awsError(status: number, exception: string, message: string): FakeReply {
  return {
    kind: 'json',
    status,
    headers: {
      'x-amzn-errortype': `${exception}:http://internal.amazon.com/coral/com.amazon.bedrock/`,
      'x-amzn-requestid': '9a3d4e2c-1f0b-4c53-9d7e-1f2a3b4c5d6e',
    },
    body: { message },
  };
}

/** The parts of a SigV4 `Authorization` header's credential scope. */
export interface SigV4Scope {
  algorithm: string;
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  terminator: string;
  signedHeaders: string[];
}

const AUTHORIZATION =
  /^(\S+) Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/([^,]+), SignedHeaders=([^,]+), Signature=[0-9a-f]{64}$/;

/** Parses `AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/bedrock/aws4_request, …`. */
export function sigV4Scope(request: RecordedRequest): SigV4Scope {
  const header = request.headers.authorization;
  const match = typeof header === 'string' ? AUTHORIZATION.exec(header) : null;
  if (match === null) throw new Error(`not a SigV4 Authorization header: ${String(header)}`);
  const [, algorithm, accessKeyId, date, region, service, terminator, signedHeaders] = match;
  return {
    algorithm: algorithm!,
    accessKeyId: accessKeyId!,
    date: date!,
    region: region!,
    service: service!,
    terminator: terminator!,
    signedHeaders: signedHeaders!.split(';'),
  };
}
