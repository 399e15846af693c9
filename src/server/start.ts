import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import type { FastifyBaseLogger, FastifyInstance, FastifyServerOptions } from 'fastify';
import { loadConfig, type GatewayConfig } from '../config/load.js';
import { ConfigWatcher, type ReloadFailure } from '../config/watch.js';
import { ProviderRegistry } from '../providers/registry.js';
import { PoolSet } from '../upstream/pool.js';
import { DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_TIMEOUT_SECONDS, Upstream } from '../upstream/request.js';
import { buildApp, REDACTED_HEADERS } from './app.js';
import { buildSnapshot, EndpointTable } from './endpoint-table.js';

export interface GatewayOptions {
  /** Upstream timeout (reference [D6]); default 300 s. */
  timeoutSeconds?: number;
  logger?: FastifyServerOptions['logger'];
  /** Rate-limit counters in Redis, shared by every process using it (LLMGW_REDIS_URL). */
  redisUrl?: string | undefined;
}

/** A built, not yet listening gateway and the pieces reload and shutdown need. */
export interface Gateway {
  app: FastifyInstance;
  table: EndpointTable;
  upstream: Upstream;
  pools: PoolSet;
  /**
   * Swaps in a new config: requests already running finish on the snapshot they read, the next
   * ones see the new one, and pools no endpoint uses any more close once the requests that were
   * in flight at the swap are done.
   */
  apply(config: GatewayConfig): void;
}

/** The production logger: JSON lines, request ids, credentials redacted. */
export function defaultLogger(level = process.env.LLMGW_LOG_LEVEL ?? 'info'): FastifyServerOptions['logger'] {
  return { level, redact: { paths: REDACTED_HEADERS, censor: '[redacted]' } };
}

/** The responses still open, so retired pools are closed only after them. */
function trackResponses(app: FastifyInstance): Set<ServerResponse> {
  const open = new Set<ServerResponse>();
  app.addHook('onRequest', (_request, reply, done) => {
    const raw = reply.raw;
    open.add(raw);
    raw.once('close', () => open.delete(raw));
    done();
  });
  return open;
}

/** Builds the app for a loaded config; the pools close with the app. */
export async function createGateway(config: GatewayConfig, options: GatewayOptions = {}): Promise<Gateway> {
  const pools = new PoolSet({ connectTimeoutMs: DEFAULT_CONNECT_TIMEOUT_MS });
  const upstream = new Upstream(pools, { timeoutSeconds: options.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS });
  const initial = pools.track(() => buildSnapshot(config, upstream));
  let origins = initial.origins;
  const table = new EndpointTable(initial.value);
  const app = await buildApp(table, { logger: options.logger ?? false, redisUrl: options.redisUrl });
  const open = trackResponses(app);
  // During close, a keep-alive connection whose last response has ended would stay open until
  // Fastify's keep-alive timeout (72 s); close each one as soon as it goes idle.
  app.addHook('preClose', (done) => {
    for (const response of open) {
      response.once('close', () => {
        setImmediate(() => {
          app.server.closeIdleConnections();
        });
      });
    }
    done();
  });
  app.addHook('onClose', async () => {
    await pools.close();
  });

  const retireUnusedPools = async (): Promise<void> => {
    await Promise.all([...open].map((response) => once(response, 'close').catch(() => undefined)));
    // The latest snapshot decides: an origin a later reload uses again stays open.
    await pools.retainOnly(origins);
  };
  const apply = (next: GatewayConfig): void => {
    const built = pools.track(() => buildSnapshot(next, upstream));
    origins = built.origins;
    table.swap(built.value);
    retireUnusedPools().catch((error: unknown) => {
      app.log.warn({ err: error }, 'closing unused upstream pools failed');
    });
  };
  return { app, table, upstream, pools, apply };
}

export interface StartOptions extends GatewayOptions {
  configPath: string;
  host: string;
  port: number;
  registry?: ProviderRegistry;
  /** Watch the config file and hot-reload it (default true). */
  watch?: boolean;
  reloadDebounceMs?: number;
}

export interface RunningGateway extends Gateway {
  url: string;
  /** Null when started with `watch: false`. */
  watcher: ConfigWatcher | null;
  close(): Promise<void>;
}

function describeEndpoints(config: GatewayConfig): string {
  const names = config.endpoints.map((endpoint) => endpoint.name);
  return `${names.length} endpoint(s)${names.length > 0 ? `: ${names.join(', ')}` : ''}`;
}

function logReloadFailure(log: FastifyBaseLogger, path: string, failure: ReloadFailure): void {
  for (const error of failure.errors) {
    const { endpoint, path: field, line, column } = error.location;
    const text =
      failure.reason === 'deleted' ? error.message : `Invalid configuration: ${error.format(path)}`;
    log.warn({ endpoint, field, line, column }, text);
  }
  log.warn('The running configuration keeps serving');
}

async function startWatcher(gateway: Gateway, config: GatewayConfig, options: StartOptions) {
  const log = gateway.app.log;
  const watcher = new ConfigWatcher({
    path: options.configPath,
    registry: options.registry ?? new ProviderRegistry(),
    appliedSource: config.source,
    apply: (next) => {
      gateway.apply(next);
    },
    debounceMs: options.reloadDebounceMs,
  });
  watcher.on('reloaded', (next) => {
    for (const warning of next.warnings) log.warn(warning);
    log.info(
      { endpoints: next.endpoints.map((endpoint) => endpoint.name) },
      `Configuration updated: serving ${describeEndpoints(next)}`,
    );
  });
  watcher.on('reload-failed', (failure) => {
    logReloadFailure(log, options.configPath, failure);
  });
  await watcher.start();
  return watcher;
}

/** Loads the config, builds the gateway, listens and watches. Config errors reject first. */
export async function startGateway(options: StartOptions): Promise<RunningGateway> {
  const config = await loadConfig(options.configPath, options.registry ?? new ProviderRegistry());
  const gateway = await createGateway(config, options);
  for (const warning of config.warnings) gateway.app.log.warn(warning);
  const watcher = options.watch === false ? null : await startWatcher(gateway, config, options);
  const url = await gateway.app.listen({ host: options.host, port: options.port });
  gateway.app.log.info(
    { url, endpoints: config.endpoints.map((endpoint) => endpoint.name) },
    `llmgw listening on ${url}, serving ${describeEndpoints(config)}`,
  );
  const close = async (): Promise<void> => {
    await Promise.all([gateway.app.close(), watcher?.close()]);
  };
  return { ...gateway, url, watcher, close };
}
