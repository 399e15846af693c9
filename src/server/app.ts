import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { GatewayError } from '../errors.js';
import type { EndpointTable } from './endpoint-table.js';
import { BODY_LIMIT_BYTES, parseJsonBody } from './json-body.js';
import { registerErrorHandlers, sendError } from './errors.js';
import { registerRateLimit, type RateLimitOptions } from './rate-limit.js';
import { registerDocsRoutes } from './routes/docs.js';
import { registerEndpointsApiRoutes } from './routes/endpoints-api.js';
import { registerHealthRoutes } from './routes/health.js';
import { registerInvocationRoutes } from './routes/invocations.js';
import { registerOpenAiRoutes } from './routes/openai.js';
import { registerResponsesRoutes } from '../ingress/openai-responses/route.js';
import { registerGeminiRoutes } from '../ingress/gemini/route.js';
import { registerUsageRoute } from './routes/usage.js';
import { Registry } from 'prom-client';
import { registerAccess, useCounterStore } from './access-hook.js';
import { registerMetricsRoute } from './routes/metrics.js';
import { registerAnthropicMessagesRoutes } from '../ingress/anthropic-messages/routes.js';
import { registerTelemetry, usageRecordOf } from '../telemetry/http.js';
import type { Telemetry } from '../telemetry/telemetry.js';

export interface AppOptions {
  /** Fastify's logger option: `false` in tests, a pino config in production. */
  logger?: FastifyServerOptions['logger'];
  /** Rate-limit counters in Redis (LLMGW_REDIS_URL), shared by processes; else in memory. */
  redisUrl?: string | undefined;
  /** Without Redis, where rate-limit counters live (see RateLimitOptions). */
  counterStore?: RateLimitOptions['counterStore'];
  /** Metrics, traces and timing headers (telemetry/telemetry.ts); without it, timing headers only. */
  telemetry?: Telemetry | undefined;
}

/** The header values the logger must never print. */
export const REDACTED_HEADERS = [
  'req.headers.authorization',
  'req.headers["api-key"]',
  'req.headers["x-api-key"]',
  'req.headers["x-goog-api-key"]',
  'req.headers.cookie',
];

const REQUEST_ID_HEADER = 'x-request-id';
/** A client's request id is used only when it cannot forge a log line or a header. */
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The client's `x-request-id` when it is short and plain, else one of ours. */
function requestIdOf(request: IncomingMessage): string {
  const supplied = request.headers[REQUEST_ID_HEADER];
  return typeof supplied === 'string' && SAFE_REQUEST_ID.test(supplied) ? supplied : randomUUID();
}

const JSON_SUFFIX = /^application\/[^;\s]*\+json\s*(;|$)/i;

function unsupportedMediaType(contentType: string): GatewayError {
  return new GatewayError(
    415,
    'UNSUPPORTED_MEDIA_TYPE',
    `Unsupported Media Type '${contentType}': send the body as JSON with 'Content-Type: application/json'.`,
    { param: 'content-type' },
  );
}

/** Log levels at which the `info` access log would print nothing. */
const QUIET_LEVELS = new Set(['warn', 'error', 'fatal', 'silent']);

/** One access-log line per request, with its id, method, URL, status and duration. */
/** A `key` query parameter (how some Gemini clients send their key) is never logged. */
const KEY_PARAMETER = /([?&]key=)[^&]*/gi;

function loggableUrl(url: string): string {
  return url.includes('key=') ? url.replace(KEY_PARAMETER, '$1[redacted]') : url;
}

function registerAccessLog(app: FastifyInstance): void {
  app.addHook('onResponse', (request, reply, done) => {
    request.log.info(
      {
        method: request.method,
        url: loggableUrl(request.url),
        statusCode: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
        usage: usageRecordOf(request, reply),
      },
      'request completed',
    );
    done();
  });
}

/** Builds the gateway without listening. The only place plugins and routes are registered. */
export async function buildApp(table: EndpointTable, options: AppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: BODY_LIMIT_BYTES,
    // One access-log line per request (onResponse below) instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    requestIdHeader: false,
    genReqId: requestIdOf,
    // Fastify's own routing errors (a malformed percent-escape in the URL) get the gateway's body.
    frameworkErrors: (error, request, reply) => {
      sendError(error, request, reply);
    },
    return503OnClosing: true,
  });

  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, parseJsonBody(body as string));
    } catch (error) {
      done(error as Error);
    }
  });
  // MLflow parses a body without Content-Type, or with a `+json` type, as JSON; other media
  // types are refused with a 415 that names the header.
  app.addContentTypeParser('*', { parseAs: 'string' }, (request, body, done) => {
    const contentType = request.headers['content-type'];
    if (contentType !== undefined && !JSON_SUFFIX.test(contentType)) {
      done(unsupportedMediaType(contentType));
      return;
    }
    try {
      done(null, parseJsonBody(body as string));
    } catch (error) {
      done(error as Error);
    }
  });

  registerErrorHandlers(app);
  registerTelemetry(app, options.telemetry ?? { metrics: null, tracing: null });
  // On the raw response, so streamed (hijacked) answers carry it too.
  app.addHook('onRequest', (request, reply, done) => {
    reply.raw.setHeader(REQUEST_ID_HEADER, request.id);
    done();
  });
  // The access log is decided once: below `info` the hook is not registered at all.
  if (options.logger !== undefined && options.logger !== false && !QUIET_LEVELS.has(app.log.level)) {
    registerAccessLog(app);
  }

  // Before the docs routes are registered, so a protected /docs is keyed too.
  registerAccess(app, table, options.telemetry?.metrics?.registry ?? new Registry());
  registerDocsRoutes(app, table);

  useCounterStore(
    app,
    await registerRateLimit(app, { redisUrl: options.redisUrl, counterStore: options.counterStore }),
  );
  registerUsageRoute(app);
  registerHealthRoutes(app);
  if (options.telemetry) registerMetricsRoute(app, options.telemetry);
  registerEndpointsApiRoutes(app, table);
  registerInvocationRoutes(app, table);
  registerOpenAiRoutes(app, table);
  await registerResponsesRoutes(app, table);
  await registerGeminiRoutes(app, table);
  await registerAnthropicMessagesRoutes(app, table);
  return app;
}
