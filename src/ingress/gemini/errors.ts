import { GatewayError, RequestValidationError, UpstreamError } from '../../errors.js';
import { isRecord } from '../../schemas/json.js';

// Errors in Google's `google.rpc.Status` shape (reference ingress.md §4.5), so @google/genai
// raises its ApiError with the status and message: `{"error": {"code", "message", "status"}}`.

const STATUS_NAMES: Readonly<Record<number, string>> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  405: 'INVALID_ARGUMENT',
  409: 'ABORTED',
  413: 'INVALID_ARGUMENT',
  415: 'INVALID_ARGUMENT',
  429: 'RESOURCE_EXHAUSTED',
  499: 'CANCELLED',
  500: 'INTERNAL',
  501: 'UNIMPLEMENTED',
  502: 'UNAVAILABLE',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

function statusName(status: number): string {
  return STATUS_NAMES[status] ?? (status >= 500 ? 'INTERNAL' : 'INVALID_ARGUMENT');
}

/** Google's body for a status and message. */
export function googleError(status: number, message: string): { error: Record<string, unknown> } {
  return { error: { code: status, message, status: statusName(status) } };
}

function messageOf(error: GatewayError): string {
  if (!(error instanceof RequestValidationError)) return error.message;
  // Validation issues read as `field: problem`, as the gateway's other error bodies say them.
  return error.issues.map((issue) => `${issue.loc.slice(1).join('.') || 'body'}: ${issue.msg}`).join('; ');
}

/** The status and body for an error; a passthrough upstream's own Google error is relayed as it is. */
export function geminiErrorBody(error: GatewayError): { status: number; body: unknown } {
  if (error instanceof UpstreamError && isRecord(error.detail) && isRecord(error.detail.error)) {
    return { status: error.status, body: error.detail };
  }
  const status = error.status === 422 ? 400 : error.status;
  return { status, body: googleError(status, messageOf(error)) };
}

/** The in-stream error chunk that ends a stream whose body was already flowing. */
export function geminiErrorChunk(error: unknown): string {
  const body =
    error instanceof GatewayError ? geminiErrorBody(error).body : googleError(500, 'Internal Server Error');
  return `data: ${JSON.stringify(body)}\n\n`;
}
