import { EndpointNotFoundError, GatewayError, UpstreamError } from '../../errors.js';
import { isRecord } from '../../schemas/json.js';
import { errorBody } from '../../server/errors.js';

// Errors in OpenAI's shape (reference ingress.md §3.6), so openai-node raises its usual
// APIError subclasses: `{"error": {"message", "type", "param", "code"}}`.

/**
 * The status and body for an error. A passthrough upstream's own OpenAI-shaped error body is
 * relayed as it is; the gateway's validation errors are OpenAI's 400s, not 422s.
 */
export function responsesErrorBody(error: GatewayError): { status: number; body: unknown } {
  if (error instanceof UpstreamError && isRecord(error.detail) && isRecord(error.detail.error)) {
    return { status: error.status, body: error.detail };
  }
  const status = error.status === 422 ? 400 : error.status;
  const body = errorBody(error, 'openai') as { error: Record<string, unknown> };
  if (status === 400) body.error.type = 'invalid_request_error';
  if (error instanceof EndpointNotFoundError) {
    body.error.code = 'model_not_found';
    body.error.param = 'model';
  }
  return { status, body };
}

/** The in-stream `error` event that ends a stream whose body was already flowing (§3.4). */
export function responsesErrorEvent(error: unknown): string {
  const message = error instanceof GatewayError ? error.message : 'Internal Server Error';
  const data = { type: 'error', code: 'server_error', message, param: null, sequence_number: 0 };
  return `event: error\ndata: ${JSON.stringify(data)}\n\n`;
}
