import { AsyncLocalStorage } from 'node:async_hooks';
import {
  defaultTextMapGetter,
  defaultTextMapSetter,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import type { UpstreamHeaders } from '../upstream/request.js';
import { VERSION } from '../version.js';
import { genAiProviderName, OPERATION_NAMES, type AttemptOutcome, type ObservedEndpoint } from './metrics.js';
import { errorTypeOf } from './request-telemetry.js';
import type { ServerSpanStart, TracedRequest, Tracing } from './tracing.js';
import type { AnswerFacts } from './usage-record.js';

// Loaded only by `loadTracing`, when an OTLP endpoint is configured. The exporter reads the
// standard OTEL_EXPORTER_OTLP_* variables itself and sends OTLP/HTTP JSON.

export class OtelTracing implements Tracing {
  readonly recordsContent: boolean;
  readonly #provider: NodeTracerProvider;
  readonly #tracer: Tracer;
  readonly #propagator = new W3CTraceContextPropagator();
  readonly #current = new AsyncLocalStorage<TracedRequest>();

  constructor(options: { recordsContent: boolean }) {
    this.recordsContent = options.recordsContent;
    this.#provider = new NodeTracerProvider({
      resource: resourceFromAttributes({
        [ATTR_SERVICE_NAME]: process.env.OTEL_SERVICE_NAME ?? 'llmgw',
        [ATTR_SERVICE_VERSION]: VERSION,
      }),
      spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
    });
    this.#tracer = this.#provider.getTracer('llmgw', VERSION);
  }

  startServer(start: ServerSpanStart): Span {
    // A client's `traceparent` makes this span its child; a malformed one starts a new trace.
    const parent = this.#propagator.extract(
      ROOT_CONTEXT,
      { traceparent: start.traceparent, tracestate: start.tracestate },
      defaultTextMapGetter,
    );
    const route = start.route ?? '';
    return this.#tracer.startSpan(
      route === '' ? start.method : `${start.method} ${route}`,
      {
        kind: SpanKind.SERVER,
        attributes: { 'http.request.method': start.method, 'http.route': route, 'url.path': start.path },
      },
      parent,
    );
  }

  endServer(span: Span, status: number, endpoint: string | null): void {
    span.setAttribute('http.response.status_code', status);
    if (endpoint !== null) span.setAttribute('llmgw.endpoint', endpoint);
    if (status >= 500) {
      span.setAttribute('error.type', String(status));
      span.setStatus({ code: SpanStatusCode.ERROR });
    }
    span.end();
  }

  startAttempt(server: Span, endpoint: ObservedEndpoint, attempt: number): Span {
    const operation = OPERATION_NAMES[endpoint.type];
    const model = endpoint.config.modelName;
    const attributes: Record<string, string | number> = {
      'gen_ai.operation.name': operation,
      'gen_ai.provider.name': genAiProviderName(endpoint.config.providerName),
      'llmgw.endpoint': endpoint.name,
      'llmgw.attempt': attempt,
    };
    if (model !== null) attributes['gen_ai.request.model'] = model;
    return this.#tracer.startSpan(
      model === null ? operation : `${operation} ${model}`,
      { kind: SpanKind.CLIENT, attributes },
      trace.setSpan(ROOT_CONTEXT, server),
    );
  }

  endAttempt(span: Span, outcome: AttemptOutcome, error: unknown): void {
    span.setAttribute('llmgw.attempt.outcome', outcome);
    span.setAttribute('error.type', errorTypeOf(outcome, error));
    span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  }

  endServing(span: Span, facts: AnswerFacts): void {
    span.setAttribute('llmgw.attempt.outcome', 'success');
    if (facts.responseModel !== null) span.setAttribute('gen_ai.response.model', facts.responseModel);
    if (facts.inputTokens !== null) span.setAttribute('gen_ai.usage.input_tokens', facts.inputTokens);
    if (facts.outputTokens !== null) span.setAttribute('gen_ai.usage.output_tokens', facts.outputTokens);
    if (facts.finishReasons !== null)
      span.setAttribute('gen_ai.response.finish_reasons', facts.finishReasons);
    span.end();
  }

  recordContent(span: Span, attribute: string, value: unknown): void {
    span.setAttribute(attribute, JSON.stringify(value));
  }

  run<T>(request: TracedRequest, pipeline: () => T): T {
    return this.#current.run(request, pipeline);
  }

  decorateHeaders(headers: UpstreamHeaders): UpstreamHeaders {
    const span = this.#current.getStore()?.attemptSpan as Span | null | undefined;
    if (span == null) return headers;
    const carrier: Record<string, string> = { ...headers };
    this.#propagator.inject(trace.setSpan(ROOT_CONTEXT, span), carrier, defaultTextMapSetter);
    return carrier;
  }

  async shutdown(): Promise<void> {
    await this.#provider.shutdown();
  }
}
