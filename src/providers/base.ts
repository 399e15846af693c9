import { z } from 'zod';
import { InvalidRequestError, UnsupportedOperationError, UpstreamProtocolError } from '../errors.js';
import type { ChatChunk, ChatRequest, ChatResponse } from '../schemas/chat.js';
import type { CompletionsChunk, CompletionsRequest, CompletionsResponse } from '../schemas/completions.js';
import type { EmbeddingsRequest, EmbeddingsResponse } from '../schemas/embeddings.js';
import type { EndpointType } from '../schemas/endpoint-type.js';
import { UNDECIDED, fastParserFor } from '../schemas/fast-parse.js';
import { isRecord } from '../schemas/json.js';
import { upstreamStreamStatusError } from '../upstream/errors.js';
import type { Cancellable } from '../upstream/cancellation.js';
import type { Upstream } from '../upstream/request.js';

/** What a provider can do: `'stream'` means unary and streaming, `'unary'` means unary only. */
export interface Capabilities {
  chat?: 'stream' | 'unary';
  completions?: 'stream' | 'unary';
  embeddings?: boolean;
}

/** The slice of a pino logger an adapter may use. */
export interface AdapterLogger {
  debug(object: object, message?: string): void;
  warn(object: object, message?: string): void;
}

export interface CallContext extends Cancellable {
  /** Aborted when the client goes away; pass it (or the whole context) to every upstream call. */
  readonly signal: AbortSignal;
  readonly log: AdapterLogger;
}

/** Everything an adapter constructor needs, resolved at config load. */
export interface AdapterInit<Config> {
  endpointName: string;
  endpointType: EndpointType;
  modelName: string | null;
  config: Config;
  upstream: Upstream;
}

/** Facts about one endpoint that a provider may check beyond its config schema. */
export interface EndpointFacts<Config> {
  endpointType: EndpointType;
  modelName: string | null;
  config: Config;
}

/**
 * A provider adapter: one instance per endpoint per config snapshot. The constructor does all
 * per-endpoint work (URLs, headers, pools); methods map one request each. A method the
 * provider lacks answers the reference's 501.
 */
export abstract class ProviderAdapter<Config = unknown> {
  protected readonly init: AdapterInit<Config>;
  readonly displayName: string;

  constructor(init: AdapterInit<Config>, displayName: string) {
    this.init = init;
    this.displayName = displayName;
  }

  chat(_request: ChatRequest, _context: CallContext): Promise<ChatResponse> {
    return Promise.reject(new UnsupportedOperationError('chat', this.displayName));
  }

  chatStream(_request: ChatRequest, _context: CallContext): Promise<AsyncIterable<ChatChunk>> {
    return Promise.reject(new UnsupportedOperationError('chat streaming', this.displayName));
  }

  completions(_request: CompletionsRequest, _context: CallContext): Promise<CompletionsResponse> {
    return Promise.reject(new UnsupportedOperationError('completions', this.displayName));
  }

  completionsStream(
    _request: CompletionsRequest,
    _context: CallContext,
  ): Promise<AsyncIterable<CompletionsChunk>> {
    return Promise.reject(new UnsupportedOperationError('completions streaming', this.displayName));
  }

  embeddings(_request: EmbeddingsRequest, _context: CallContext): Promise<EmbeddingsResponse> {
    return Promise.reject(new UnsupportedOperationError('embeddings', this.displayName));
  }

  /**
   * Releases what the adapter holds beyond the shared pools (an SDK client's sockets). Called
   * once its snapshot is retired (replaced by a reload, last request done) and on shutdown.
   */
  close(): Promise<void> | void {
    return undefined;
  }
}

/**
 * The statics every adapter class carries; `registry.ts` checks them with `satisfies`. The
 * config type is erased here: the loader parses `model.config` with the class's own
 * `configSchema` and hands the result back to the same class's constructor.
 */
export interface ProviderClass {
  /** The canonical YAML key, as `/api/2.0/endpoints` reports it. */
  readonly provider: string;
  /** The name in 501 messages (reference §6.4). */
  readonly displayName: string;
  readonly configSchema: z.ZodType;
  readonly supports: Capabilities;
  /** Other YAML keys for this provider, each presetting config fields (`azure` → openai). */
  readonly aliases?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** Checks that need the endpoint type or model name; returns problems as messages. */
  checkEndpoint?(facts: EndpointFacts<never>): string[];
  new (init: AdapterInit<never>): ProviderAdapter;
}

export type Operation = 'chat' | 'chatStream' | 'completions' | 'completionsStream' | 'embeddings';

/** Which adapter methods a `supports` declaration promises. */
export function declaredOperations(supports: Capabilities): Operation[] {
  const operations: Operation[] = [];
  if (supports.chat) operations.push('chat');
  if (supports.chat === 'stream') operations.push('chatStream');
  if (supports.completions) operations.push('completions');
  if (supports.completions === 'stream') operations.push('completionsStream');
  if (supports.embeddings) operations.push('embeddings');
  return operations;
}

/** Whether a provider serves an endpoint type at all. */
export function supportsEndpointType(supports: Capabilities, endpointType: EndpointType): boolean {
  switch (endpointType) {
    case 'llm/v1/chat':
      return supports.chat !== undefined;
    case 'llm/v1/completions':
      return supports.completions !== undefined;
    case 'llm/v1/embeddings':
      return supports.embeddings === true;
  }
}

/**
 * A `checkEndpoint` for APIs that need a model and forbid clients to send one (S3): an endpoint
 * without `model.name` fails to load with the provider's `message`.
 */
export function requireModelName(message: string): (facts: EndpointFacts<unknown>) => string[] {
  return (facts) => (facts.modelName ? [] : [message]);
}

/** Reference S3: most providers reject a `model` field on /endpoints/{name}/invocations. */
export const MODEL_NOT_PERMITTED =
  "The parameter 'model' is not permitted to be passed. The route being queried already defines a model instance.";

/** Throws the reference's 422 when an invocation body names a model (S3). */
export function rejectModelField(request: { model?: string | undefined }): void {
  if (request.model !== undefined) throw new InvalidRequestError(422, MODEL_NOT_PERMITTED, 'model');
}

/**
 * Checks an upstream body against a schema of the fields an adapter reads. A body that does
 * not fit is a 502 naming the field [D7], never a TypeError that becomes a 500.
 */
export function parseUpstreamBody<T>(schema: z.ZodType<T>, body: unknown, displayName: string): T {
  const fast = fastParserFor(schema)?.(body) ?? UNDECIDED;
  if (fast !== UNDECIDED) return fast;
  const result = schema.safeParse(body, { reportInput: true });
  if (result.success) return result.data;
  const [issue] = result.error.issues;
  const path = issue?.path.map(String).join('.') ?? '';
  const missing = issue?.code === 'invalid_type' && issue.input === undefined;
  throw new UpstreamProtocolError(
    `Malformed response from ${displayName}: ${missing ? 'missing' : 'invalid'} ${path === '' ? 'body' : path}`,
  );
}

const eventTypeSchema = z.object({ type: z.string() });

/**
 * A typed stream event's `type` (Anthropic, Cohere), read directly so each event is parsed once,
 * by its own schema. A payload without a string `type` goes through zod for its 502.
 */
export function upstreamEventType(json: unknown, displayName: string): string {
  if (isRecord(json) && typeof json.type === 'string') return json.type;
  return parseUpstreamBody(eventTypeSchema, json, displayName).type;
}

/** Parses each SSE `data` payload as JSON and maps it; a payload that is not JSON is a 502. */
export async function* mapSseJson<T>(
  events: AsyncIterable<string>,
  displayName: string,
  map: (json: unknown) => T | null,
): AsyncGenerator<T, void, undefined> {
  for await (const data of events) {
    let json: unknown;
    try {
      json = JSON.parse(data);
    } catch (error) {
      throw new UpstreamProtocolError(`Malformed stream event from ${displayName}: not JSON`, error);
    }
    const chunk = map(json);
    if (chunk !== null) yield chunk;
  }
}

/** The status an in-stream error is given when it names none; the client's 200 is already sent. */
const STREAM_ERROR_STATUS = 502;

/** An error's own `code` or `status`, when it is an HTTP error status (vLLM-style servers send one). */
function streamErrorStatus(error: Record<string, unknown>): number {
  for (const candidate of [error.status, error.code]) {
    const status = typeof candidate === 'string' ? Number(candidate) : candidate;
    if (typeof status === 'number' && Number.isInteger(status) && status >= 400 && status <= 599)
      return status;
  }
  return STREAM_ERROR_STATUS;
}

/**
 * Throws when an SSE JSON payload is an upstream error rather than a chunk: OpenAI's (and
 * Together's, Anthropic's) `{"error": {"message", "type", …}}` or `{"error": "…"}`, and the
 * `{"object": "error", "message", …}` of Mistral and other OpenAI-compatible servers. The
 * client's stream then ends with an error event carrying the upstream's own message.
 */
export function throwIfStreamError(json: unknown): void {
  if (!isRecord(json)) return;
  const error = json.error;
  if (isRecord(error)) throw upstreamStreamStatusError(streamErrorStatus(error), json);
  if (typeof error === 'string') throw upstreamStreamStatusError(STREAM_ERROR_STATUS, json);
  if (json.object === 'error') throw upstreamStreamStatusError(streamErrorStatus(json), json);
}
