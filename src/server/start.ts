import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import { loadConfig, type GatewayConfig } from '../config/load.js';
import { ProviderRegistry } from '../providers/registry.js';
import { PoolSet } from '../upstream/pool.js';
import { DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_TIMEOUT_SECONDS, Upstream } from '../upstream/request.js';
import { buildApp, REDACTED_HEADERS } from './app.js';
import { buildSnapshot, EndpointTable } from './endpoint-table.js';

export interface GatewayOptions {
  /** Upstream timeout (reference [D6]); default 300 s. */
  timeoutSeconds?: number;
  logger?: FastifyServerOptions['logger'];
}

/** A built, not yet listening gateway and the pieces reload and shutdown need. */
export interface Gateway {
  app: FastifyInstance;
  table: EndpointTable;
  upstream: Upstream;
  pools: PoolSet;
}

/** The production logger: JSON lines, request ids, credentials redacted. */
export function defaultLogger(level = process.env.LLMGW_LOG_LEVEL ?? 'info'): FastifyServerOptions['logger'] {
  return { level, redact: { paths: REDACTED_HEADERS, censor: '[redacted]' } };
}

/** Builds the app for a loaded config; the pools close with the app. */
export async function createGateway(config: GatewayConfig, options: GatewayOptions = {}): Promise<Gateway> {
  const pools = new PoolSet({ connectTimeoutMs: DEFAULT_CONNECT_TIMEOUT_MS });
  const upstream = new Upstream(pools, { timeoutSeconds: options.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS });
  const table = new EndpointTable(buildSnapshot(config, upstream));
  const app = await buildApp(table, { logger: options.logger ?? false });
  app.addHook('onClose', async () => {
    await pools.close();
  });
  return { app, table, upstream, pools };
}

export interface StartOptions extends GatewayOptions {
  configPath: string;
  host: string;
  port: number;
  registry?: ProviderRegistry;
}

export interface RunningGateway extends Gateway {
  url: string;
  close(): Promise<void>;
}

/** Loads the config, builds the gateway and listens. Config errors reject before listening. */
export async function startGateway(options: StartOptions): Promise<RunningGateway> {
  const config = await loadConfig(options.configPath, options.registry ?? new ProviderRegistry());
  const gateway = await createGateway(config, options);
  for (const warning of config.warnings) gateway.app.log.warn(warning);
  const url = await gateway.app.listen({ host: options.host, port: options.port });
  const names = config.endpoints.map((endpoint) => endpoint.name);
  gateway.app.log.info(
    { url, endpoints: names },
    `llmgw listening on ${url}, serving ${names.length} endpoint(s)${names.length > 0 ? `: ${names.join(', ')}` : ''}`,
  );
  return { ...gateway, url, close: () => gateway.app.close() };
}
