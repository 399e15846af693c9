import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import {
  GatewayError,
  RateLimitedError,
  RequestValidationError,
  UpstreamError,
  type ValidationIssue,
} from '../../errors.js';
import { isRecord } from '../../schemas/json.js';
import { BODY_LIMIT_BYTES } from '../../server/json-body.js';
import type { Scrub } from '../../server/scrub-secrets.js';

// Errors in the Anthropic API's own shape and statuses (ingress reference §2.6), so the
// Anthropic SDK raises its usual exceptions. A passthrough upstream's own error body is relayed
// as it is.

/** Reference §2.6; other 4xx are `invalid_request_error`, other 5xx `api_error`. */
const ERROR_TYPES: Readonly<Record<number, string>> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  402: 'billing_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  503: 'overloaded_error',
  504: 'timeout_error',
  529: 'overloaded_error',
};

export function errorType(status: number): string {
  return ERROR_TYPES[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error');
}

export interface AnthropicErrorReply {
  status: number;
  body: Record<string, unknown>;
}

/**
 * The Anthropic API has no 422: a body that fails validation is a 400
 * `invalid_request_error` naming the field, as Anthropic answers it.
 */
export function toAnthropicError(error: GatewayError): AnthropicErrorReply {
  const status = error.status === 422 ? 400 : error.status;
  if (error instanceof UpstreamError && isAnthropicErrorBody(error.detail)) {
    return { status, body: error.detail };
  }
  return { status, body: errorBody(status, messageOf(error)) };
}

export function errorBody(status: number, message: string): Record<string, unknown> {
  return { type: 'error', error: { type: errorType(status), message } };
}

function isAnthropicErrorBody(detail: unknown): detail is Record<string, unknown> {
  return isRecord(detail) && detail.type === 'error' && isRecord(detail.error);
}

function messageOf(error: GatewayError): string {
  if (error instanceof RequestValidationError) return error.issues.map(describeIssue).join('; ');
  if (typeof error.detail === 'string') return error.detail;
  if (isRecord(error.detail)) {
    // An upstream's `{"error": {"message": …}}` or `{"message": …}` says it best.
    const nested = isRecord(error.detail.error) ? error.detail.error.message : error.detail.message;
    if (typeof nested === 'string') return nested;
  }
  return JSON.stringify(error.detail);
}

function describeIssue(issue: ValidationIssue): string {
  if (issue.type === 'json_invalid') return `body: ${issue.msg}`;
  return `${issue.loc.slice(1).join('.') || 'body'}: ${issue.msg}`;
}

/**
 * The stream's last frame when it fails after the 200 was sent (reference §2.3). A relayed
 * stream may stop inside an event: a blank line ends it before ours begins.
 */
export function streamErrorFrame(error: unknown, scrub: Scrub, reply: FastifyReply): string {
  if (!(error instanceof GatewayError)) {
    reply.log.error({ err: error }, 'stream failed');
    return errorFrame(errorBody(500, 'Internal Server Error'));
  }
  return `\n${scrub(errorFrame(toAnthropicError(error).body))}`;
}

/** A frame of Anthropic's `error` event. */
export function errorFrame(body: Record<string, unknown>): string {
  return `event: error\ndata: ${JSON.stringify(body)}\n\n`;
}

/** Fastify's own errors (a body too large, bad JSON framing) as gateway errors. */
function fromFastifyError(error: FastifyError): GatewayError | null {
  if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return new GatewayError(
      413,
      'PAYLOAD_TOO_LARGE',
      `Request body is larger than ${BODY_LIMIT_BYTES} bytes.`,
    );
  }
  const status = error.statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    return new GatewayError(status, 'INVALID_REQUEST', error.message);
  }
  return null;
}

/** The error handler of the Anthropic routes' scope: every error in Anthropic's shape. */
export function sendAnthropicError(
  error: unknown,
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  const gatewayError =
    error instanceof GatewayError
      ? error
      : error instanceof Error && typeof (error as FastifyError).code === 'string'
        ? fromFastifyError(error as FastifyError)
        : null;
  if (gatewayError === null) {
    if (reply.raw.destroyed) request.log.debug({ err: error }, 'client disconnected');
    else request.log.error({ err: error }, 'unhandled error');
    return reply.code(500).send(errorBody(500, `Internal Server Error (request id ${request.id})`));
  }
  if (gatewayError.status >= 500) request.log.warn({ err: gatewayError }, gatewayError.message);
  if (gatewayError instanceof RateLimitedError) {
    void reply.header('retry-after', String(gatewayError.retryAfterSeconds));
  } else if (gatewayError instanceof UpstreamError && gatewayError.retryAfter !== null) {
    void reply.header('retry-after', gatewayError.retryAfter);
  }
  const { status, body } = toAnthropicError(gatewayError);
  return reply.code(status).send(body);
}
