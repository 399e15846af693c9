import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { EndpointType } from '../schemas/endpoint-type.js';
import {
  FastCounter,
  FastGauge,
  FastHistogram,
  type CounterChild,
  type HistogramChild,
} from './instruments.js';

// Prometheus instruments. GenAI metrics keep their OpenTelemetry names as the OTel Prometheus
// exporter spells them (`gen_ai.client.token.usage` → `gen_ai_client_token_usage`); the
// gateway's own carry the `llmgw_` prefix. Every label value comes from the config or from a
// fixed set, never from a request, so series stay bounded.

/** What telemetry reads of an endpoint; `server/endpoint-table.ts`'s Endpoint fits it. */
export interface ObservedEndpoint {
  readonly name: string;
  readonly type: EndpointType;
  readonly config: { readonly providerName: string; readonly modelName: string | null };
}

/** The label value of a request that named no endpoint the snapshot knows. */
export const NO_ENDPOINT = '_none';

export type AttemptOutcome = 'success' | 'retryable' | 'final' | 'client_gone' | 'rate_limited';

/** OpenTelemetry GenAI `gen_ai.operation.name` for each endpoint type. */
export const OPERATION_NAMES = {
  'llm/v1/chat': 'chat',
  'llm/v1/completions': 'text_completion',
  'llm/v1/embeddings': 'embeddings',
} as const satisfies Record<EndpointType, string>;

/** OpenTelemetry GenAI `gen_ai.provider.name` well-known values, by gateway provider key. */
const GEN_AI_PROVIDER_NAMES: Readonly<Record<string, string>> = {
  openai: 'openai',
  azure: 'azure.ai.openai',
  azuread: 'azure.ai.openai',
  anthropic: 'anthropic',
  bedrock: 'aws.bedrock',
  'amazon-bedrock': 'aws.bedrock',
  cohere: 'cohere',
  mistral: 'mistral_ai',
  gemini: 'gcp.gemini',
  palm: 'gcp.gen_ai',
};

export function genAiProviderName(provider: string): string {
  return GEN_AI_PROVIDER_NAMES[provider] ?? provider;
}

/** GenAI semantic conventions: recommended buckets for operation durations (s) and tokens. */
const OPERATION_BUCKETS_SECONDS = [
  0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
];
const TOKEN_BUCKETS = [
  1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
];
/** The gateway's own time is sub-millisecond when healthy; the buckets resolve that. */
const OVERHEAD_BUCKETS_SECONDS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1,
];
const REQUEST_BUCKETS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

/** An endpoint's label children, resolved once per endpoint per snapshot. */
export interface EndpointInstruments {
  readonly name: string;
  readonly provider: string;
  /** `gen_ai.provider.name`: the convention's well-known value where there is one. */
  readonly genAiProvider: string;
  readonly model: string;
  readonly operation: string;
  readonly inputTokens: HistogramChild;
  readonly outputTokens: HistogramChild;
  readonly firstChunk: HistogramChild;
  readonly rateLimited: CounterChild;
  /** By route family, then status: filled as they occur (a handful per endpoint). */
  readonly requests: Map<string, Map<number, CounterChild>>;
  readonly durations: Map<string, { total: HistogramChild; overhead: HistogramChild }>;
  /** By the name called (route or endpoint), then outcome. */
  readonly attempts: Map<string, Map<AttemptOutcome, CounterChild>>;
  /** By `error.type` ('' for success). */
  readonly operationDurations: Map<string, HistogramChild>;
}

export class GatewayMetrics {
  readonly registry: Registry;
  readonly inFlight: FastGauge;
  readonly openStreams: FastGauge;
  readonly #requests: FastCounter;
  readonly #duration: FastHistogram;
  readonly #overhead: FastHistogram;
  readonly #operation: FastHistogram;
  readonly #firstChunk: FastHistogram;
  readonly #tokens: FastHistogram;
  readonly #rateLimited: FastCounter;
  readonly #attempts: FastCounter;
  readonly #fallbacks: FastCounter;
  readonly #reloads: Counter<'result'>;
  readonly #generation: Gauge;
  readonly #endpoints = new WeakMap<ObservedEndpoint, EndpointInstruments>();
  readonly #none: EndpointInstruments;

  constructor(options: { registry?: Registry; processMetrics?: boolean } = {}) {
    const registry = (this.registry = options.registry ?? new Registry());
    if (options.processMetrics !== false) collectDefaultMetrics({ register: registry });
    this.#requests = new FastCounter(
      registry,
      'llmgw_requests_total',
      'HTTP requests answered, by route family, endpoint, provider, model and status.',
    );
    this.#duration = new FastHistogram(
      registry,
      'llmgw_request_duration_seconds',
      'Whole request time; a stream counts until its last byte.',
      REQUEST_BUCKETS_SECONDS,
    );
    this.#overhead = new FastHistogram(
      registry,
      'llmgw_overhead_duration_seconds',
      "The gateway's own time: request time minus time waiting on upstreams (streams: to the first byte).",
      OVERHEAD_BUCKETS_SECONDS,
    );
    this.#operation = new FastHistogram(
      registry,
      'gen_ai_client_operation_duration_seconds',
      'GenAI client operation duration: one upstream attempt (streams: until the upstream accepted).',
      OPERATION_BUCKETS_SECONDS,
    );
    this.#firstChunk = new FastHistogram(
      registry,
      'llmgw_upstream_time_to_first_chunk_seconds',
      'Streams: from the upstream attempt start to its first chunk.',
      OPERATION_BUCKETS_SECONDS,
    );
    this.#tokens = new FastHistogram(
      registry,
      'gen_ai_client_token_usage',
      "GenAI tokens per request, as the upstream's usage reports them.",
      TOKEN_BUCKETS,
    );
    this.inFlight = new FastGauge(
      registry,
      'llmgw_requests_in_flight',
      'Requests received and not yet answered.',
    );
    this.openStreams = new FastGauge(registry, 'llmgw_streams_open', 'Streamed answers in progress.');
    this.#rateLimited = new FastCounter(
      registry,
      'llmgw_rate_limited_total',
      "Calls refused by an endpoint's limit.",
    );
    this.#attempts = new FastCounter(
      registry,
      'llmgw_route_attempts_total',
      'Upstream attempts by the name the client called (route or endpoint), destination and outcome.',
    );
    this.#fallbacks = new FastCounter(
      registry,
      'llmgw_route_fallbacks_total',
      'Attempts that moved on to another destination of a route, by the destination moved to.',
    );
    this.#reloads = new Counter({
      name: 'llmgw_config_reloads_total',
      help: 'Config reloads, by result (success, failure).',
      labelNames: ['result'],
      registers: [registry],
    });
    this.#generation = new Gauge({
      name: 'llmgw_config_generation',
      help: 'The serving config: 1 at start, plus one per applied reload (across workers: the lowest).',
      registers: [registry],
      aggregator: 'min',
    });
    this.#generation.set(1);
    this.#reloads.inc({ result: 'success' }, 0);
    this.#reloads.inc({ result: 'failure' }, 0);
    this.#none = this.#build(NO_ENDPOINT, '', '', '');
  }

  /** The label children of an endpoint of the serving snapshot, built on its first request. */
  endpoint(endpoint: ObservedEndpoint | null): EndpointInstruments {
    if (endpoint === null) return this.#none;
    let instruments = this.#endpoints.get(endpoint);
    if (instruments === undefined) {
      instruments = this.#build(
        endpoint.name,
        endpoint.config.providerName,
        endpoint.config.modelName ?? '',
        OPERATION_NAMES[endpoint.type],
      );
      this.#endpoints.set(endpoint, instruments);
    }
    return instruments;
  }

  #build(name: string, provider: string, model: string, operation: string): EndpointInstruments {
    const genAiProvider = genAiProviderName(provider);
    const tokens = (type: string) =>
      this.#tokens.child({
        gen_ai_operation_name: operation,
        gen_ai_provider_name: genAiProvider,
        gen_ai_request_model: model,
        gen_ai_token_type: type,
        endpoint: name,
      });
    return {
      name,
      provider,
      genAiProvider,
      model,
      operation,
      inputTokens: tokens('input'),
      outputTokens: tokens('output'),
      firstChunk: this.#firstChunk.child({ provider, model }),
      rateLimited: this.#rateLimited.child({ endpoint: name }),
      requests: new Map(),
      durations: new Map(),
      attempts: new Map(),
      operationDurations: new Map(),
    };
  }

  requestFinished(
    family: string,
    instruments: EndpointInstruments,
    status: number,
    durationSeconds: number,
    overheadSeconds: number,
  ): void {
    let byStatus = instruments.requests.get(family);
    if (byStatus === undefined)
      instruments.requests.set(family, (byStatus = new Map<number, CounterChild>()));
    let requests = byStatus.get(status);
    if (requests === undefined) {
      requests = this.#requests.child({
        route_family: family,
        endpoint: instruments.name,
        provider: instruments.provider,
        model: instruments.model,
        status: String(status),
      });
      byStatus.set(status, requests);
    }
    requests.inc();
    let durations = instruments.durations.get(family);
    if (durations === undefined) {
      const labels = { route_family: family, endpoint: instruments.name };
      durations = { total: this.#duration.child(labels), overhead: this.#overhead.child(labels) };
      instruments.durations.set(family, durations);
    }
    durations.total.observe(durationSeconds);
    durations.overhead.observe(overheadSeconds);
  }

  attemptFinished(
    route: string,
    instruments: EndpointInstruments,
    outcome: AttemptOutcome,
    seconds: number,
    errorType: string,
  ): void {
    let byOutcome = instruments.attempts.get(route);
    if (byOutcome === undefined) {
      instruments.attempts.set(route, (byOutcome = new Map<AttemptOutcome, CounterChild>()));
    }
    let attempts = byOutcome.get(outcome);
    if (attempts === undefined) {
      attempts = this.#attempts.child({
        route,
        endpoint: instruments.name,
        provider: instruments.provider,
        outcome,
      });
      byOutcome.set(outcome, attempts);
    }
    attempts.inc();
    if (outcome === 'rate_limited') {
      instruments.rateLimited.inc();
      return;
    }
    let duration = instruments.operationDurations.get(errorType);
    if (duration === undefined) {
      duration = this.#operation.child({
        gen_ai_operation_name: instruments.operation,
        gen_ai_provider_name: instruments.genAiProvider,
        gen_ai_request_model: instruments.model,
        error_type: errorType,
      });
      instruments.operationDurations.set(errorType, duration);
    }
    duration.observe(seconds);
  }

  /** Rare (a route moving on): the child is looked up, not cached. */
  fellBack(route: string, instruments: EndpointInstruments): void {
    this.#fallbacks.child({ route, endpoint: instruments.name }).inc();
  }

  reloaded(isSuccess: boolean): void {
    this.#reloads.inc({ result: isSuccess ? 'success' : 'failure' });
    if (isSuccess) this.#generation.inc();
  }
}
