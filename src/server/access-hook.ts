import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Registry } from 'prom-client';
import { authenticate, presentedKey } from '../access/authenticate.js';
import { ClientMetrics } from '../access/client-metrics.js';
import { admitClient, recordClientUsage } from '../access/client-limits.js';
import type { AccessConfig, Client } from '../access/clients.js';
import type { CounterStore } from '../access/counter-store.js';
import type { Pricing } from '../access/pricing.js';
import type { GatewayConfig } from '../config/load.js';
import { GatewayError, RateLimitedError } from '../errors.js';
import type { EndpointTable } from './endpoint-table.js';
import type { OpenApiDocument } from './openapi.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The client whose key authenticated this request; null when the gateway is open. */
    llmgwClient: Client | null;
  }
  interface FastifyInstance {
    /** Per-client series, for the metrics route to expose. */
    clientMetrics: ClientMetrics;
    /** The counter store endpoint limits use; plugin scopes (native APIs) inherit it. */
    clientCounterStore: CounterStore;
  }
}

/** Routes (by their registered pattern) that need a key once any client is configured. */
const KEYED_PREFIXES = [
  '/endpoints/',
  '/gateway/',
  '/v1/',
  '/v1beta/',
  '/api/2.0/endpoints',
  '/api/2.0/gateway/',
  '/api/2.0/llmgw/',
  '/api/3.0/gateway/',
];
const DOCS_PREFIXES = ['/docs', '/openapi.json'];
const METRICS_PREFIX = '/metrics';
/** Gemini's SDKs and curl examples put the key in `?key=`. */
const QUERY_KEY_PREFIX = '/v1beta/';

const MISSING_KEY =
  "An API key is required: send it as 'Authorization: Bearer <key>' (or in 'x-api-key', 'api-key', 'x-goog-api-key').";
const UNKNOWN_KEY = 'The API key is not valid.';
const UNKNOWN_CLIENT = '_unknown';

/**
 * `required`: no answer without a valid key. `optional`: open docs, which a valid key narrows
 * to what it may call. `open`: /health and everything else.
 */
function keyNeed(access: AccessConfig, pattern: string): 'required' | 'optional' | 'open' {
  if (KEYED_PREFIXES.some((prefix) => pattern.startsWith(prefix))) return 'required';
  if (DOCS_PREFIXES.some((prefix) => pattern.startsWith(prefix))) {
    return access.protectDocs ? 'required' : 'optional';
  }
  return access.protectMetrics && pattern.startsWith(METRICS_PREFIX) ? 'required' : 'open';
}

/** The 401 and 403 of access control, in whichever error shape the route family speaks. */
export function unauthenticatedError(message: string): GatewayError {
  return new GatewayError(401, 'INVALID_API_KEY', message);
}

export function forbiddenError(name: string): GatewayError {
  return new GatewayError(403, 'PERMISSION_DENIED', `This API key may not call '${name}'.`);
}

/**
 * Authenticates every invocation, listing and usage route (and /docs, /metrics when protected)
 * once the config names clients. Matching on the route's registered pattern rather than the
 * raw URL means no encoding of the path can route past the check. The route handlers then
 * call `authorizeTarget` with the endpoint name they parsed.
 */
export function registerAccess(app: FastifyInstance, table: EndpointTable, metricsRegistry: Registry): void {
  app.decorate('clientMetrics', new ClientMetrics(metricsRegistry));
  app.decorateRequest('llmgwClient', null);
  app.addHook('onRequest', (request, reply, done) => {
    const access = table.current.config.access;
    const pattern = request.routeOptions.url;
    // An `access:` section with no clients leaves the gateway open, as no section does.
    if (!access || access.clients.length === 0 || pattern === undefined) {
      done();
      return;
    }
    const need = keyNeed(access, pattern);
    if (need === 'open') {
      done();
      return;
    }
    const key = presentedKey(request.headers, request.query, pattern.startsWith(QUERY_KEY_PREFIX));
    const client = key === null ? null : authenticate(access, key);
    if (!client && need === 'optional') {
      done();
      return;
    }
    if (!client) {
      app.clientMetrics.refused(UNKNOWN_CLIENT, 'unauthorized');
      void reply.header('www-authenticate', 'Bearer');
      done(unauthenticatedError(key === null ? MISSING_KEY : UNKNOWN_KEY));
      return;
    }
    request.llmgwClient = client;
    request.log = request.log.child({ client: client.name });
    done();
  });
}

/** Client caps count on the store endpoint limits use; it opens after the hook is registered. */
export function useCounterStore(app: FastifyInstance, store: CounterStore): void {
  app.decorate('clientCounterStore', store);
}

/** Whether the request's client (if any) may call this endpoint or route. */
export function mayCall(request: FastifyRequest, name: string): boolean {
  return request.llmgwClient?.endpoints.allows(name) ?? true;
}

/**
 * Throws the 403 when the client may not call `name`. Call it as soon as the name is known and
 * before looking it up, so the answer is the same whether the endpoint exists or not.
 */
export function authorizeTarget(request: FastifyRequest, name: string): void {
  const client = request.llmgwClient;
  if (!client || client.endpoints.allows(name)) return;
  request.server.clientMetrics.refused(client.name, 'forbidden');
  throw forbiddenError(name);
}

export function counterStoreOf(request: FastifyRequest): CounterStore {
  return request.server.clientCounterStore;
}

/**
 * Counts the request against its client's request, token and spend caps, after the body is
 * validated; throws a 429 naming the cap, with Retry-After and X-RateLimit-* for that cap.
 */
export async function enforceClientLimits(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const client = request.llmgwClient;
  if (!client) return;
  const refusal = await admitClient(counterStoreOf(request), client, request.log);
  if (!refusal) {
    request.server.clientMetrics.admitted(client.name);
    return;
  }
  request.server.clientMetrics.refused(client.name, refusal.kind);
  const scale = refusal.kind === 'budget' ? 1_000_000 : 1;
  const raw = reply.raw;
  raw.setHeader('x-ratelimit-limit', refusal.cap / scale);
  raw.setHeader('x-ratelimit-remaining', Math.max(0, refusal.cap - refusal.count) / scale);
  raw.setHeader('x-ratelimit-reset', refusal.retryAfterSeconds);
  throw new RateLimitedError(refusal.message, refusal.retryAfterSeconds);
}

function count(tokens: number | null | undefined): number {
  return typeof tokens === 'number' && Number.isInteger(tokens) && tokens > 0 ? tokens : 0;
}

/** The `usage` of a gateway answer (chat, completions, embeddings), if it has one. */
export function usageOf(answer: unknown): AnswerUsage | undefined {
  if (typeof answer !== 'object' || answer === null) return undefined;
  const usage = (answer as { usage?: unknown }).usage;
  return typeof usage === 'object' && usage !== null ? usage : undefined;
}

/** Whether the client asked for a stream's usage chunk itself (`stream_options.include_usage`). */
function hasAskedForUsage(request: FastifyRequest): boolean {
  const options = (request.body as { stream_options?: unknown } | null | undefined)?.stream_options;
  return (
    typeof options === 'object' &&
    options !== null &&
    (options as { include_usage?: unknown }).include_usage === true
  );
}

/** Usage as the gateway's answers carry it (chat, completions, embeddings, stream chunks). */
export interface AnswerUsage {
  readonly prompt_tokens?: number | null;
  readonly completion_tokens?: number | null;
}

/**
 * Adds an answered request's tokens and spend to its client's windows and metrics; `endpoint`
 * is the one that served it (a route's destination). Resolves once counted, so a client that
 * has its answer sees the usage in its next admission. Never rejects.
 */
export async function recordUsage(
  request: FastifyRequest,
  endpoint: { readonly config: { readonly pricing: Pricing | null } },
  usage: AnswerUsage | null | undefined,
): Promise<void> {
  const client = request.llmgwClient;
  if (!client || !usage) return;
  const tokens = { inputTokens: count(usage.prompt_tokens), outputTokens: count(usage.completion_tokens) };
  const recorded = await recordClientUsage(
    counterStoreOf(request),
    client,
    tokens,
    endpoint.config.pricing,
    request.log,
  );
  request.server.clientMetrics.used(
    client.name,
    tokens.inputTokens,
    tokens.outputTokens,
    recorded.costMicroUsd,
  );
}

interface MeteredChunk {
  readonly choices: readonly unknown[];
  readonly usage?: AnswerUsage | undefined;
}

/**
 * Passes a stream through, counting the usage its chunks report against the client once the
 * stream ends (before the client sees its end). A usage-only chunk (OpenAI's last, choice-less
 * one, which the gateway asks for) is dropped, and usage on a content chunk removed, unless the
 * client asked for it itself.
 */
export async function* meterStream<C extends MeteredChunk>(
  request: FastifyRequest,
  endpoint: { readonly config: { readonly pricing: Pricing | null } },
  chunks: AsyncIterable<C>,
): AsyncGenerator<C, void, undefined> {
  const hasClientAskedForUsage = hasAskedForUsage(request);
  let usage: AnswerUsage | undefined;
  try {
    for await (const chunk of chunks) {
      if (chunk.usage) {
        usage = chunk.usage;
        if (!hasClientAskedForUsage) {
          if (chunk.choices.length === 0) continue;
          // Providers that report usage on their last content chunk: the client sees that chunk
          // as OpenAI would send it without `include_usage`. Once per stream.
          yield { ...chunk, usage: undefined };
          continue;
        }
      }
      yield chunk;
    }
    const client = request.llmgwClient;
    if (!usage && (client?.tokens || client?.budget)) {
      request.log.warn(
        "The upstream reported no usage for this stream; the client's tokens and spend are not counted",
      );
    }
  } finally {
    await recordUsage(request, endpoint, usage);
  }
}

const visibleLists = new WeakMap<readonly unknown[], Map<Client, readonly unknown[]>>();

/** The endpoints of a listing this caller may call; filtered once per snapshot and client. */
export function visibleTo<T extends { readonly name: string }>(
  request: FastifyRequest,
  list: readonly T[],
): readonly T[] {
  const client = request.llmgwClient;
  if (!client) return list;
  let byClient = visibleLists.get(list);
  if (!byClient) visibleLists.set(list, (byClient = new Map<Client, readonly unknown[]>()));
  let visible = byClient.get(client) as readonly T[] | undefined;
  if (!visible) {
    visible = list.filter((endpoint) => client.endpoints.allows(endpoint.name));
    byClient.set(client, visible);
  }
  return visible;
}

const filteredDocuments = new WeakMap<OpenApiDocument, Map<Client, OpenApiDocument>>();
const INVOCATION_PATH = /^\/endpoints\/([^/]+)\/invocations$/;

/** The OpenAPI document as this caller may use it: invocation paths it may not call removed. */
export function openApiFor(document: OpenApiDocument, request: FastifyRequest): OpenApiDocument {
  const client = request.llmgwClient;
  if (!client) return document;
  let byClient = filteredDocuments.get(document);
  if (!byClient) filteredDocuments.set(document, (byClient = new Map<Client, OpenApiDocument>()));
  let filtered = byClient.get(client);
  if (!filtered) {
    const paths = Object.fromEntries(
      Object.entries(document.paths).filter(([path]) => {
        const name = INVOCATION_PATH.exec(path)?.[1];
        return name === undefined || client.endpoints.allows(decodeURIComponent(name));
      }),
    );
    filtered = { ...document, paths };
    byClient.set(client, filtered);
  }
  return filtered;
}

/** The startup line about access: which clients hold keys, or that the gateway is open. */
export function describeAccess(config: GatewayConfig): string {
  const clients = config.access?.clients ?? [];
  if (clients.length === 0) {
    return 'No clients are configured: every route is open to anyone who can reach the gateway';
  }
  return `Access control on: ${clients.length} client(s): ${clients.map((client) => client.name).join(', ')}`;
}
