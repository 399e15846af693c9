import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  executeStream,
  executeUnary,
  type AttemptObserver,
  type ExecuteContext,
  type Served,
  type Target,
} from '../routing/execute.js';
import { chatRequestSchema, type ChatRequest } from '../schemas/chat.js';
import { completionsRequestSchema, type CompletionsRequest } from '../schemas/completions.js';
import { embeddingsRequestSchema, type EmbeddingsRequest } from '../schemas/embeddings.js';
import type { EndpointType } from '../schemas/endpoint-type.js';
import { Cancellation } from '../upstream/cancellation.js';
import { hasStreamTerminated } from '../upstream/request.js';
import { RateLimitedError } from '../errors.js';
import { noteRateLimited, noteTarget, observeStream, recordAnswer } from '../telemetry/http.js';
import type { Endpoint, Snapshot } from './endpoint-table.js';
import { enforceClientLimits, meterStream, recordUsage, usageOf } from './access-hook.js';
import { toBase64Embeddings } from './embedding-encoding.js';
import { enforceRateLimit } from './rate-limit.js';
import { scrubberFor, scrubberForTarget, scrubError } from './scrub-secrets.js';
import { streamToClient, type StreamChunk, type StreamOptions } from './sse.js';
import { parseBody } from './validation.js';

/** A validated invocation body, tagged with its endpoint type. */
export type Invocation =
  | { type: 'llm/v1/chat'; request: ChatRequest }
  | { type: 'llm/v1/completions'; request: CompletionsRequest }
  | { type: 'llm/v1/embeddings'; request: EmbeddingsRequest };

/** Validates a body against the schema of an endpoint type (422 naming each field). */
export function parseInvocation(type: EndpointType, body: unknown): Invocation {
  switch (type) {
    case 'llm/v1/chat':
      return { type, request: parseBody(chatRequestSchema, body) };
    case 'llm/v1/completions':
      return { type, request: parseBody(completionsRequestSchema, body) };
    case 'llm/v1/embeddings':
      return { type, request: parseBody(embeddingsRequestSchema, body) };
  }
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by telemetry (an onRequest hook) to watch each upstream attempt of this request. */
    attemptObserver?: AttemptObserver;
  }
}

/** The response header naming the endpoint that served a route's answer. */
export const SERVED_BY_HEADER = 'x-llmgw-endpoint';

/** Cancelled when the client goes away before the response is finished. */
function clientCancellation(reply: FastifyReply): Cancellation {
  const cancellation = new Cancellation();
  const raw = reply.raw;
  // `close` comes once per response, so `on` (no once-wrapper) is enough.
  raw.on('close', () => {
    if (!raw.writableFinished) cancellation.cancel();
  });
  return cancellation;
}

/** One request's routing context; a class, so its `signal` getter lives on the prototype. */
class RequestContext implements ExecuteContext {
  readonly cancellation: Cancellation;
  readonly log: FastifyRequest['log'];
  readonly observer: AttemptObserver | undefined;
  readonly admit: ExecuteContext['admit'];
  readonly deadlineMs: number | undefined;

  constructor(
    cancellation: Cancellation,
    request: FastifyRequest,
    admit: ExecuteContext['admit'],
    deadlineMs: number | undefined,
  ) {
    this.cancellation = cancellation;
    this.log = request.log;
    this.observer = request.attemptObserver;
    this.admit = admit;
    this.deadlineMs = deadlineMs;
  }

  /** Made on first read: a plain unary call never needs it. */
  get signal(): AbortSignal {
    return this.cancellation.signal;
  }
}

export interface DispatchOptions {
  /** End a finished stream with `data: [DONE]`, as OpenAI does (the /v1 routes). */
  endStreamWithDone?: boolean;
}

/**
 * The HTTP shell around the routing layer: runs the target (an endpoint, or a route over
 * several) for a validated invocation, then writes one JSON answer or an SSE stream. Returns
 * the body to send, or the reply once streamed. Endpoint limits are counted per destination
 * tried; whatever error leaves here has had the serving endpoint's secrets removed.
 */
export async function dispatch(
  snapshot: Snapshot,
  target: Target,
  invocation: Invocation,
  request: FastifyRequest,
  reply: FastifyReply,
  options: DispatchOptions = {},
): Promise<unknown> {
  noteTarget(request, target.name, target.kind === 'route');
  // The client's caps count valid requests only, like endpoint limits. An open gateway has no
  // client to count, and skips the await.
  if (request.llmgwClient !== null) await enforceClientLimits(request, reply);
  const context = executeContextFor(snapshot, target, request, reply);
  try {
    return await invoke(target, invocation, context, reply, (served) =>
      streamOptions(request, served, options),
    );
  } catch (error) {
    if (error instanceof RateLimitedError && target.kind === 'endpoint') noteRateLimited(request, target);
    throw scrubError(error, scrubberForTarget(target));
  }
}

/**
 * The routing context of one HTTP request: the client-gone signal, the endpoint limits (counted
 * per destination tried, headers on the raw response), telemetry's observer and the overall
 * deadline. Every ingress builds its context here before calling executeUnary/executeStream.
 */
export function executeContextFor(
  snapshot: Snapshot,
  target: Target,
  request: FastifyRequest,
  reply: FastifyReply,
): ExecuteContext {
  const canTryAgain = target.kind === 'route' || target.retry !== null;
  return new RequestContext(
    clientCancellation(reply),
    request,
    // A plain endpoint without a limit (the common case) needs no closure.
    target.kind === 'route' || target.limit !== null
      ? (endpoint) => enforceRateLimit(endpointLimit(endpoint), request, reply)
      : undefined,
    canTryAgain ? Date.now() + snapshot.timeoutMs : undefined,
  );
}

function endpointLimit(endpoint: Endpoint): NonNullable<Endpoint['limit']> {
  // The executor calls `admit` only for endpoints with a limit.
  if (endpoint.limit === null) throw new Error('admit is only called for endpoints with a limit');
  return endpoint.limit;
}

function streamOptions(
  request: FastifyRequest,
  served: Served<unknown>,
  options: DispatchOptions,
): StreamOptions {
  const scrub = scrubberFor(served.endpoint);
  return {
    scrub,
    endWithDone: options.endStreamWithDone === true,
    hasUpstreamTerminated: () => hasStreamTerminated(served.call.signal),
    onUnexpected: (error) => {
      request.log.error({ err: scrubError(error, scrub) }, 'stream failed');
    },
  };
}

type StreamStarter = (served: Served<unknown>) => StreamOptions;

async function invoke(
  target: Target,
  invocation: Invocation,
  context: ExecuteContext,
  reply: FastifyReply,
  forStream: StreamStarter,
): Promise<unknown> {
  switch (invocation.type) {
    case 'llm/v1/chat': {
      const chat = invocation.request;
      if (chat.stream !== true) {
        return answer(
          target,
          reply,
          await executeUnary(target, context, (e, call) => e.adapter.chat(chat, call)),
        );
      }
      const served = await executeStream(target, context, (e, call) => e.adapter.chatStream(chat, call));
      return stream(target, reply, served, forStream);
    }
    case 'llm/v1/completions': {
      const completions = invocation.request;
      if (completions.stream !== true) {
        const served = await executeUnary(target, context, (e, call) =>
          e.adapter.completions(completions, call),
        );
        return answer(target, reply, served);
      }
      const served = await executeStream(target, context, (e, call) =>
        e.adapter.completionsStream(completions, call),
      );
      return stream(target, reply, served, forStream);
    }
    case 'llm/v1/embeddings': {
      const { encoding_format: encoding, ...embeddings } = invocation.request;
      const served = await executeUnary(target, context, (e, call) => e.adapter.embeddings(embeddings, call));
      await answer(target, reply, served);
      return encoding === 'base64' ? toBase64Embeddings(served.value) : served.value;
    }
  }
}

/** The limit headers of a destination that was skipped do not describe the one that answered. */
const SKIPPED_LIMIT_HEADERS = ['x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset'];

function nameServingEndpoint(reply: FastifyReply, endpoint: Endpoint): void {
  const raw = reply.raw;
  for (const header of SKIPPED_LIMIT_HEADERS) raw.removeHeader(header);
  raw.setHeader(SERVED_BY_HEADER, endpoint.name);
}

async function answer(target: Target, reply: FastifyReply, served: Served<unknown>): Promise<unknown> {
  if (target.kind === 'route') nameServingEndpoint(reply, served.endpoint);
  recordAnswer(reply.request, served.value);
  // Counted before the answer leaves, so the client's next request sees it.
  await recordUsage(reply.request, served.endpoint, usageOf(served.value));
  return served.value;
}

async function stream(
  target: Target,
  reply: FastifyReply,
  served: Served<AsyncIterable<StreamChunk>>,
  forStream: StreamStarter,
): Promise<FastifyReply> {
  if (target.kind === 'route') nameServingEndpoint(reply, served.endpoint);
  const chunks = observeStream(reply.request, reply, served.value);
  await streamToClient(reply, meterStream(reply.request, served.endpoint, chunks), forStream(served));
  return reply;
}
