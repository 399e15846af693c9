import type { UpstreamHeaders } from '../upstream/request.js';
import type { AnswerFacts } from './usage-record.js';
import type { AttemptOutcome, ObservedEndpoint } from './metrics.js';

// Traces are optional: without an OTLP endpoint in the environment nothing of the OpenTelemetry
// SDK is loaded, and the hot path only tests `tracing === null`.

/** A span of ours, as the rest of telemetry sees it. */
export interface TraceSpan {
  end(): void;
}

/** What a request's spans need from it; RequestTelemetry implements it. */
export interface TracedRequest extends AnswerFacts {
  /** The client span of the attempt in progress, for the upstream's `traceparent`. */
  readonly attemptSpan: TraceSpan | null;
}

export interface ServerSpanStart {
  method: string;
  /** The route pattern (`/v1/chat/completions`), never the raw URL. */
  route: string | undefined;
  path: string;
  traceparent: string | string[] | undefined;
  tracestate: string | string[] | undefined;
}

export interface Tracing {
  /** Whether prompts and completions may be recorded (LLMGW_TRACE_CONTENT=on). */
  readonly recordsContent: boolean;
  startServer(start: ServerSpanStart): TraceSpan;
  endServer(span: TraceSpan, status: number, endpoint: string | null): void;
  startAttempt(server: TraceSpan, endpoint: ObservedEndpoint, attempt: number): TraceSpan;
  endAttempt(span: TraceSpan, outcome: AttemptOutcome, error: unknown): void;
  /** The serving attempt ends with the answer: model, tokens and finish reasons. */
  endServing(span: TraceSpan, facts: AnswerFacts): void;
  /** Records prompt or completion text on a span; only called when `recordsContent`. */
  recordContent(
    span: TraceSpan,
    attribute: 'gen_ai.input.messages' | 'gen_ai.output.messages',
    value: unknown,
  ): void;
  /** Runs the pipeline with `request` as the current traced request, for `decorateHeaders`. */
  run<T>(request: TracedRequest, pipeline: () => T): T;
  /** Adds the current attempt's `traceparent` to an upstream call's headers. */
  decorateHeaders(headers: UpstreamHeaders): UpstreamHeaders;
  /** Exports what is buffered and stops. */
  shutdown(): Promise<void>;
}

/** Whether the environment asks for traces (the OpenTelemetry SDK's own variables). */
function isTracingConfigured(env: NodeJS.ProcessEnv): boolean {
  if (env.OTEL_SDK_DISABLED === 'true' || env.OTEL_TRACES_EXPORTER === 'none') return false;
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? env.OTEL_EXPORTER_OTLP_ENDPOINT;
  return endpoint !== undefined && endpoint !== '';
}

const CONTENT_ENV = 'LLMGW_TRACE_CONTENT';

/** The SDK, loaded by dynamic import only when the environment configures an exporter. */
export async function loadTracing(env: NodeJS.ProcessEnv = process.env): Promise<Tracing | null> {
  if (!isTracingConfigured(env)) return null;
  const { OtelTracing } = await import('./tracing-sdk.js');
  return new OtelTracing({ recordsContent: env[CONTENT_ENV] === 'on' || env[CONTENT_ENV] === 'true' });
}
