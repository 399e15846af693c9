import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ObservedEndpoint } from './metrics.js';
import { RequestTelemetry, type TelemetrySinks } from './request-telemetry.js';
import { stampTiming } from './timing.js';
import { readAnswer, type UsageRecord } from './usage-record.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** This request's timings, attempts and usage (src/telemetry). */
    telemetry: RequestTelemetry | null;
  }
}

/** Route families by route pattern: the pattern's first path segment, cached per pattern. */
const families = new Map<string, string>();
const UNMATCHED = 'unmatched';

function routeFamilyOf(pattern: string | undefined): string {
  if (pattern === undefined) return UNMATCHED;
  let family = families.get(pattern);
  if (family === undefined) {
    family = pattern.split('/')[1] ?? '';
    if (family === '' || family.startsWith(':')) family = 'root';
    families.set(pattern, family);
  }
  return family;
}

/**
 * The gateway's own plumbing: a Prometheus scrape, a health probe or the docs would otherwise
 * count in llmgw_requests_total and the request histograms (each scrape counting itself), and
 * swamp the traffic dashboards are about. They keep their traces.
 */
const UNMETERED_FAMILIES: ReadonlySet<string> = new Set(['metrics', 'health', 'docs']);

/**
 * Per-request telemetry through Fastify hooks: the record every request carries, timing
 * headers on every answer, and, when metrics or traces are on, in-flight counts, request
 * metrics and the server span, settled when the response closes (finished or abandoned).
 */
export function registerTelemetry(app: FastifyInstance, sinks: TelemetrySinks): void {
  app.decorateRequest('telemetry', null);
  const { tracing } = sinks;
  const unmeteredSinks: TelemetrySinks = { ...sinks, metrics: null };
  app.addHook('onRequest', (request, reply, done) => {
    const family = routeFamilyOf(request.routeOptions.url);
    const isMetered = !UNMETERED_FAMILIES.has(family);
    const record = new RequestTelemetry(isMetered ? sinks : unmeteredSinks);
    const metrics = isMetered ? sinks.metrics : null;
    request.telemetry = record;
    request.attemptObserver = record;
    if (metrics !== null || tracing !== null) {
      metrics?.inFlight.inc();
      if (tracing !== null) {
        const headers = request.headers;
        record.serverSpan = tracing.startServer({
          method: request.method,
          route: request.routeOptions.url,
          path: request.url,
          traceparent: headers.traceparent,
          tracestate: headers.tracestate,
        });
      }
      const raw = reply.raw;
      raw.once('close', () => {
        metrics?.inFlight.dec();
        // 499 (as nginx logs it): the client left before the status line was sent.
        record.finish(family, raw.headersSent ? raw.statusCode : 499);
      });
    }
    done();
  });
  if (tracing !== null) {
    // The handler and everything it awaits run with the request as the traced one, so the
    // upstream call can add its attempt's `traceparent`. After body parsing, whose socket
    // callbacks would lose the context; Fastify calls the handler synchronously from `done`.
    app.addHook('preHandler', (request, _reply, done) => {
      const record = request.telemetry;
      if (record === null) done();
      else tracing.run(record, done);
    });
  }
  app.addHook('onSend', (request, reply, payload, done) => {
    stampTiming(reply.raw, request.telemetry, reply.elapsedTime);
    done(null, payload);
  });
}

/** The name the client called, once resolved: the `endpoint` label and the usage record's. */
export function noteTarget(request: FastifyRequest, name: string, isRoute: boolean): void {
  const record = request.telemetry;
  if (record === null) return;
  record.target = name;
  record.isRoute = isRoute;
}

/** An endpoint's own limit refused the call (a route's destinations are reported as attempts). */
export function noteRateLimited(request: FastifyRequest, endpoint: ObservedEndpoint): void {
  request.telemetry?.rateLimited(endpoint);
}

/** Records the answer's usage, model and finish reasons (unary answers). */
export function recordAnswer(request: FastifyRequest, answer: unknown): void {
  const record = request.telemetry;
  if (record === null) return;
  readAnswer(record, answer);
  record.captureContent(request.body, answer);
}

/**
 * A stream about to be written: timing headers measured now, at the first byte (what a stream
 * costs after it is only the client's and the upstream's pace), and its chunks read for the
 * model and finish reasons on the way through.
 */
export function observeStream<C>(
  request: FastifyRequest,
  reply: FastifyReply,
  chunks: AsyncIterable<C>,
): AsyncIterable<C> {
  const record = request.telemetry;
  stampTiming(reply.raw, record, reply.elapsedTime);
  if (record === null) return chunks;
  record.isStreamed = true;
  record.freezeOverhead(performance.now());
  return readChunks(record, chunks);
}

async function* readChunks<C>(record: RequestTelemetry, chunks: AsyncIterable<C>): AsyncGenerator<C> {
  const streams = record.openStreams;
  streams?.inc();
  try {
    for await (const chunk of chunks) {
      readAnswer(record, chunk);
      yield chunk;
    }
  } finally {
    streams?.dec();
  }
}

/** The access log's `usage` field for a request that reached an endpoint. */
export function usageRecordOf(request: FastifyRequest, reply: FastifyReply): UsageRecord | undefined {
  return request.telemetry?.usageRecord(reply.statusCode, performance.now()) ?? undefined;
}
