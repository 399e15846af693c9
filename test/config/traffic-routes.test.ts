import { describe, expect, it } from 'vitest';
import { parseConfig, type GatewayConfig } from '../../src/config/load.js';
import { DUPLICATE_ROUTE_NAMES } from '../../src/config/traffic-routes.js';
import { ConfigErrors } from '../../src/errors.js';
import { ProviderRegistry } from '../../src/providers/registry.js';

function parse(yaml: string): GatewayConfig {
  return parseConfig(yaml, new ProviderRegistry(), 'test.yaml');
}

function errorsOf(yaml: string): string[] {
  try {
    parse(yaml);
  } catch (error) {
    if (error instanceof ConfigErrors)
      return error.errors.map((configError) => configError.format('test.yaml'));
    throw error;
  }
  throw new Error('the config loaded');
}

const ENDPOINTS = `endpoints:
  - name: chat-a
    endpoint_type: llm/v1/chat
    model: {provider: mock, config: {}}
  - name: chat-b
    endpoint_type: llm/v1/chat
    model: {provider: mock, config: {}}
  - name: embed
    endpoint_type: llm/v1/embeddings
    model: {provider: mock, config: {}}
`;

/** One route over `destinations` (YAML flow items), with optional extra route fields. */
function routeYaml(destinations: string, extra = '', name = 'chat-ab'): string {
  return `${ENDPOINTS}routes:\n  - name: ${name}\n    task_type: llm/v1/chat\n    destinations: [${destinations}]\n${extra}`;
}

describe('traffic routes (reference §2.10.1)', () => {
  it('loads a TRAFFIC_SPLIT route with its destinations and percentages', () => {
    const config = parse(
      routeYaml('{name: chat-a, traffic_percentage: 80}, {name: chat-b, traffic_percentage: 20}'),
    );
    expect(config.routes).toEqual([
      {
        name: 'chat-ab',
        taskType: 'llm/v1/chat',
        strategy: 'TRAFFIC_SPLIT',
        destinations: [
          { name: 'chat-a', trafficPercentage: 80 },
          { name: 'chat-b', trafficPercentage: 20 },
        ],
        fallbackStatuses: [429, 500, 502, 503, 504],
      },
    ]);
    expect(config.endpoints.map((endpoint) => endpoint.name)).toEqual(['chat-a', 'chat-b', 'embed']);
    expect(config.warnings).toEqual([]);
  });

  it('loads a FALLBACK route without percentages and with its own fallback statuses', () => {
    const config = parse(
      routeYaml(
        '{name: chat-a}, {name: chat-b}',
        '    routing_strategy: FALLBACK\n    fallback_on: [503, 529]\n',
      ),
    );
    expect(config.routes).toEqual([
      {
        name: 'chat-ab',
        taskType: 'llm/v1/chat',
        strategy: 'FALLBACK',
        destinations: [
          { name: 'chat-a', trafficPercentage: null },
          { name: 'chat-b', trafficPercentage: null },
        ],
        fallbackStatuses: [503, 529],
      },
    ]);
  });

  it.each([
    {
      rule: 'a route named like an endpoint',
      yaml: routeYaml('{name: chat-a, traffic_percentage: 100}', '', 'chat-a'),
      errors: [`test.yaml:12:11 at routes[0].name: ${DUPLICATE_ROUTE_NAMES}`],
    },
    {
      rule: 'an unknown destination',
      yaml: routeYaml('{name: chat-z, traffic_percentage: 100}'),
      errors: [
        "test.yaml:14:27 endpoint 'chat-ab' at routes[0].destinations[0].name: The route destination name must be a endpoint name, but the route 'chat-ab' has an invalid destination name 'chat-z'.",
      ],
    },
    {
      rule: 'a destination of another endpoint type',
      yaml: routeYaml('{name: embed, traffic_percentage: 100}'),
      errors: [
        "test.yaml:14:27 endpoint 'chat-ab' at routes[0].destinations[0].name: The route destination endpoint types in the route 'chat-ab' must have endpoint type 'llm/v1/chat' but got endpoint type 'llm/v1/embeddings'.",
      ],
    },
    {
      rule: 'a percentage above 100',
      yaml: routeYaml('{name: chat-a, traffic_percentage: 101}'),
      errors: [
        'test.yaml:14:55 at routes[0].destinations[0].traffic_percentage: The route destination traffic percentage must between 0 and 100.',
      ],
    },
    {
      rule: 'a negative percentage',
      yaml: routeYaml('{name: chat-a, traffic_percentage: -1}, {name: chat-b, traffic_percentage: 101}'),
      errors: [
        'test.yaml:14:55 at routes[0].destinations[0].traffic_percentage: The route destination traffic percentage must between 0 and 100.',
        'test.yaml:14:95 at routes[0].destinations[1].traffic_percentage: The route destination traffic percentage must between 0 and 100.',
      ],
    },
    {
      rule: 'percentages that do not sum to 100',
      yaml: routeYaml('{name: chat-a, traffic_percentage: 50}, {name: chat-b, traffic_percentage: 40}'),
      errors: [
        "test.yaml:14:19 endpoint 'chat-ab' at routes[0].destinations: For each route configuration, the traffic percentage sum of destinations must be 100, but got invalid configuration of route 'chat-ab'.",
      ],
    },
    {
      rule: 'a TRAFFIC_SPLIT destination without a percentage',
      yaml: routeYaml('{name: chat-a, traffic_percentage: 100}, {name: chat-b}'),
      errors: [
        "test.yaml:14:61 endpoint 'chat-ab' at routes[0].destinations[1].traffic_percentage: The route 'chat-ab' uses TRAFFIC_SPLIT, so each destination needs a traffic_percentage.",
      ],
    },
    {
      rule: 'a traffic-route list without endpoints',
      yaml: 'routes:\n  - name: r\n    task_type: llm/v1/chat\n    destinations: [{name: a, traffic_percentage: 100}]\n',
      errors: ['test.yaml:1:1 at endpoints: The gateway configuration is invalid: endpoints: Field required'],
    },
    {
      rule: 'a routes list mixing traffic routes and legacy endpoints',
      yaml: `${ENDPOINTS}routes:\n  - name: r\n    task_type: llm/v1/chat\n    destinations: [{name: chat-a, traffic_percentage: 100}]\n  - name: legacy\n    route_type: llm/v1/chat\n    model: {provider: mock, config: {}}\n`,
      errors: [
        'test.yaml:12:3 at routes: The `routes` list mixes traffic routes (with `destinations`) and legacy endpoints.',
      ],
    },
  ])('rejects $rule', ({ yaml, errors }) => {
    expect(errorsOf(yaml)).toEqual(errors);
  });

  it('reads a routes list with no destinations as the legacy endpoint list', () => {
    const config = parse(
      'routes:\n  - name: chat\n    route_type: llm/v1/chat\n    model: {provider: mock, config: {}}\n',
    );
    expect(config.endpoints.map((endpoint) => endpoint.name)).toEqual(['chat']);
    expect(config.routes).toEqual([]);
  });

  it('reads retry and timeout_seconds of an endpoint, with the retry defaults', () => {
    const config = parse(
      `${ENDPOINTS.split('\n').slice(0, 4).join('\n')}\n    retry: {attempts: 3}\n    timeout_seconds: 2.5\n`,
    );
    expect(config.endpoints.map(({ retry, timeoutSeconds }) => ({ retry, timeoutSeconds }))).toEqual([
      {
        retry: { attempts: 3, backoffMs: 250, maxBackoffMs: 5000, maxRetryAfterMs: 30_000 },
        timeoutSeconds: 2.5,
      },
    ]);
  });

  it('leaves retry and timeout_seconds off by default', () => {
    const config = parse(ENDPOINTS);
    expect(config.endpoints.map(({ retry, timeoutSeconds }) => ({ retry, timeoutSeconds }))).toEqual([
      { retry: null, timeoutSeconds: null },
      { retry: null, timeoutSeconds: null },
      { retry: null, timeoutSeconds: null },
    ]);
  });
});
