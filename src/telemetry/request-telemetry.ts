import { GatewayError } from '../errors.js';
import type { EndpointInstruments, GatewayMetrics, ObservedEndpoint } from './metrics.js';
import { NO_ENDPOINT, type AttemptOutcome } from './metrics.js';
import type { TraceSpan, TracedRequest, Tracing } from './tracing.js';
import type { AnswerFacts, UsageRecord } from './usage-record.js';

/** The app's telemetry sinks, fixed at start: each is null when turned off. */
export interface TelemetrySinks {
  readonly metrics: GatewayMetrics | null;
  readonly tracing: Tracing | null;
}

const MS_PER_SECOND = 1000;

/**
 * One request's telemetry: the routing layer reports attempts to it (it is the executor's
 * AttemptObserver), the pipeline adds the answer's usage, and the HTTP hooks read the timings.
 * One object per request; metric label children come from per-endpoint caches.
 */
export class RequestTelemetry implements TracedRequest, AnswerFacts {
  readonly #sinks: TelemetrySinks;
  readonly startMs = performance.now();
  /** The name the client called (endpoint or route), once the pipeline resolved it. */
  target: string | null = null;
  /** Whether `target` is a traffic route rather than an endpoint. */
  isRoute = false;
  /** The destination of the latest attempt: after success, the one that served. */
  endpoint: ObservedEndpoint | null = null;
  attempts = 0;
  isStreamed = false;
  #upstreamMs = 0;
  #attemptStartMs = -1;
  /** Kept after the attempt ends: a plain stream's first chunk comes after the call resolved. */
  #lastAttemptStartMs = -1;
  /** Streams: the overhead fixed when the headers were written. */
  #frozenOverheadMs = -1;
  #instruments: EndpointInstruments | null = null;
  inputTokens: number | null = null;
  outputTokens: number | null = null;
  responseModel: string | null = null;
  finishReasons: string[] | null = null;
  serverSpan: TraceSpan | null = null;
  attemptSpan: TraceSpan | null = null;
  #servingSpan: TraceSpan | null = null;
  /** Only with LLMGW_TRACE_CONTENT=on: the request body and the answer, for the serving span. */
  #content: { input: unknown; output: unknown } | null = null;

  constructor(sinks: TelemetrySinks) {
    this.#sinks = sinks;
  }

  /** The route label of attempt metrics: the name the client called. */
  get #route(): string {
    return this.target ?? NO_ENDPOINT;
  }

  attemptStarted(endpoint: ObservedEndpoint, attempt: number): void {
    const metrics = this.#sinks.metrics;
    if (metrics !== null) {
      const instruments = metrics.endpoint(endpoint);
      if (this.endpoint !== null && this.endpoint !== endpoint) metrics.fellBack(this.#route, instruments);
      this.#instruments = instruments;
    }
    this.endpoint = endpoint;
    this.attempts = attempt;
    this.#attemptStartMs = performance.now();
    this.#lastAttemptStartMs = this.#attemptStartMs;
    const tracing = this.#sinks.tracing;
    if (tracing !== null && this.serverSpan !== null) {
      this.attemptSpan = tracing.startAttempt(this.serverSpan, endpoint, attempt);
    }
  }

  attemptFinished(
    endpoint: ObservedEndpoint,
    _attempt: number,
    outcome: AttemptOutcome,
    error?: unknown,
  ): void {
    const elapsedMs = this.#attemptStartMs < 0 ? 0 : performance.now() - this.#attemptStartMs;
    this.#upstreamMs += elapsedMs;
    this.#attemptStartMs = -1;
    // A route's destination refused by its limit counts as tried: the next one is a fallback.
    if (outcome === 'rate_limited') this.endpoint = endpoint;
    const metrics = this.#sinks.metrics;
    if (metrics !== null) {
      const code = outcome === 'success' ? '' : errorTypeOf(outcome, error);
      metrics.attemptFinished(
        this.#route,
        metrics.endpoint(endpoint),
        outcome,
        elapsedMs / MS_PER_SECOND,
        code,
      );
    }
    const span = this.attemptSpan;
    this.attemptSpan = null;
    if (span === null) return;
    // The serving attempt's span stays open for the answer's model, usage and finish reasons.
    if (outcome === 'success') this.#servingSpan = span;
    else this.#sinks.tracing?.endAttempt(span, outcome, error);
  }

  firstChunk(endpoint: ObservedEndpoint): void {
    if (this.#lastAttemptStartMs < 0 || this.#sinks.metrics === null) return;
    const seconds = (performance.now() - this.#lastAttemptStartMs) / MS_PER_SECOND;
    this.#sinks.metrics.endpoint(endpoint).firstChunk.observe(seconds);
  }

  /** An endpoint's limit refused the call before any attempt. */
  rateLimited(endpoint: ObservedEndpoint): void {
    this.endpoint ??= endpoint;
    this.#sinks.metrics?.endpoint(endpoint).rateLimited.inc();
  }

  /** Keeps prompt and completion for the trace, only when content recording is turned on. */
  captureContent(input: unknown, output: unknown): void {
    if (this.#sinks.tracing?.recordsContent === true) this.#content = { input, output };
  }

  /** The open-streams gauge, when metrics are on. */
  get openStreams(): GatewayMetrics['openStreams'] | null {
    return this.#sinks.metrics?.openStreams ?? null;
  }

  /** Time spent waiting on upstreams so far, the attempt in progress included. */
  upstreamMs(nowMs: number): number {
    return this.#attemptStartMs < 0 ? this.#upstreamMs : this.#upstreamMs + nowMs - this.#attemptStartMs;
  }

  /** Duration and overhead at `nowMs`; a stream's overhead stays as it was at its first byte. */
  overheadMs(nowMs: number): number {
    if (this.#frozenOverheadMs >= 0) return this.#frozenOverheadMs;
    return Math.max(0, nowMs - this.startMs - this.upstreamMs(nowMs));
  }

  freezeOverhead(nowMs: number): void {
    this.#frozenOverheadMs = this.overheadMs(nowMs);
  }

  /** Called once the response is over (sent, or the client gone): metrics and spans. */
  finish(family: string, status: number): void {
    const nowMs = performance.now();
    const durationMs = nowMs - this.startMs;
    const metrics = this.#sinks.metrics;
    if (metrics !== null) {
      const instruments = this.#instruments ?? metrics.endpoint(this.endpoint);
      const overheadMs = this.overheadMs(nowMs);
      metrics.requestFinished(
        family,
        instruments,
        status,
        durationMs / MS_PER_SECOND,
        overheadMs / MS_PER_SECOND,
      );
      if (this.inputTokens !== null) instruments.inputTokens.observe(this.inputTokens);
      if (this.outputTokens !== null) instruments.outputTokens.observe(this.outputTokens);
    }
    const tracing = this.#sinks.tracing;
    if (tracing === null) return;
    if (this.attemptSpan !== null) tracing.endAttempt(this.attemptSpan, 'client_gone', undefined);
    if (this.#servingSpan !== null) {
      if (this.#content !== null) {
        tracing.recordContent(this.#servingSpan, 'gen_ai.input.messages', this.#content.input);
        tracing.recordContent(this.#servingSpan, 'gen_ai.output.messages', this.#content.output);
      }
      tracing.endServing(this.#servingSpan, this);
    }
    if (this.serverSpan !== null) tracing.endServer(this.serverSpan, status, this.target);
  }

  /** The access log's usage record; null for requests that reached no endpoint. */
  usageRecord(status: number, nowMs: number): UsageRecord | null {
    const endpoint = this.endpoint;
    if (endpoint === null) return null;
    return {
      endpoint: this.target ?? endpoint.name,
      route: this.isRoute ? this.target : null,
      destination: endpoint.name,
      provider: endpoint.config.providerName,
      model: endpoint.config.modelName,
      responseModel: this.responseModel,
      status,
      inputTokens: this.inputTokens,
      outputTokens: this.outputTokens,
      durationMs: roundMs(nowMs - this.startMs),
      overheadMs: roundMs(this.overheadMs(nowMs)),
      attempts: this.attempts,
      streamed: this.isStreamed,
    };
  }
}

/** Milliseconds to 0.1 ms, as the timing headers and the access log print them. */
export function roundMs(ms: number): number {
  return Math.round(ms * 10) / 10;
}

/** `error.type`: the gateway's stable error code, else `_OTHER` (the GenAI conventions' fallback). */
export function errorTypeOf(outcome: AttemptOutcome, error: unknown): string {
  if (error instanceof GatewayError) return error.code;
  return outcome === 'client_gone' ? 'client_gone' : '_OTHER';
}
