import type { FastifyInstance, FastifyReply, FastifyRequest, HTTPMethods } from 'fastify';
import { GatewayError } from '../../errors.js';
import { sendError } from '../errors.js';

const METHODS: HTTPMethods[] = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'];

/**
 * Answers 405 with an `Allow` header for the methods a path does not serve (reference §4.1).
 * `exists` lets a parametric path answer 404 for a name that is not configured.
 */
export function methodNotAllowed(
  app: FastifyInstance,
  url: string,
  allowed: HTTPMethods,
  exists: (request: FastifyRequest) => boolean = () => true,
): void {
  app.route({
    method: METHODS.filter((method) => method !== allowed && !(allowed === 'GET' && method === 'HEAD')),
    url,
    handler: (request: FastifyRequest, reply: FastifyReply) => {
      if (!exists(request)) return sendError(new GatewayError(404, 'NOT_FOUND', 'Not Found'), request, reply);
      void reply.header('allow', allowed);
      return sendError(new GatewayError(405, 'METHOD_NOT_ALLOWED', 'Method Not Allowed'), request, reply);
    },
  });
}
