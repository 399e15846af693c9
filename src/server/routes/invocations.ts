import type { FastifyInstance, FastifyRequest } from 'fastify';
import { GatewayError } from '../../errors.js';
import type { EndpointTable } from '../endpoint-table.js';
import { authorizeTarget, mayCall } from '../access-hook.js';
import { dispatch, parseInvocation } from '../invoke.js';
import { methodNotAllowed } from './method-not-allowed.js';
import { redirectTo } from './redirect.js';

interface NameParams {
  name: string;
}

/**
 * POST /endpoints/{name}/invocations and its legacy twin /gateway/{name}/invocations, for
 * endpoints and traffic routes alike. One
 * parametric route each, resolved against the current snapshot, so reloads need no
 * re-registration.
 */
export function registerInvocationRoutes(app: FastifyInstance, table: EndpointTable): void {
  const exists = (request: FastifyRequest) => {
    const name = (request.params as NameParams).name;
    // A name the caller's key may not call is answered as if it did not exist.
    return mayCall(request, name) && table.current.targets.has(name);
  };
  for (const prefix of ['/endpoints', '/gateway']) {
    const url = `${prefix}/:name/invocations`;
    app.post<{ Params: NameParams }>(url, async (request, reply) => {
      authorizeTarget(request, request.params.name);
      const snapshot = table.acquire(reply.raw);
      const target = snapshot.targets.get(request.params.name);
      if (!target) throw new GatewayError(404, 'NOT_FOUND', 'Not Found');
      const invocation = parseInvocation(target.type, request.body);
      return dispatch(snapshot, target, invocation, request, reply);
    });
    app.post<{ Params: NameParams }>(`${url}/`, (request, reply) => {
      authorizeTarget(request, request.params.name);
      if (!exists(request)) throw new GatewayError(404, 'NOT_FOUND', 'Not Found');
      return redirectTo(reply, request, `${prefix}/${encodeURIComponent(request.params.name)}/invocations`);
    });
    methodNotAllowed(app, url, 'POST', exists);
  }
}
