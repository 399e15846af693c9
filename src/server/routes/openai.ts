import type { FastifyInstance } from 'fastify';
import { EndpointNotFoundError, InvalidRequestError } from '../../errors.js';
import type { EndpointType } from '../../schemas/endpoint-type.js';
import type { EndpointTable } from '../endpoint-table.js';
import { authorizeTarget } from '../access-hook.js';
import { dispatch, parseInvocation, type Invocation } from '../invoke.js';
import { methodNotAllowed } from './method-not-allowed.js';

const ROUTES: readonly { url: string; type: EndpointType; noun: string }[] = [
  { url: '/v1/chat/completions', type: 'llm/v1/chat', noun: 'a chat' },
  { url: '/v1/completions', type: 'llm/v1/completions', noun: 'a completions' },
  { url: '/v1/embeddings', type: 'llm/v1/embeddings', noun: 'an embeddings' },
];

/**
 * The invocation without its `model` (the endpoint's name, not the upstream's), as a new object:
 * `delete` would leave the body in V8's slow dictionary mode for every later copy and encoding.
 */
function withoutModel(invocation: Invocation): Invocation {
  switch (invocation.type) {
    case 'llm/v1/chat': {
      const { model: _model, ...request } = invocation.request;
      return { type: invocation.type, request };
    }
    case 'llm/v1/completions': {
      const { model: _model, ...request } = invocation.request;
      return { type: invocation.type, request };
    }
    case 'llm/v1/embeddings': {
      const { model: _model, ...request } = invocation.request;
      return { type: invocation.type, request };
    }
  }
}

/**
 * OpenAI-compatible routes (reference §4.8): `model` names the endpoint or traffic route. The body is validated
 * first, then the endpoint is looked up and its type checked; `model` is removed before the
 * adapter sees the request.
 */
export function registerOpenAiRoutes(app: FastifyInstance, table: EndpointTable): void {
  for (const route of ROUTES) {
    app.post(route.url, async (request, reply) => {
      const invocation = parseInvocation(route.type, request.body);
      const name = invocation.request.model;
      if (name !== undefined) authorizeTarget(request, name);
      const snapshot = table.acquire(reply.raw);
      const endpoint = name === undefined ? undefined : snapshot.targets.get(name);
      if (!endpoint)
        throw new EndpointNotFoundError(`Route ${name ?? 'None'} not found in the configuration.`, 400);
      if (endpoint.type !== route.type) {
        throw new InvalidRequestError(
          400,
          `Endpoint '${endpoint.name}' is not ${route.noun} endpoint.`,
          'model',
        );
      }
      return dispatch(snapshot, endpoint, withoutModel(invocation), request, reply, {
        endStreamWithDone: true,
      });
    });
    methodNotAllowed(app, route.url, 'POST');
  }
}
