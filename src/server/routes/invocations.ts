import type { FastifyInstance, FastifyRequest } from 'fastify';
import { GatewayError } from '../../errors.js';
import type { EndpointTable } from '../endpoint-table.js';
import { dispatch, parseInvocation } from '../invoke.js';
import { methodNotAllowed } from './method-not-allowed.js';
import { redirectTo } from './redirect.js';

interface NameParams {
  name: string;
}

/**
 * POST /endpoints/{name}/invocations and its legacy twin /gateway/{name}/invocations. One
 * parametric route each, resolved against the current snapshot, so reloads need no
 * re-registration.
 */
export function registerInvocationRoutes(app: FastifyInstance, table: EndpointTable): void {
  const exists = (request: FastifyRequest) =>
    table.current.endpoints.has((request.params as NameParams).name);
  for (const prefix of ['/endpoints', '/gateway']) {
    const url = `${prefix}/:name/invocations`;
    app.post<{ Params: NameParams }>(url, async (request, reply) => {
      const endpoint = table.acquire(reply.raw).endpoints.get(request.params.name);
      if (!endpoint) throw new GatewayError(404, 'NOT_FOUND', 'Not Found');
      const invocation = parseInvocation(endpoint.type, request.body);
      return dispatch(endpoint, invocation, request, reply);
    });
    app.post<{ Params: NameParams }>(`${url}/`, (request, reply) => {
      if (!exists(request)) throw new GatewayError(404, 'NOT_FOUND', 'Not Found');
      return redirectTo(reply, request, `${prefix}/${encodeURIComponent(request.params.name)}/invocations`);
    });
    methodNotAllowed(app, url, 'POST', exists);
  }
}
