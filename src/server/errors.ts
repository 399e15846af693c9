import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { GatewayError, RateLimitedError, RequestValidationError, type ValidationIssue } from '../errors.js';
import type { OpenAiErrorBody } from '../schemas/error.js';
import { BODY_LIMIT_BYTES } from './json-body.js';

/** Which error body a route family speaks: MLflow's `detail` or OpenAI's `error` object. */
export type ErrorShape = 'mlflow' | 'openai';

const OPENAI_PREFIX = '/v1/';

export function errorShapeOf(url: string): ErrorShape {
  return url.startsWith(OPENAI_PREFIX) ? 'openai' : 'mlflow';
}

const OPENAI_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  405: 'invalid_request_error',
  413: 'invalid_request_error',
  415: 'invalid_request_error',
  422: 'invalid_request_error',
  429: 'rate_limit_error',
  501: 'not_implemented_error',
};

function openAiType(status: number): string {
  return OPENAI_TYPES[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error');
}

function describeIssue(issue: ValidationIssue): string {
  // A `json_invalid` loc ends with a character offset, so name the body and the parser's reason.
  if (issue.type === 'json_invalid') {
    const reason = issue.ctx?.error;
    return typeof reason === 'string' ? `body: ${issue.msg}: ${reason}` : `body: ${issue.msg}`;
  }
  return `${issue.loc.slice(1).join('.') || 'body'}: ${issue.msg}`;
}

function messageOf(error: GatewayError): string {
  if (error instanceof RequestValidationError) {
    return error.issues.map(describeIssue).join('; ');
  }
  return typeof error.detail === 'string' ? error.detail : JSON.stringify(error.detail);
}

/** The body for a gateway error in the route family's shape. */
export function errorBody(error: GatewayError, shape: ErrorShape): object {
  if (shape === 'openai') {
    const body: OpenAiErrorBody = {
      error: {
        message: messageOf(error),
        type: openAiType(error.status),
        param: error.param,
        code: error.code.toLowerCase(),
      },
    };
    return body;
  }
  // Reference §7: the limiter's own 429 says `error`, not `detail`.
  if (error instanceof RateLimitedError) return { error: error.message };
  return { detail: error.detail };
}

/** Fastify's own errors, as the gateway reports them. */
function fromFastifyError(error: FastifyError): GatewayError | null {
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new GatewayError(
        415,
        'UNSUPPORTED_MEDIA_TYPE',
        `Unsupported Media Type: send the body as application/json.`,
      );
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new GatewayError(
        413,
        'PAYLOAD_TOO_LARGE',
        `Request body is too large: the gateway accepts at most ${BODY_LIMIT_BYTES} bytes.`,
      );
    default:
      if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
        return new GatewayError(error.statusCode, 'INVALID_REQUEST', error.message);
      }
      return null;
  }
}

function isFastifyError(error: unknown): error is FastifyError {
  return error instanceof Error && typeof (error as FastifyError).code === 'string';
}

/**
 * The one place an error becomes a response. Anything unknown is a 500 with a fixed message
 * and the request id; the stack goes to the log only.
 */
export function sendError(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const gatewayError =
    error instanceof GatewayError ? error : isFastifyError(error) ? fromFastifyError(error) : null;
  const shape = errorShapeOf(request.url);
  if (!gatewayError) {
    // A client that went away aborts its upstream call; that is no server error.
    if (reply.raw.destroyed) request.log.debug({ err: error }, 'client disconnected');
    else request.log.error({ err: error }, 'unhandled error');
    const internal = new GatewayError(500, 'INTERNAL', `Internal Server Error (request id ${request.id})`);
    return reply.code(500).send(errorBody(internal, shape));
  }
  if (gatewayError.status >= 500) request.log.warn({ err: gatewayError }, gatewayError.message);
  if (gatewayError instanceof RateLimitedError) {
    void reply.header('retry-after', String(gatewayError.retryAfterSeconds));
  }
  return reply.code(gatewayError.status).send(errorBody(gatewayError, shape));
}

/**
 * The docs' static file server refuses a path with `..`, a backslash trick or a NUL byte with
 * its own 4xx; to a client that is simply no such file, and nothing is served.
 */
export function sendDocsError(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const status =
    typeof error === 'object' && error !== null ? (error as { statusCode?: unknown }).statusCode : null;
  const isClientError = typeof status === 'number' && status >= 400 && status < 500;
  return sendError(isClientError ? new GatewayError(404, 'NOT_FOUND', 'Not Found') : error, request, reply);
}

export function registerErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error, request, reply) => sendError(error, request, reply));
  app.setNotFoundHandler((request, reply) =>
    sendError(new GatewayError(404, 'NOT_FOUND', 'Not Found'), request, reply),
  );
}
