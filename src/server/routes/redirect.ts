import type { FastifyReply, FastifyRequest } from 'fastify';

/** 307 to the same path with or without its trailing slash, keeping the query. */
export function redirectTo(reply: FastifyReply, request: FastifyRequest, path: string): FastifyReply {
  const query = request.url.indexOf('?');
  return reply.redirect(query >= 0 ? `${path}${request.url.slice(query)}` : path, 307);
}
