import type { EventSourceMessage } from 'eventsource-parser';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { EndpointNotFoundError, GatewayError, InvalidRequestError } from '../../errors.js';
import type { CallContext } from '../../providers/base.js';
import { GeminiAdapter } from '../../providers/gemini/index.js';
import { resolveTarget, type Target } from '../../routing/execute.js';
import type { ChatChunk, ChatRequest } from '../../schemas/chat.js';
import { usageSchema, type Usage } from '../../schemas/generation.js';
import { isRecord } from '../../schemas/json.js';
import { authorizeTarget } from '../../server/access-hook.js';
import type { Endpoint, EndpointTable, Snapshot } from '../../server/endpoint-table.js';
import { scrubError, scrubberForTarget } from '../../server/scrub-secrets.js';
import { parseBody } from '../../server/validation.js';
import {
  EVENT_STREAM_HEAD,
  JSON_CONTENT_TYPE,
  parseAnswer,
  registerNativeErrors,
  type NativeAnswer,
  type WireChunk,
} from '../native-reply.js';
import { ChatStreamUsage } from '../metering.js';
import { eventJson, relayChunks, relayWhole, SseUsageTap } from '../passthrough.js';
import { serveNative, type NativeCall } from '../serve-native.js';
import { geminiErrorBody, geminiErrorChunk } from './errors.js';
import { toChatRequest } from './request.js';
import { GeminiStreamMapper, toGeminiResponse, usageOfGemini } from './response.js';
import { generateContentRequestSchema } from './schema.js';

// Gemini API ingress (reference ingress.md §4): `POST /v1beta/models/{name}:generateContent`
// and `:streamGenerateContent?alt=sse`, also under MLflow's `/gateway/gemini` prefix. `{name}`
// names a chat endpoint or traffic route.

const PATHS = ['/v1beta/models/:call', '/gateway/gemini/v1beta/models/:call'];
const METHODS = { generateContent: false, streamGenerateContent: true } as const;
/** The genai SDK always names `models/{name}`; the name is what follows. */
const MODELS_PREFIX = /^models\//;
const ENDED_EARLY = 'The upstream provider ended the stream early, before its final chunk.';

interface GeminiCallPath {
  name: string;
  isStream: boolean;
}

/** `{name}:{method}`: the name may itself say `models/…` (the SDK adds the prefix itself). */
function parseCall(call: string, query: unknown): GeminiCallPath {
  const colon = call.lastIndexOf(':');
  const method = colon === -1 ? '' : call.slice(colon + 1);
  if (method !== 'generateContent' && method !== 'streamGenerateContent') {
    throw new GatewayError(
      404,
      'NOT_FOUND',
      `Method '${method}' is not served: use generateContent or streamGenerateContent.`,
    );
  }
  const isStream = METHODS[method];
  if (isStream && (!isRecord(query) || query.alt !== 'sse')) {
    throw new InvalidRequestError(
      400,
      'streamGenerateContent is served as server-sent events only: add ?alt=sse.',
      'alt',
    );
  }
  return { name: call.slice(0, colon).replace(MODELS_PREFIX, ''), isStream };
}

/** One request, parsed for translation at most once whichever destinations are tried. */
class GeminiCall implements NativeCall {
  readonly #body: unknown;
  readonly #name: string;
  readonly #isStream: boolean;
  #chat: ChatRequest | null = null;
  /** Each stream attempt's usage so far, read once the served one ends. */
  readonly streamUsage = new Map<Endpoint, { readonly usage: Usage | null }>();

  constructor(body: unknown, path: GeminiCallPath) {
    this.#body = body;
    this.#name = path.name;
    this.#isStream = path.isStream;
  }

  #translate(): ChatRequest {
    this.#chat ??= toChatRequest(parseBody(generateContentRequestSchema, this.#body), this.#isStream);
    return this.#chat;
  }

  async unary(endpoint: Endpoint, call: CallContext): Promise<NativeAnswer> {
    const adapter = endpoint.adapter;
    if (adapter instanceof GeminiAdapter) {
      const destination = adapter.generateContentRelay(false);
      const answer = await relayWhole(destination, JSON.stringify(this.#body), call.signal);
      return { wire: [answer.head, answer.body], usage: usageOfGemini(parseAnswer(answer.body)) };
    }
    const chat = await adapter.chat(this.#translate(), call);
    const head = { status: 200, contentType: JSON_CONTENT_TYPE, headers: {} };
    return { wire: [head, JSON.stringify(toGeminiResponse(chat, this.#name))], usage: chat.usage };
  }

  async stream(endpoint: Endpoint, call: CallContext): Promise<AsyncIterable<WireChunk>> {
    const adapter = endpoint.adapter;
    if (adapter instanceof GeminiAdapter) {
      const tap = new SseUsageTap(usageOfEvent);
      this.streamUsage.set(endpoint, tap);
      return relayChunks(adapter.generateContentRelay(true), JSON.stringify(this.#body), call.signal, tap);
    }
    const watcher = new ChatStreamUsage();
    this.streamUsage.set(endpoint, watcher);
    const chunks = watcher.watch(await adapter.chatStream(this.#translate(), call));
    return geminiFrames(chunks, new GeminiStreamMapper(this.#name), scrubberForTarget(endpoint));
  }
}

/** Gemini states the usage so far in a chunk's `usageMetadata`; the last chunk's is the whole. */
function usageOfEvent(event: EventSourceMessage): Usage | null {
  // Only chunks that carry usage are parsed a second time.
  return event.data.includes('"usageMetadata"') ? usageOfGemini(eventJson(event)) : null;
}

/** A chunk's usage, when an adapter passed one on (OpenAI's `include_usage` chunk). */
function usageOf(chunk: ChatChunk): Usage | null {
  const usage = (chunk as { usage?: unknown }).usage;
  if (usage === undefined || usage === null) return null;
  const parsed = usageSchema.safeParse(usage);
  return parsed.success ? parsed.data : null;
}

async function* geminiFrames(
  chunks: AsyncIterable<ChatChunk>,
  mapper: GeminiStreamMapper,
  scrub: (text: string) => string,
): AsyncGenerator<WireChunk, void, undefined> {
  yield EVENT_STREAM_HEAD;
  try {
    for await (const chunk of chunks) {
      const mapped = mapper.onChunk(chunk, usageOf(chunk));
      if (mapped !== null) yield `data: ${JSON.stringify(mapped)}\n\n`;
    }
  } catch (error) {
    yield geminiErrorChunk(scrubError(error, scrub));
    return;
  }
  if (!mapper.isFinished) {
    yield geminiErrorChunk(new GatewayError(502, 'UPSTREAM_PROTOCOL', ENDED_EARLY));
    return;
  }
  yield `data: ${JSON.stringify(mapper.finish())}\n\n`;
}

function resolve(snapshot: Snapshot, name: string): Target {
  const target = resolveTarget(snapshot.targets, name);
  if (!target) {
    throw new EndpointNotFoundError(`models/${name} is not found: no endpoint or route has that name.`);
  }
  if (target.type !== 'llm/v1/chat') {
    throw new InvalidRequestError(400, `models/${name} is not a chat endpoint.`, 'model');
  }
  return target;
}

async function handle(table: EndpointTable, request: FastifyRequest, reply: FastifyReply): Promise<unknown> {
  const path = parseCall((request.params as { call: string }).call, request.query);
  if (!isRecord(request.body)) throw new InvalidRequestError(400, 'The body must be a JSON object.', 'body');
  // Before the lookup, so a forbidden name is refused alike whether it exists or not.
  authorizeTarget(request, path.name);
  const snapshot = table.acquire(reply.raw);
  const target = resolve(snapshot, path.name);
  const call = new GeminiCall(request.body, path);
  return serveNative(snapshot, target, call, path.isStream, request, reply, geminiErrorChunk);
}

export async function registerGeminiRoutes(app: FastifyInstance, table: EndpointTable): Promise<void> {
  await app.register((scope, _options, done) => {
    registerNativeErrors(scope, geminiErrorBody);
    for (const path of PATHS) scope.post(path, (request, reply) => handle(table, request, reply));
    done();
  });
}
