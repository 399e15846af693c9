import type { EndpointConfig, GatewayConfig } from '../config/load.js';
import type { ProviderAdapter } from '../providers/base.js';
import type { EndpointType } from '../schemas/endpoint-type.js';
import type { EndpointView, RouteView } from '../schemas/endpoints.js';
import type { Upstream } from '../upstream/request.js';
import { buildOpenApiDocument, type OpenApiDocument } from './openapi.js';
import { planLimit, type LimitPlan } from './rate-limit.js';

/** One endpoint of a snapshot: its adapter and everything routes read, built once. */
export interface Endpoint {
  readonly name: string;
  readonly type: EndpointType;
  readonly config: EndpointConfig;
  readonly adapter: ProviderAdapter;
  /** The rate limit, resolved at load; null when the endpoint has no `limit`. */
  readonly limit: LimitPlan | null;
  readonly view: EndpointView;
  readonly routeView: RouteView;
}

/** An immutable config snapshot. A request reads `table.current` once and keeps it. */
export interface Snapshot {
  readonly endpoints: ReadonlyMap<string, Endpoint>;
  readonly list: readonly Endpoint[];
  readonly openapi: OpenApiDocument;
  readonly config: GatewayConfig;
}

function limitView(config: EndpointConfig): EndpointView['limit'] {
  const limit = config.limit;
  return limit ? { calls: limit.calls, key: limit.key, renewal_period: limit.renewalPeriod } : null;
}

function buildEndpoint(config: EndpointConfig, upstream: Upstream): Endpoint {
  // Sound: `config.config` was parsed by this same class's configSchema (config/load.ts).
  const adapter = new config.providerClass({
    endpointName: config.name,
    endpointType: config.endpointType,
    modelName: config.modelName,
    config: config.config as never,
    upstream,
  });
  const model = { name: config.modelName, provider: config.providerName };
  const url = `/gateway/${config.name}/invocations`;
  const limit = limitView(config);
  return {
    name: config.name,
    type: config.endpointType,
    config,
    adapter,
    limit: planLimit(config.name, config.limit),
    view: { name: config.name, endpoint_type: config.endpointType, model, endpoint_url: url, limit },
    routeView: { name: config.name, route_type: config.endpointType, model, route_url: url, limit },
  };
}

/** Builds adapters, views and the OpenAPI document for a loaded config. */
export function buildSnapshot(config: GatewayConfig, upstream: Upstream): Snapshot {
  const list = config.endpoints.map((endpoint) => buildEndpoint(endpoint, upstream));
  return {
    endpoints: new Map(list.map((endpoint) => [endpoint.name, endpoint])),
    list,
    openapi: buildOpenApiDocument(list),
    config,
  };
}

/**
 * Holds the current snapshot; a reload swaps it whole. A request that already read `current`
 * keeps that snapshot to its end, so it never sees half of an old and half of a new config.
 */
export class EndpointTable {
  #current: Snapshot;

  constructor(initial: Snapshot) {
    this.#current = initial;
  }

  get current(): Snapshot {
    return this.#current;
  }

  swap(next: Snapshot): Snapshot {
    const previous = this.#current;
    this.#current = next;
    return previous;
  }
}
