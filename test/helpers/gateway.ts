import type { FastifyInstance } from 'fastify';
import { parseConfig } from '../../src/config/load.js';
import { ProviderRegistry } from '../../src/providers/registry.js';
import { createGateway, type Gateway } from '../../src/server/start.js';

export interface TestGateway extends Gateway {
  app: FastifyInstance;
  /** e.g. http://127.0.0.1:41234 */
  url: string;
  close(): Promise<void>;
}

/** Builds the real gateway from YAML text and listens on 127.0.0.1, port 0. */
export async function startTestGateway(
  yaml: string,
  options: { timeoutSeconds?: number } = {},
): Promise<TestGateway> {
  const config = parseConfig(yaml, new ProviderRegistry(), 'test.yaml');
  const gateway = await createGateway(config, { timeoutSeconds: options.timeoutSeconds ?? 5 });
  const url = await gateway.app.listen({ host: '127.0.0.1', port: 0 });
  return { ...gateway, url, close: () => gateway.app.close() };
}
