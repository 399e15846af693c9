import type { EndpointType } from '../schemas/endpoint-type.js';
import type { TrafficRouteView } from '../schemas/endpoints.js';
import type { TrafficRouteConfig } from '../config/traffic-routes.js';
import type { RoutingStrategy } from '../config/schema.js';
import type { Endpoint } from '../server/endpoint-table.js';
import { WeightedChoice } from './split.js';

/** A traffic route of a snapshot (reference §2.10.1, plus FALLBACK): built once per config load. */
export interface Route {
  readonly kind: 'route';
  readonly name: string;
  readonly type: EndpointType;
  readonly strategy: RoutingStrategy;
  /** In listed order: FALLBACK tries them in this order. */
  readonly destinations: readonly Endpoint[];
  /** TRAFFIC_SPLIT's pick; FALLBACK routes never read it. */
  readonly split: WeightedChoice<Endpoint>;
  /** FALLBACK: upstream statuses that move on to the next destination. */
  readonly fallbackStatuses: ReadonlySet<number>;
  /** `GET /api/3.0/gateway/route/{name}`: the route as configured. */
  readonly view: TrafficRouteView;
}

/** Builds a route over the snapshot's endpoints; the loader already checked every name. */
export function buildRoute(config: TrafficRouteConfig, endpoints: ReadonlyMap<string, Endpoint>): Route {
  const destinations = config.destinations.map((destination) => {
    const endpoint = endpoints.get(destination.name);
    if (!endpoint) throw new Error(`route '${config.name}' names unknown endpoint '${destination.name}'`);
    return { endpoint, weight: destination.trafficPercentage ?? 0 };
  });
  return {
    kind: 'route',
    name: config.name,
    type: config.taskType,
    strategy: config.strategy,
    destinations: destinations.map((destination) => destination.endpoint),
    split: new WeightedChoice(
      destinations.map((destination) => ({ value: destination.endpoint, weight: destination.weight })),
    ),
    fallbackStatuses: new Set(config.fallbackStatuses),
    view: {
      name: config.name,
      task_type: config.taskType,
      destinations: config.destinations.map((destination) => ({
        name: destination.name,
        traffic_percentage: destination.trafficPercentage,
      })),
      routing_strategy: config.strategy,
    },
  };
}
