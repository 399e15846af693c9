import type { FastifyInstance } from 'fastify';
import { methodNotAllowed } from './method-not-allowed.js';
import { redirectTo } from './redirect.js';

const HEALTHY = { status: 'OK' } as const;

export function registerHealthRoutes(app: FastifyInstance): void {
  app.get('/health', () => HEALTHY);
  app.get('/health/', (request, reply) => redirectTo(reply, request, '/health'));
  methodNotAllowed(app, '/health', 'GET');
  app.get('/', (_request, reply) => reply.redirect('/docs', 307));
}
