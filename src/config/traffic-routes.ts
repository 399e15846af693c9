import type { z } from 'zod';
import type { EndpointType } from '../schemas/endpoint-type.js';
import { DEFAULT_FALLBACK_STATUSES, trafficRouteSchema, type RoutingStrategy } from './schema.js';

/** One traffic route of a loaded config (reference §2.10.1), checked against its endpoints. */
export interface TrafficRouteConfig {
  name: string;
  taskType: EndpointType;
  strategy: RoutingStrategy;
  destinations: { name: string; trafficPercentage: number | null }[];
  /** FALLBACK: upstream statuses that move on to the next destination. */
  fallbackStatuses: readonly number[];
}

/** A problem in the `routes:` list, with its path below `routes`. */
export interface RouteProblem {
  path: (string | number)[];
  message: string;
  route?: string;
}

/** What the checks need of each endpoint that loaded. */
export interface EndpointFact {
  name: string;
  endpointType: EndpointType;
}

export const DUPLICATE_ROUTE_NAMES =
  'Duplicate names found in endpoint / route configurations. Please remove the duplicate endpoint / route name from the configuration to ensure that endpoints / routes are created properly.';

/**
 * Validates the `routes:` entries of a file whose routes are traffic routes, in MLflow's
 * order and words (reference §2.10.1). `names` are every endpoint name in the file (loaded or
 * not), so a broken endpoint is reported once, not again as an unknown destination.
 */
export function loadTrafficRoutes(
  entries: readonly unknown[],
  endpoints: readonly EndpointFact[],
  endpointNames: readonly unknown[],
): { routes: TrafficRouteConfig[]; problems: RouteProblem[] } {
  const problems: RouteProblem[] = [];
  const routes: TrafficRouteConfig[] = [];
  const parsed = entries.map((entry) => trafficRouteSchema.safeParse(entry));
  const seen = new Set<unknown>(endpointNames);
  for (const [index, entry] of entries.entries()) {
    const name = (entry as { name?: unknown } | null)?.name;
    if (name === undefined) continue;
    if (seen.has(name)) {
      problems.push({ path: [index, 'name'], message: DUPLICATE_ROUTE_NAMES });
      return { routes, problems };
    }
    seen.add(name);
  }
  const byName = new Map(endpoints.map((endpoint) => [endpoint.name, endpoint]));
  const known = new Set(endpointNames);
  for (const [index, result] of parsed.entries()) {
    if (!result.success) {
      for (const issue of result.error.issues) problems.push(issueProblem(index, issue));
      continue;
    }
    const route = checkRoute(result.data, index, byName, known, problems);
    if (route) routes.push(route);
  }
  return { routes, problems };
}

function issueProblem(index: number, issue: z.core.$ZodIssue): RouteProblem {
  const path = issue.path.filter((key) => typeof key !== 'symbol');
  const isCustom = issue.code === 'too_small' || issue.code === 'too_big' || issue.code === 'invalid_value';
  const message =
    isCustom && issue.message.startsWith('The ')
      ? issue.message
      : `The gateway configuration is invalid: ${issue.message}`;
  return { path: [index, ...path], message };
}

function checkRoute(
  route: z.infer<typeof trafficRouteSchema>,
  index: number,
  endpoints: ReadonlyMap<string, EndpointFact>,
  known: ReadonlySet<unknown>,
  problems: RouteProblem[],
): TrafficRouteConfig | null {
  const before = problems.length;
  const isSplit = route.routing_strategy === 'TRAFFIC_SPLIT';
  let sum = 0;
  for (const [position, destination] of route.destinations.entries()) {
    const path = [index, 'destinations', position];
    const endpoint = endpoints.get(destination.name);
    if (!endpoint) {
      // An endpoint that exists but failed to load has its own error already.
      if (!known.has(destination.name)) {
        problems.push({
          path: [...path, 'name'],
          route: route.name,
          message: `The route destination name must be a endpoint name, but the route '${route.name}' has an invalid destination name '${destination.name}'.`,
        });
      }
      continue;
    }
    if (endpoint.endpointType !== route.task_type) {
      problems.push({
        path: [...path, 'name'],
        route: route.name,
        message: `The route destination endpoint types in the route '${route.name}' must have endpoint type '${route.task_type}' but got endpoint type '${endpoint.endpointType}'.`,
      });
    }
    if (isSplit && destination.traffic_percentage === undefined) {
      problems.push({
        path: [...path, 'traffic_percentage'],
        route: route.name,
        message: `The route '${route.name}' uses TRAFFIC_SPLIT, so each destination needs a traffic_percentage.`,
      });
    }
    sum += destination.traffic_percentage ?? 0;
  }
  if (isSplit && problems.length === before && sum !== 100) {
    problems.push({
      path: [index, 'destinations'],
      route: route.name,
      message: `For each route configuration, the traffic percentage sum of destinations must be 100, but got invalid configuration of route '${route.name}'.`,
    });
  }
  if (problems.length > before) return null;
  return {
    name: route.name,
    taskType: route.task_type,
    strategy: route.routing_strategy,
    destinations: route.destinations.map((destination) => ({
      name: destination.name,
      trafficPercentage: destination.traffic_percentage ?? null,
    })),
    fallbackStatuses: route.fallback_on ?? DEFAULT_FALLBACK_STATUSES,
  };
}
