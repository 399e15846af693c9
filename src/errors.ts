/**
 * The gateway's error hierarchy. Every error that reaches a client is a GatewayError; the
 * one mapper in server/errors.ts turns it into a response. Brands use Symbol.for so that a
 * plugin bundling its own copy of llmgw still passes instanceof checks.
 */

const BRAND = Symbol.for('llmgw.GatewayError');

/** One item of a 422 detail array, in FastAPI/pydantic's shape. */
export interface ValidationIssue {
  type: string;
  loc: (string | number)[];
  msg: string;
  input: unknown;
  ctx?: Record<string, unknown>;
}

export type GatewayErrorCode =
  | 'INVALID_REQUEST'
  | 'REQUEST_VALIDATION'
  | 'ENDPOINT_NOT_FOUND'
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_OPERATION'
  | 'RATE_LIMITED'
  | 'INVALID_API_KEY'
  | 'PERMISSION_DENIED'
  | 'UPSTREAM_ERROR'
  | 'UPSTREAM_TIMEOUT'
  | 'UPSTREAM_UNREACHABLE'
  | 'UPSTREAM_PROTOCOL'
  | 'UPSTREAM_CONNECTION_LOST'
  | 'CLIENT_CLOSED_REQUEST'
  | 'INTERNAL';

/**
 * `detail` is what MLflow puts under `{"detail": …}`: a string for errors the gateway makes,
 * an array for validation errors, or whatever the upstream sent for upstream errors.
 */
export class GatewayError extends Error {
  readonly status: number;
  readonly code: GatewayErrorCode;
  readonly detail: unknown;
  /** The request field the error is about, for OpenAI's `param`. */
  readonly param: string | null;

  constructor(
    status: number,
    code: GatewayErrorCode,
    detail: unknown,
    options?: { cause?: unknown; param?: string | null },
  ) {
    super(typeof detail === 'string' ? detail : JSON.stringify(detail), { cause: options?.cause });
    this.status = status;
    this.code = code;
    this.detail = detail;
    this.param = options?.param ?? null;
  }

  override get name(): string {
    return this.constructor.name;
  }

  /**
   * `instanceof GatewayError` accepts any copy's errors through the brand; subclasses keep
   * the ordinary prototype check.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (this !== GatewayError) return Function.prototype[Symbol.hasInstance].call(this, value);
    return typeof value === 'object' && value !== null && BRAND in value;
  }

  get [BRAND](): true {
    return true;
  }
}

/** 422 with a pydantic-shaped detail array. */
export class RequestValidationError extends GatewayError {
  readonly issues: ValidationIssue[];
  constructor(issues: ValidationIssue[]) {
    super(422, 'REQUEST_VALIDATION', issues, { param: paramOf(issues[0]) });
    this.issues = issues;
  }
}

function paramOf(issue: ValidationIssue | undefined): string | null {
  // A `json_invalid` loc ends with a character offset, not a field.
  if (!issue || issue.type === 'json_invalid') return null;
  const path = issue.loc.slice(1).join('.');
  return path === '' ? null : path;
}

/** A 4xx the gateway raises about the request itself, with a string detail. */
export class InvalidRequestError extends GatewayError {
  constructor(status: 400 | 404 | 405 | 413 | 415 | 422, detail: string, param?: string) {
    const code = INVALID_REQUEST_CODES[status];
    super(status, code, detail, { param: param ?? null });
  }
}

const INVALID_REQUEST_CODES = {
  400: 'INVALID_REQUEST',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  422: 'INVALID_REQUEST',
} as const satisfies Record<number, GatewayErrorCode>;

export class EndpointNotFoundError extends GatewayError {
  constructor(detail: string, status: 400 | 404 = 404) {
    super(status, 'ENDPOINT_NOT_FOUND', detail, { param: status === 400 ? 'model' : null });
  }
}

export type OperationKind =
  'chat' | 'chat streaming' | 'completions' | 'completions streaming' | 'embeddings';

/** 501: the provider lacks this capability (reference §6.4). */
export class UnsupportedOperationError extends GatewayError {
  constructor(kind: OperationKind, providerDisplayName: string) {
    super(
      501,
      'UNSUPPORTED_OPERATION',
      `The ${kind} route is not implemented for ${providerDisplayName} models.`,
    );
  }
}

/** 429 from the gateway's own limiter; its body is `{"error": …}`, not `detail`. */
export class RateLimitedError extends GatewayError {
  readonly retryAfterSeconds: number;
  constructor(message: string, retryAfterSeconds: number) {
    super(429, 'RATE_LIMITED', message);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** The upstream answered with an error status; `detail` is mapped as reference §6.6. */
export class UpstreamError extends GatewayError {
  /** The upstream's `Retry-After` header as sent, for the retry policy to read. */
  readonly retryAfter: string | null;
  constructor(status: number, detail: unknown, retryAfter: string | null = null) {
    super(status, 'UPSTREAM_ERROR', detail);
    this.retryAfter = retryAfter;
  }
}

export class UpstreamTimeoutError extends GatewayError {
  constructor(timeoutSeconds: number, cause?: unknown) {
    super(
      504,
      'UPSTREAM_TIMEOUT',
      `The upstream provider did not respond within ${timeoutSeconds} seconds.`,
      {
        cause,
      },
    );
  }
}

export class UpstreamUnreachableError extends GatewayError {
  constructor(reason: string, cause?: unknown) {
    super(502, 'UPSTREAM_UNREACHABLE', `Could not reach the upstream provider: ${reason}`, { cause });
  }
}

/** 502: the upstream answered something we cannot use (content type, JSON, missing field). */
export class UpstreamProtocolError extends GatewayError {
  constructor(detail: string, cause?: unknown) {
    super(502, 'UPSTREAM_PROTOCOL', detail, { cause });
  }
}

/** 502: the upstream dropped the connection after it had started answering. */
export class UpstreamConnectionLostError extends GatewayError {
  constructor(detail: string, cause?: unknown) {
    super(502, 'UPSTREAM_CONNECTION_LOST', detail, { cause });
  }
}

/**
 * The client went away before its answer was ready, so the gateway cancelled the upstream
 * call. Nobody reads the response; 499 (nginx's convention) keeps it out of the 5xx counts.
 */
export class ClientClosedRequestError extends GatewayError {
  constructor(cause?: unknown) {
    super(499, 'CLIENT_CLOSED_REQUEST', 'The client closed the request before the response was ready.', {
      cause,
    });
  }
}

export interface ConfigErrorLocation {
  endpoint?: string | undefined;
  /** Dotted path from the file's root, e.g. `endpoints[0].model.config.openai_api_key`. */
  path?: string | undefined;
  line?: number | undefined;
  column?: number | undefined;
}

/** One problem in a config file. Never sent over HTTP; the CLI and the reloader print it. */
export class ConfigError extends Error {
  readonly location: ConfigErrorLocation;
  constructor(message: string, location: ConfigErrorLocation = {}) {
    super(message);
    this.location = location;
  }

  override get name(): string {
    return 'ConfigError';
  }

  /** `file.yaml:12:5 endpoint 'chat' at endpoints[0].model.config: message` */
  format(file?: string): string {
    const { endpoint, path, line, column } = this.location;
    // A message that already names the file (`<path> does not exist`) needs no file prefix
    // unless it has a position to add.
    const where = file
      ? line
        ? `${file}:${line}${column ? `:${column}` : ''}`
        : this.message.includes(file)
          ? ''
          : file
      : line
        ? `line ${line}`
        : '';
    const parts = [where, endpoint !== undefined ? `endpoint '${endpoint}'` : '', path ? `at ${path}` : ''];
    const prefix = parts.filter((part) => part !== '').join(' ');
    return prefix === '' ? this.message : `${prefix}: ${this.message}`;
  }
}

/** All the problems of one config file. */
export class ConfigErrors extends Error {
  readonly errors: ConfigError[];
  constructor(errors: ConfigError[]) {
    super(errors.map((error) => error.format()).join('\n'));
    this.errors = errors;
  }
  override get name(): string {
    return 'ConfigErrors';
  }
}
