import type { EventSourceMessage } from 'eventsource-parser';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { EndpointNotFoundError, GatewayError, InvalidRequestError } from '../../errors.js';
import type { CallContext } from '../../providers/base.js';
import { OpenAiAdapter } from '../../providers/openai.js';
import { resolveTarget, type Target } from '../../routing/execute.js';
import type { Usage } from '../../schemas/generation.js';
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

import { responsesErrorBody, responsesErrorEvent } from './errors.js';
import { toChatTranslation, type ChatTranslation } from './request.js';
import { responseFrame, toResponse, usageOfResponse } from './response.js';
import {
  responsesEnvelopeSchema,
  responsesRequestSchema,
  STATEFUL_FIELDS,
  type ResponsesRequest,
} from './schema.js';
import { toResponseEvents, type StreamFailure } from './stream.js';

// OpenAI Responses API ingress (reference ingress.md §3): `POST /v1/responses`, also under
// MLflow's `/gateway/openai` prefix. `model` names an endpoint or traffic route.

const PATHS = ['/v1/responses', '/gateway/openai/v1/responses'];
/** The routes of stored responses: a gateway that stores nothing answers them with a 400. */
const STORED_PATHS = [
  ['GET', '/v1/responses/:id'],
  ['DELETE', '/v1/responses/:id'],
  ['POST', '/v1/responses/:id/cancel'],
  ['GET', '/v1/responses/:id/input_items'],
] as const;
const STATELESS =
  'The gateway does not store responses: it cannot retrieve, cancel or continue one. Send the whole conversation as input.';

/** One request, parsed for translation at most once whichever destinations are tried. */
class ResponsesCall implements NativeCall {
  readonly #body: Record<string, unknown>;
  readonly #model: string;
  #translation: { request: ResponsesRequest; chat: ChatTranslation } | null = null;
  /** Each stream attempt's usage so far, read once the served one ends. */
  readonly streamUsage = new Map<Endpoint, { readonly usage: Usage | null }>();

  constructor(body: Record<string, unknown>, model: string) {
    this.#body = body;
    this.#model = model;
  }

  #translate(): { request: ResponsesRequest; chat: ChatTranslation } {
    if (this.#translation) return this.#translation;
    for (const field of STATEFUL_FIELDS) {
      if (this.#body[field] != null) {
        throw new InvalidRequestError(
          400,
          `${field}: ${STATELESS} (only OpenAI endpoints keep state)`,
          field,
        );
      }
    }
    const request = parseBody(responsesRequestSchema, this.#body);
    this.#translation = { request, chat: toChatTranslation(request) };
    return this.#translation;
  }

  #passthroughBody(model: string | null): string {
    return JSON.stringify({ ...this.#body, model: model ?? this.#model });
  }

  async unary(endpoint: Endpoint, call: CallContext): Promise<NativeAnswer> {
    const adapter = endpoint.adapter;
    if (adapter instanceof OpenAiAdapter) {
      const destination = adapter.responsesRelay();
      const answer = await relayWhole(destination, this.#passthroughBody(destination.model), call.signal);
      return { wire: [answer.head, answer.body], usage: usageOfResponse(parseAnswer(answer.body)) };
    }
    const { request, chat } = this.#translate();
    const answer = await adapter.chat(chat.chat, call);
    const response = toResponse(answer, responseFrame(request, this.#model), chat.toolKinds);
    const head = { status: 200, contentType: JSON_CONTENT_TYPE, headers: {} };
    return { wire: [head, JSON.stringify(response)], usage: answer.usage };
  }

  async stream(endpoint: Endpoint, call: CallContext): Promise<AsyncIterable<WireChunk>> {
    const adapter = endpoint.adapter;
    if (adapter instanceof OpenAiAdapter) {
      const destination = adapter.responsesRelay();
      const tap = new SseUsageTap(usageOfEvent);
      this.streamUsage.set(endpoint, tap);
      return relayChunks(destination, this.#passthroughBody(destination.model), call.signal, tap);
    }
    const { request, chat } = this.#translate();
    const watcher = new ChatStreamUsage();
    this.streamUsage.set(endpoint, watcher);
    const chunks = watcher.watch(await adapter.chatStream(chat.chat, call));
    const frame = responseFrame(request, this.#model);
    return sseFrames(toResponseEvents(chunks, frame, chat.toolKinds, describeFailure(endpoint)));
  }
}

/** A relayed stream states its usage on its last event, `response.completed` (or `.incomplete`). */
function usageOfEvent(event: EventSourceMessage): Usage | null {
  if (event.event !== 'response.completed' && event.event !== 'response.incomplete') return null;
  const json = eventJson(event);
  return isRecord(json) ? usageOfResponse(json.response) : null;
}

async function* sseFrames(
  events: AsyncIterable<{ type: string }>,
): AsyncGenerator<WireChunk, void, undefined> {
  yield EVENT_STREAM_HEAD;
  for await (const event of events) yield `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}

function describeFailure(endpoint: Endpoint): (error: unknown) => StreamFailure {
  const scrub = scrubberForTarget(endpoint);
  return (error) => {
    const scrubbed = scrubError(error, scrub);
    const message = scrubbed instanceof GatewayError ? scrubbed.message : 'Internal Server Error';
    return { code: 'server_error', message };
  };
}

function resolve(snapshot: Snapshot, name: string): Target {
  const snapshotTarget = resolveTarget(snapshot.targets, name);
  if (!snapshotTarget) {
    throw new EndpointNotFoundError(
      `The model '${name}' does not exist: no endpoint or route has that name.`,
    );
  }
  if (snapshotTarget.type !== 'llm/v1/chat') {
    throw new InvalidRequestError(400, `The model '${name}' is not a chat endpoint.`, 'model');
  }
  return snapshotTarget;
}

async function handle(table: EndpointTable, request: FastifyRequest, reply: FastifyReply): Promise<unknown> {
  const envelope = parseBody(responsesEnvelopeSchema, request.body);
  // Before the lookup, so a forbidden name is refused alike whether it exists or not.
  authorizeTarget(request, envelope.model);
  const snapshot = table.acquire(reply.raw);
  const target = resolve(snapshot, envelope.model);
  const call = new ResponsesCall(envelope, envelope.model);
  return serveNative(snapshot, target, call, envelope.stream === true, request, reply, responsesErrorEvent);
}

export async function registerResponsesRoutes(app: FastifyInstance, table: EndpointTable): Promise<void> {
  await app.register((scope, _options, done) => {
    registerNativeErrors(scope, responsesErrorBody);
    for (const path of PATHS) scope.post(path, (request, reply) => handle(table, request, reply));
    for (const [method, path] of STORED_PATHS) {
      scope.route({
        method,
        url: path,
        handler: () => {
          throw new InvalidRequestError(400, STATELESS, 'response_id');
        },
      });
    }
    done();
  });
}
