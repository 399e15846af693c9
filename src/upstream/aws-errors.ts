import {
  ClientClosedRequestError,
  GatewayError,
  UpstreamConnectionLostError,
  UpstreamError,
  UpstreamTimeoutError,
  UpstreamUnreachableError,
} from '../errors.js';
import { isRecord } from '../schemas/json.js';
import { reasonPhrase, type TransportPhase } from './errors.js';

// AWS SDK errors → gateway errors, beside errors.ts's undici mapping. The errors are read by
// shape, not by class, so nothing here loads the SDK.

/**
 * Bedrock Runtime's status for each exception (API reference, InvokeModel / Converse "Errors";
 * reference bedrock.md §8). Used when the SDK's error carries no HTTP status: an exception
 * event inside a ConverseStream arrives on a response that was already 200.
 */
const EXCEPTION_STATUSES: Readonly<Record<string, number>> = {
  ValidationException: 400,
  ServiceQuotaExceededException: 400,
  AccessDeniedException: 403,
  ResourceNotFoundException: 404,
  ModelTimeoutException: 408,
  ModelErrorException: 424,
  ModelStreamErrorException: 424,
  ThrottlingException: 429,
  ModelNotReadyException: 429,
  InternalServerException: 500,
  ServiceUnavailableException: 503,
};

/** An AWS error that names no status and no known exception: the service failed in a way we cannot place. */
const UNKNOWN_SERVICE_ERROR_STATUS = 502;

/** Raised by the SDK's credential chain when no source has credentials. */
const CREDENTIALS_ERROR = 'CredentialsProviderError';

/** The SDK's words for an error body it could not parse (a proxy's HTML page, say). */
const UNREADABLE_BODY = 'Deserialization error';

/** The HTTP error status AWS answered with, when the SDK recorded one. */
function httpStatus(error: Error & { $metadata?: unknown }): number | undefined {
  const metadata = error.$metadata;
  const status = isRecord(metadata) ? metadata.httpStatusCode : undefined;
  return typeof status === 'number' && status >= 400 && status <= 599 ? status : undefined;
}

function serviceStatus(error: Error): number {
  return httpStatus(error) ?? EXCEPTION_STATUSES[error.name] ?? UNKNOWN_SERVICE_ERROR_STATUS;
}

/**
 * A service exception carries `$fault`; the SDK also adds `$metadata` to network errors, so
 * that alone says nothing. An exception frame the SDK could not model keeps only its name.
 */
function isServiceError(error: Error): boolean {
  return '$fault' in error || Object.hasOwn(EXCEPTION_STATUSES, error.name);
}

/**
 * Maps an error thrown by an AWS SDK call (or while reading its event stream). A service
 * exception keeps AWS's status and message; the SDK's timeouts become 504, a network failure
 * 502, and a call cancelled because the client went away 499. Anything else (a bug) is
 * returned as it is and becomes the generic 500.
 */
export function mapAwsError(
  error: unknown,
  timeoutSeconds: number,
  signal: AbortSignal,
  phase: TransportPhase = 'request',
): unknown {
  if (error instanceof GatewayError || !(error instanceof Error)) return error;
  if (signal.aborted || error.name === 'AbortError') return new ClientClosedRequestError(error);
  if (error.name === 'TimeoutError') return new UpstreamTimeoutError(timeoutSeconds, error);
  if (error.name === CREDENTIALS_ERROR) {
    return new UpstreamUnreachableError(`no AWS credentials could be loaded (${error.message})`, error);
  }
  if (isServiceError(error)) return toUpstreamError(error, serviceStatus(error));
  const code = (error as NodeJS.ErrnoException).code;
  if (typeof code === 'string') {
    if (phase === 'request') return new UpstreamUnreachableError(code, error);
    return new UpstreamConnectionLostError('The upstream provider closed the connection mid-stream.', error);
  }
  // An HTTP error the SDK could not read as an exception (a proxy's HTML page) keeps its status.
  const status = httpStatus(error);
  return status === undefined ? error : toUpstreamError(error, status);
}

/** AWS's message, or the reason phrase when the body was no AWS error the SDK could read. */
function toUpstreamError(error: Error, status: number): UpstreamError {
  const message = error.message.includes(UNREADABLE_BODY) ? reasonPhrase(status) : error.message;
  return Object.assign(new UpstreamError(status, message), { cause: error });
}
