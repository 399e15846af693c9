import type { FastifyReply, FastifyRequest } from 'fastify';
import type { CallContext } from '../providers/base.js';
import { chatRequestSchema, type ChatRequest } from '../schemas/chat.js';
import { completionsRequestSchema, type CompletionsRequest } from '../schemas/completions.js';
import { embeddingsRequestSchema, type EmbeddingsRequest } from '../schemas/embeddings.js';
import type { EndpointType } from '../schemas/endpoint-type.js';
import { hasStreamTerminated } from '../upstream/request.js';
import type { Endpoint } from './endpoint-table.js';
import { enforceRateLimit } from './rate-limit.js';
import { scrubberFor, scrubError, type Scrub } from './scrub-secrets.js';
import { streamToClient, type StreamOptions } from './sse.js';
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

/** An AbortSignal that fires when the client goes away before the response is finished. */
function clientSignal(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  const raw = reply.raw;
  raw.once('close', () => {
    if (!raw.writableFinished) controller.abort();
  });
  return controller.signal;
}

export interface DispatchOptions {
  /** End a finished stream with `data: [DONE]`, as OpenAI does (the /v1 routes). */
  endStreamWithDone?: boolean;
}

/**
 * Calls the endpoint's adapter: one JSON response, or an SSE stream when a chat or
 * completions request asks for one. Returns the body to send, or the reply once streamed.
 * Whatever error leaves here has had the endpoint's secrets removed.
 */
export async function dispatch(
  endpoint: Endpoint,
  invocation: Invocation,
  request: FastifyRequest,
  reply: FastifyReply,
  options: DispatchOptions = {},
): Promise<unknown> {
  // Every route validates the body before calling here, so invalid bodies are never counted.
  if (endpoint.limit) await enforceRateLimit(endpoint.limit, request, reply);
  const scrub = scrubberFor(endpoint);
  try {
    return await invoke(endpoint, invocation, request, reply, (signal) =>
      streamOptions(request, signal, scrub, options),
    );
  } catch (error) {
    throw scrubError(error, scrub);
  }
}

function streamOptions(
  request: FastifyRequest,
  signal: AbortSignal,
  scrub: Scrub,
  options: DispatchOptions,
): StreamOptions {
  return {
    scrub,
    endWithDone: options.endStreamWithDone === true,
    hasUpstreamTerminated: () => hasStreamTerminated(signal),
    onUnexpected: (error) => {
      request.log.error({ err: scrubError(error, scrub) }, 'stream failed');
    },
  };
}

async function invoke(
  endpoint: Endpoint,
  invocation: Invocation,
  request: FastifyRequest,
  reply: FastifyReply,
  forStream: (signal: AbortSignal) => StreamOptions,
): Promise<unknown> {
  const context: CallContext = { signal: clientSignal(reply), log: request.log };
  const adapter = endpoint.adapter;
  switch (invocation.type) {
    case 'llm/v1/chat': {
      if (invocation.request.stream !== true) return adapter.chat(invocation.request, context);
      const chunks = await adapter.chatStream(invocation.request, context);
      await streamToClient(reply, chunks, forStream(context.signal));
      return reply;
    }
    case 'llm/v1/completions': {
      if (invocation.request.stream !== true) return adapter.completions(invocation.request, context);
      const chunks = await adapter.completionsStream(invocation.request, context);
      await streamToClient(reply, chunks, forStream(context.signal));
      return reply;
    }
    case 'llm/v1/embeddings':
      return adapter.embeddings(invocation.request, context);
  }
}
