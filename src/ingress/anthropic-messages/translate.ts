import { UpstreamProtocolError } from '../../errors.js';
import type { CallContext, ProviderAdapter } from '../../providers/base.js';
import type { ChatRequest } from '../../schemas/chat.js';
import { hasStreamTerminated } from '../../upstream/request.js';
import type { MessagesAnswer, StreamHead } from './passthrough.js';
import { toAnthropicMessage } from './response.js';
import { MessagesStreamTranslator } from './stream.js';

// Translation onto any other chat provider: the endpoint's own adapter, with the request and
// the answer mapped (ingress reference §5.1–5.3).

const JSON_HEADERS = Object.freeze({ 'content-type': 'application/json' });
const SSE_HEADERS = Object.freeze({ 'content-type': 'text/event-stream; charset=utf-8' });
const ENDED_EARLY = 'The upstream provider ended the stream early, before its final chunk.';

export async function translateUnary(
  adapter: ProviderAdapter,
  request: ChatRequest,
  model: string,
  call: CallContext,
): Promise<MessagesAnswer> {
  const message = toAnthropicMessage(await adapter.chat(request, call), model);
  const usage = message.usage as MessagesAnswer['usage'];
  return { status: 200, headers: JSON_HEADERS, body: JSON.stringify(message), usage };
}

export async function translateStream(
  adapter: ProviderAdapter,
  request: ChatRequest,
  model: string,
  call: CallContext,
): Promise<{ head: StreamHead; chunks: AsyncIterable<string> }> {
  const chunks = await adapter.chatStream(request, call);
  const translator = new MessagesStreamTranslator(model);
  const head: StreamHead = { status: 200, headers: SSE_HEADERS, usage: () => translator.usage };
  return { head, chunks: translateChunks(chunks, translator, call.signal) };
}

/** Each chunk's events are handed on as soon as the chunk arrives; nothing is held back. */
async function* translateChunks(
  chunks: AsyncIterable<Parameters<MessagesStreamTranslator['translate']>[0]>,
  translator: MessagesStreamTranslator,
  signal: AbortSignal,
): AsyncGenerator<string, void, undefined> {
  let hasChunks = false;
  for await (const chunk of chunks) {
    hasChunks = true;
    const frames = translator.translate(chunk);
    if (frames !== '') yield frames;
  }
  // A stream that ends without a finish reason or the upstream's own terminator was cut.
  if (!translator.isFinished && !(hasChunks && hasStreamTerminated(signal))) {
    throw new UpstreamProtocolError(ENDED_EARLY);
  }
  yield translator.finish();
}
