import type { FastifyInstance } from 'fastify';
import { readClientUsage } from '../../access/client-limits.js';
import { GatewayError } from '../../errors.js';
import { counterStoreOf } from '../access-hook.js';
import { methodNotAllowed } from './method-not-allowed.js';

export const USAGE_PATH = '/api/2.0/llmgw/usage';

/**
 * GET /api/2.0/llmgw/usage: the calling client's own windows (calls, tokens, USD), read-only.
 * The key is the only input, so a client can see no one else's usage.
 */
export function registerUsageRoute(app: FastifyInstance): void {
  app.get(USAGE_PATH, async (request) => {
    const client = request.llmgwClient;
    if (!client) {
      throw new GatewayError(404, 'NOT_FOUND', 'No clients are configured, so there is no per-client usage.');
    }
    return readClientUsage(counterStoreOf(request), client);
  });
  methodNotAllowed(app, USAGE_PATH, 'GET');
}
