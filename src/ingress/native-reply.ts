import type { FastifyInstance, FastifyReply } from 'fastify';
import { GatewayError } from '../errors.js';
import type { Target } from '../routing/execute.js';
import type { Usage } from '../schemas/generation.js';
import type { Endpoint } from '../server/endpoint-table.js';
import { SERVED_BY_HEADER } from '../server/invoke.js';
import { drained } from '../server/sse.js';
import { stampTiming } from '../telemetry/timing.js';

// What the native client APIs share around the routing layer: one writer for relayed or translated answers, and an error handler
// that answers in the client API's own error shape.

/** Status line and headers of a native answer, sent before its first body chunk. */
export interface ReplyHead {
  readonly status: number;
  readonly contentType: string;
  readonly headers: Readonly<Record<string, string>>;
}

/** A head first, then body bytes or text, as an attempt yields them. */
export type WireChunk = ReplyHead | string | Uint8Array;

/** A whole answer, and its token counts (read from the answer, passthrough included). */
export interface NativeAnswer {
  readonly wire: readonly WireChunk[];
  readonly usage: Usage | null;
}

/** The answer's JSON, for its usage; null when it is not JSON (the client still gets it whole). */
export function parseAnswer(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    return null;
  }
}

export const EVENT_STREAM_HEAD: ReplyHead = {
  status: 200,
  contentType: 'text/event-stream; charset=utf-8',
  headers: {},
};
export const JSON_CONTENT_TYPE = 'application/json';

/** A route's answer names the endpoint that gave it, as on the gateway's other routes. */
export function markServed(target: Target, reply: FastifyReply, endpoint: Endpoint): void {
  if (target.kind === 'route') reply.raw.setHeader(SERVED_BY_HEADER, endpoint.name);
}

function isHead(chunk: WireChunk): chunk is ReplyHead {
  return typeof chunk !== 'string' && !(chunk instanceof Uint8Array);
}

/**
 * Writes an answer as its chunks arrive, honouring backpressure. A failure after the head is
 * written ends the body with `failureFrame(error)` (the API's in-stream error), never a second
 * status line; leaving the loop (client gone) returns the iterator, which aborts the upstream.
 */
export async function writeWire(
  reply: FastifyReply,
  chunks: AsyncIterable<WireChunk> | Iterable<WireChunk>,
  failureFrame: (error: unknown) => string,
): Promise<FastifyReply> {
  const raw = reply.raw;
  try {
    for await (const chunk of chunks) {
      if (raw.destroyed) break;
      if (isHead(chunk)) {
        // Taken over only now: a failure before the head is still an ordinary error response.
        void reply.hijack();
        // Hijacked answers skip onSend, where the timing headers are stamped otherwise.
        stampTiming(raw, reply.request.telemetry, reply.elapsedTime);
        raw.writeHead(chunk.status, { ...chunk.headers, 'content-type': chunk.contentType });
        raw.flushHeaders();
      } else if (!raw.write(chunk)) {
        await drained(raw);
      }
    }
  } catch (error) {
    if (!raw.destroyed && raw.headersSent) raw.write(failureFrame(error));
    else if (!raw.destroyed) throw error;
  } finally {
    if (raw.headersSent) raw.end();
  }
  return reply;
}

/** A Fastify error about the request (a body too large) as a gateway error; else null. */
function asGatewayError(error: unknown): GatewayError | null {
  if (error instanceof GatewayError) return error;
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500 && error instanceof Error) {
    return new GatewayError(status, 'INVALID_REQUEST', error.message);
  }
  return null;
}

/**
 * Answers every error of the scope's routes in the client API's shape (`toBody` gives the
 * status and body). Anything unknown is a 500 with the request id; its stack goes to the log.
 */
export function registerNativeErrors(
  scope: FastifyInstance,
  toBody: (error: GatewayError) => { status: number; body: unknown },
): void {
  scope.setErrorHandler((error, request, reply) => {
    const gatewayError = asGatewayError(error);
    if (gatewayError === null) {
      if (reply.raw.destroyed) request.log.debug({ err: error }, 'client disconnected');
      else request.log.error({ err: error }, 'unhandled error');
    } else if (gatewayError.status >= 500) {
      request.log.warn({ err: gatewayError }, gatewayError.message);
    }
    const known =
      gatewayError ?? new GatewayError(500, 'INTERNAL', `Internal Server Error (request id ${request.id})`);
    const { status, body } = toBody(known);
    if (reply.raw.headersSent) return reply;
    const retryAfter = (known as { retryAfterSeconds?: unknown }).retryAfterSeconds;
    if (typeof retryAfter === 'number') void reply.header('retry-after', String(retryAfter));
    return reply.code(status).send(body);
  });
}
