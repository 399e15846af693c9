import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { EndpointNotFoundError, InvalidRequestError } from '../../errors.js';
import { AnthropicAdapter, type AnthropicClientHeaders } from '../../providers/anthropic/index.js';
import {
  executeStream,
  executeUnary,
  resolveTarget,
  type ExecuteContext,
  type Served,
  type Target,
} from '../../routing/execute.js';
import type { ChatRequest } from '../../schemas/chat.js';
import { authorizeTarget, enforceClientLimits, type AnswerUsage } from '../../server/access-hook.js';
import type { Endpoint, EndpointTable, Snapshot } from '../../server/endpoint-table.js';
import { executeContextFor, SERVED_BY_HEADER } from '../../server/invoke.js';
import { scrubberFor, scrubError, scrubberForTarget } from '../../server/scrub-secrets.js';
import { parseBody } from '../../server/validation.js';
import { noteTarget } from '../../telemetry/http.js';
import { meterAnswer, meterStream } from '../metering.js';
import { EVENT_STREAM_HEAD, markServed, writeWire, type WireChunk } from '../native-reply.js';
import { estimateInputTokens } from './count-tokens.js';
import { sendAnthropicError, streamErrorFrame } from './errors.js';
import {
  clientHeadersOf,
  relayStream,
  relayUnary,
  withSystemMessagesMoved,
  type MessagesAnswer,
  type StreamHead,
} from './passthrough.js';
import { toChatRequest } from './request.js';
import type { MessagesUsage } from './response.js';
import { messagesRequestSchema, routedBodySchema, type MessagesRequest } from './schema.js';
import { translateStream, translateUnary } from './translate.js';

// The Anthropic Messages API (ingress reference §1, §2): `model` names a chat endpoint or
// route; each destination is called natively when it is Anthropic, else through translation.
// Errors in this scope are answered in Anthropic's shape.

/** Root paths for ANTHROPIC_BASE_URL=http://gateway, and MLflow's (reference §1). */
const PREFIXES = ['', '/gateway/anthropic'] as const;
const COUNT_TOKENS_JSON = Object.freeze({ 'content-type': 'application/json' });

export async function registerAnthropicMessagesRoutes(
  app: FastifyInstance,
  table: EndpointTable,
): Promise<void> {
  // Its own scope, so that its error handler answers in Anthropic's shape.
  await app.register((scope, _options, done) => {
    scope.setErrorHandler(sendAnthropicError);
    for (const prefix of PREFIXES) {
      scope.post(`${prefix}/v1/messages`, (request, reply) => handleMessages(table, request, reply));
      scope.post(`${prefix}/v1/messages/count_tokens`, (request, reply) =>
        handleCountTokens(table, request, reply),
      );
    }
    done();
  });
}

interface Invocation {
  snapshot: Snapshot;
  target: Target;
  /** The body as the client sent it, for passthrough. */
  body: Readonly<Record<string, unknown>>;
  model: string;
  isStream: boolean;
  context: ExecuteContext;
}

function resolve(table: EndpointTable, request: FastifyRequest, reply: FastifyReply): Invocation {
  const routed = parseBody(routedBodySchema, request.body);
  // Before the lookup, so a forbidden name is refused alike whether it exists or not.
  authorizeTarget(request, routed.model);
  const snapshot = table.acquire(reply.raw);
  const target = resolveTarget(snapshot.targets, routed.model);
  if (!target) {
    throw new EndpointNotFoundError(`model: '${routed.model}' is not an endpoint or route of this gateway.`);
  }
  if (target.type !== 'llm/v1/chat') {
    throw new InvalidRequestError(400, `model: '${routed.model}' is not a chat endpoint.`, 'model');
  }
  noteTarget(request, target.name, target.kind === 'route');
  const context = executeContextFor(snapshot, target, request, reply);
  return { snapshot, target, body: routed, model: routed.model, isStream: routed.stream === true, context };
}

/** The body as translation reads it, parsed once and only when a destination needs it. */
function lazyChatRequest(body: unknown, needsMaxTokens: boolean): () => ChatRequest {
  let parsed: ChatRequest | undefined;
  return () => {
    if (parsed !== undefined) return parsed;
    const request = parseBody(messagesRequestSchema, body);
    if (needsMaxTokens && request.max_tokens === undefined) {
      throw new InvalidRequestError(400, 'max_tokens: Field required', 'max_tokens');
    }
    parsed = toChatRequest(request);
    return parsed;
  };
}

async function handleMessages(
  table: EndpointTable,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<unknown> {
  const invocation = resolve(table, request, reply);
  await enforceClientLimits(request, reply);
  const call: MessagesCall = {
    ...invocation,
    passthroughBody: withSystemMessagesMoved(invocation.body),
    clientHeaders: clientHeadersOf(request.headers),
    chatRequest: lazyChatRequest(invocation.body, true),
  };
  try {
    if (invocation.isStream) await streamMessages(call, request, reply);
    else await answerMessages(call, request, reply);
  } catch (error) {
    throw scrubError(error, scrubberForTarget(invocation.target));
  }
  return reply;
}

interface MessagesCall extends Invocation {
  passthroughBody: Readonly<Record<string, unknown>>;
  clientHeaders: AnthropicClientHeaders;
  chatRequest: () => ChatRequest;
}

async function answerMessages(
  call: MessagesCall,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<void> {
  const served = await executeUnary(call.target, call.context, (endpoint, context) =>
    isAnthropic(endpoint)
      ? relayUnary(endpoint.adapter, 'messages', call.passthroughBody, call.clientHeaders, context)
      : translateUnary(endpoint.adapter, call.chatRequest(), call.model, context),
  );
  await meterAnswer(request, served.endpoint, answerUsageOf(served.value.usage));
  send(reply, call.target, served.endpoint, served.value);
}

async function streamMessages(
  call: MessagesCall,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<void> {
  const heads = new Map<Endpoint, StreamHead>();
  const served = await executeStream<string | Uint8Array>(
    call.target,
    call.context,
    async (endpoint, context) => {
      const started = isAnthropic(endpoint)
        ? await relayStream(endpoint.adapter, call.passthroughBody, call.clientHeaders, context)
        : await translateStream(endpoint.adapter, call.chatRequest(), call.model, context);
      heads.set(endpoint, started.head);
      return started.chunks;
    },
  );
  const head = heads.get(served.endpoint);
  if (head === undefined) throw new Error('a served stream always has its head');
  markServed(call.target, reply, served.endpoint);
  const pieces = meterStream(request, reply, served.endpoint, withHead(head, served.value), () =>
    answerUsageOf(head.usage()),
  );
  const scrub = scrubberFor(served.endpoint);
  await writeWire(reply, pieces, (error) => streamErrorFrame(error, scrub, reply));
}

async function* withHead(
  head: StreamHead,
  chunks: AsyncIterable<string | Uint8Array>,
): AsyncGenerator<WireChunk, void, undefined> {
  const contentType = head.headers['content-type'] ?? EVENT_STREAM_HEAD.contentType;
  yield { status: head.status, contentType, headers: head.headers };
  yield* chunks;
}

/** Anthropic's input count leaves out cached prompt tokens; a client's token cap counts them all. */
function answerUsageOf(usage: MessagesUsage | null): AnswerUsage | null {
  if (usage === null) return null;
  const cached = (usage.cache_creation_input_tokens ?? 0) + (usage.cache_read_input_tokens ?? 0);
  return { prompt_tokens: usage.input_tokens + cached, completion_tokens: usage.output_tokens };
}

async function handleCountTokens(
  table: EndpointTable,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<unknown> {
  const { target, context, body } = resolve(table, request, reply);
  const passthroughBody = withSystemMessagesMoved(body);
  const clientHeaders = clientHeadersOf(request.headers);
  let served: Served<MessagesAnswer>;
  try {
    served = await executeUnary(target, context, (endpoint, call) =>
      isAnthropic(endpoint)
        ? relayUnary(endpoint.adapter, 'count_tokens', passthroughBody, clientHeaders, call)
        : Promise.resolve(estimate(parseBody(messagesRequestSchema, body))),
    );
  } catch (error) {
    throw scrubError(error, scrubberForTarget(target));
  }
  send(reply, target, served.endpoint, served.value);
  return reply;
}

function estimate(body: MessagesRequest): MessagesAnswer {
  const answer = JSON.stringify({ input_tokens: estimateInputTokens(body) });
  return { status: 200, headers: COUNT_TOKENS_JSON, body: answer, usage: null };
}

function send(reply: FastifyReply, target: Target, endpoint: Endpoint, answer: MessagesAnswer): void {
  if (target.kind === 'route') void reply.header(SERVED_BY_HEADER, endpoint.name);
  void reply.code(answer.status).headers(answer.headers).send(answer.body);
}

function isAnthropic(endpoint: Endpoint): endpoint is Endpoint & { adapter: AnthropicAdapter } {
  return (
    endpoint.config.providerName === AnthropicAdapter.provider && endpoint.adapter instanceof AnthropicAdapter
  );
}
