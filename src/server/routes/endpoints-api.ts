import type { FastifyInstance } from 'fastify';
import { EndpointNotFoundError, InvalidRequestError } from '../../errors.js';
import { setLimitsRequestSchema } from '../../schemas/endpoints.js';
import { GatewayError } from '../../errors.js';
import type { Endpoint, EndpointTable } from '../endpoint-table.js';
import { parseBody } from '../validation.js';
import { authorizeTarget, visibleTo } from '../access-hook.js';
import { methodNotAllowed } from './method-not-allowed.js';
import { redirectTo } from './redirect.js';

/** Reference §4.4: MLFLOW_DEPLOYMENTS_LIST_ENDPOINTS_PAGE_SIZE. */
export const PAGE_SIZE = 3000;

/** `{"index": n}` as Python writes it, base64 with padding. */
export function encodePageToken(index: number): string {
  return Buffer.from(`{"index": ${index}}`).toString('base64');
}

/** Reference §4.4 and [D5]: an invalid token is a 400 naming it. */
export function decodePageToken(token: string): number {
  const invalid = (reason: string) =>
    new InvalidRequestError(400, `Invalid SearchRoutes token: ${token}. ${reason}`, 'page_token');
  let index: unknown;
  try {
    const decoded: unknown = JSON.parse(Buffer.from(token, 'base64').toString('utf8'));
    index =
      typeof decoded === 'object' && decoded !== null
        ? (decoded as Record<string, unknown>).index
        : undefined;
  } catch {
    index = undefined;
  }
  const number = typeof index === 'string' && index.trim() !== '' ? Number(index) : index;
  if (typeof number !== 'number' || !Number.isFinite(number)) {
    throw invalid('The index is not defined as a value that can be represented as a positive integer.');
  }
  const integer = Math.trunc(number);
  if (integer < 0) throw invalid('The index cannot be negative.');
  return integer;
}

function page<T>(list: readonly Endpoint[], token: string | undefined, view: (endpoint: Endpoint) => T) {
  const start = token === undefined ? 0 : decodePageToken(token);
  const end = start + PAGE_SIZE;
  return {
    items: list.slice(start, end).map(view),
    next_page_token: end < list.length ? encodePageToken(end) : null,
  };
}

interface ListQuery {
  page_token?: string;
}

const GET_LIMITS_UNAVAILABLE = 'The get_limits API is not available yet.';
const SET_LIMITS_UNAVAILABLE = 'The set_limits API is not available yet.';

/** /api/2.0/endpoints (reference §4.4–4.6) and the legacy /api/2.0/gateway routes (§4.9). */
export function registerEndpointsApiRoutes(app: FastifyInstance, table: EndpointTable): void {
  app.get<{ Querystring: ListQuery }>('/api/2.0/endpoints/', (request) => {
    const { items, next_page_token } = page(
      visibleTo(request, table.current.list),
      request.query.page_token,
      (endpoint) => endpoint.view,
    );
    return { endpoints: items, next_page_token };
  });
  app.get<{ Params: { name: string } }>('/api/2.0/endpoints/:name', (request) => {
    authorizeTarget(request, request.params.name);
    const endpoint = table.current.endpoints.get(request.params.name);
    if (!endpoint) {
      throw new EndpointNotFoundError(
        `The endpoint '${request.params.name}' is not present or active on the server. Please verify the endpoint name.`,
      );
    }
    return endpoint.view;
  });

  app.get<{ Querystring: ListQuery }>('/api/2.0/gateway/routes/', (request) => {
    const { items, next_page_token } = page(
      visibleTo(request, table.current.list),
      request.query.page_token,
      (endpoint) => endpoint.routeView,
    );
    return { routes: items, next_page_token };
  });
  app.get<{ Params: { name: string } }>('/api/2.0/gateway/routes/:name', (request) => {
    authorizeTarget(request, request.params.name);
    const endpoint = table.current.endpoints.get(request.params.name);
    if (!endpoint) {
      throw new EndpointNotFoundError(
        `The route '${request.params.name}' is not present or active on the server. Please verify the route name.`,
      );
    }
    return endpoint.routeView;
  });

  for (const base of ['/api/2.0/endpoints', '/api/2.0/gateway/routes']) {
    app.get(base, (request, reply) => redirectTo(reply, request, `${base}/`));
    app.get<{ Params: { name: string } }>(`${base}/:name/`, (request, reply) =>
      redirectTo(reply, request, `${base}/${encodeURIComponent(request.params.name)}`),
    );
    methodNotAllowed(app, `${base}/`, 'GET');
    methodNotAllowed(app, `${base}/:name`, 'GET');
  }

  registerGatewayApiRoutes(app, table);

  for (const base of ['/api/2.0/endpoints/limits', '/api/2.0/gateway/limits']) {
    app.get(`${base}/:endpoint`, () => {
      throw new GatewayError(501, 'UNSUPPORTED_OPERATION', GET_LIMITS_UNAVAILABLE);
    });
    app.post(`${base}/`, (request) => {
      parseBody(setLimitsRequestSchema, request.body);
      throw new GatewayError(501, 'UNSUPPORTED_OPERATION', SET_LIMITS_UNAVAILABLE);
    });
  }
}

/** Reference §2.10.1: era D's /api/3.0 lookups; routes appear nowhere in /api/2.0. */
function registerGatewayApiRoutes(app: FastifyInstance, table: EndpointTable): void {
  app.get<{ Params: { name: string } }>('/api/3.0/gateway/route/:name', (request) => {
    authorizeTarget(request, request.params.name);
    const route = table.current.routes.get(request.params.name);
    if (!route) {
      throw new EndpointNotFoundError(
        `The route '${request.params.name}' is not present or active on the server. Please verify the route name.`,
      );
    }
    return route.view;
  });
  app.get<{ Params: { name: string } }>('/api/3.0/gateway/endpoint/:name', (request) => {
    authorizeTarget(request, request.params.name);
    const endpoint = table.current.endpoints.get(request.params.name);
    if (!endpoint) {
      throw new EndpointNotFoundError(
        `The endpoint '${request.params.name}' is not present or active on the server. Please verify the endpoint name.`,
      );
    }
    return endpoint.view;
  });
  methodNotAllowed(app, '/api/3.0/gateway/route/:name', 'GET');
  methodNotAllowed(app, '/api/3.0/gateway/endpoint/:name', 'GET');
}
