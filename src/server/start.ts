import type { FastifyBaseLogger, FastifyInstance, FastifyServerOptions } from 'fastify';
import { pino } from 'pino';
import { loadConfig, type GatewayConfig } from '../config/load.js';
import { ConfigWatcher, type ReloadFailure } from '../config/watch.js';
import type { ProviderSource } from '../config/plugins.js';
import { PoolSet } from '../upstream/pool.js';
import { DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_TIMEOUT_SECONDS, Upstream } from '../upstream/request.js';
import { createTelemetry, type Telemetry, type TelemetryOptions } from '../telemetry/telemetry.js';
import { describeAccess } from './access-hook.js';
import { buildApp, REDACTED_HEADERS, type AppOptions } from './app.js';
import { buildSnapshot, EndpointTable, type Snapshot } from './endpoint-table.js';

export interface GatewayOptions {
  /** Upstream timeout (reference [D6]); default 300 s. */
  timeoutSeconds?: number;
  logger?: FastifyServerOptions['logger'];
  /** Rate-limit counters in Redis, shared by every process using it (LLMGW_REDIS_URL). */
  redisUrl?: string | undefined;
  /** Without Redis, where rate-limit counters live (a cluster worker: its primary). */
  counterStore?: AppOptions['counterStore'];
  /** Metrics on/off and port, cluster aggregation; traces come from OTEL_* in the environment. */
  telemetry?: TelemetryOptions;
}

/** A built, not yet listening gateway and the pieces reload and shutdown need. */
export interface Gateway {
  app: FastifyInstance;
  table: EndpointTable;
  upstream: Upstream;
  pools: PoolSet;
  telemetry: Telemetry;
  /**
   * Swaps in a new config: requests already running finish on the snapshot they acquired, the
   * next ones see the new one, and a pool closes once no snapshot that uses its origin is
   * serving or still running a request.
   */
  apply(config: GatewayConfig): void;
}

/**
 * Log lines gathered before one write to stdout, and the longest a line waits when traffic is
 * light. Each write holds whole lines and at most 1,365 UTF-16 units, so at most 4,095 bytes:
 * under PIPE_BUF, a write to a pipe is atomic, and the workers sharing one stdout never
 * interleave their lines.
 */
const LOG_BUFFER_CHARS = 1024;
const LOG_WRITE_MAX_CHARS = 1365;
const LOG_FLUSH_INTERVAL_MS = 250;

/**
 * The production logger: JSON lines, request ids, credentials redacted. Lines are gathered and
 * written a few at a time, at least every 250 ms, instead of one `write` system call per
 * access-log line. The writes stay synchronous: a slow reader of stdout slows the gateway down
 * as it did before, rather than lines piling up in memory. What is left is written when the
 * process exits (a SIGKILL loses at most the last quarter second).
 */
export function defaultLogger(level = process.env.LLMGW_LOG_LEVEL ?? 'info'): FastifyServerOptions['logger'] {
  return { level, stream: logDestination(1), redact: { paths: REDACTED_HEADERS, censor: '[redacted]' } };
}

/** The batched, synchronous destination of `defaultLogger`, on any file descriptor. */
export function logDestination(fd: number): ReturnType<typeof pino.destination> {
  const stream = pino.destination({
    dest: fd,
    sync: true,
    minLength: LOG_BUFFER_CHARS,
    maxWrite: LOG_WRITE_MAX_CHARS,
    periodicFlush: LOG_FLUSH_INTERVAL_MS,
  });
  // pino flushes only asynchronous destinations at exit; this one holds up to a buffer's worth.
  process.once('exit', () => {
    try {
      stream.flushSync();
    } catch {
      // stdout is gone (a closed pipe): the lines have nowhere to go.
    }
  });
  return stream;
}

/** While closing, how often connections whose last response has ended are closed. */
const CLOSE_IDLE_INTERVAL_MS = 50;

/**
 * During close, a keep-alive connection whose response ends after close began would stay open
 * until Fastify's keep-alive timeout (72 s); close such connections as they go idle. Polling
 * during shutdown costs nothing per request, unlike a listener on every response.
 */
function closeConnectionsAsTheyIdle(app: FastifyInstance): void {
  let timer: NodeJS.Timeout | undefined;
  app.addHook('preClose', (done) => {
    timer = setInterval(() => {
      app.server.closeIdleConnections();
    }, CLOSE_IDLE_INTERVAL_MS).unref();
    done();
  });
  app.addHook('onClose', (_instance, done) => {
    clearInterval(timer);
    done();
  });
}

/** Adapters that hold their own clients (Bedrock's SDK client) release them with their snapshot. */
async function closeAdapters(snapshot: Snapshot, log: FastifyBaseLogger): Promise<void> {
  const results = await Promise.allSettled(snapshot.list.map(async (endpoint) => endpoint.adapter.close()));
  for (const result of results) {
    if (result.status === 'rejected') log.warn({ err: result.reason }, 'closing a retired adapter failed');
  }
}

/** Builds the app for a loaded config; the pools close with the app. */
export async function createGateway(config: GatewayConfig, options: GatewayOptions = {}): Promise<Gateway> {
  const pools = new PoolSet({ connectTimeoutMs: DEFAULT_CONNECT_TIMEOUT_MS });
  const telemetry = await createTelemetry(options.telemetry);
  const tracing = telemetry.tracing;
  const upstream = new Upstream(pools, {
    timeoutSeconds: options.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS,
    decorateHeaders: tracing === null ? undefined : (headers) => tracing.decorateHeaders(headers),
  });
  // A snapshot holds its pools until it is replaced and its last request has closed.
  const build = (next: GatewayConfig) => {
    const built = pools.track(() => buildSnapshot(next, upstream));
    const retire = (): void => {
      void closeAdapters(built.value, app.log);
      pools.release(built.origins).catch((error: unknown) => {
        app.log.warn({ err: error }, 'closing unused upstream pools failed');
      });
    };
    return { snapshot: built.value, retire };
  };
  const initial = build(config);
  const table = new EndpointTable(initial.snapshot, initial.retire);
  const app = await buildApp(table, {
    logger: options.logger ?? false,
    redisUrl: options.redisUrl,
    counterStore: options.counterStore,
    telemetry,
  });
  closeConnectionsAsTheyIdle(app);
  app.addHook('onClose', () => telemetry.close());
  app.addHook('onClose', async () => {
    await Promise.all([pools.close(), closeAdapters(table.current, app.log)]);
  });
  const apply = (next: GatewayConfig): void => {
    const { snapshot, retire } = build(next);
    table.swap(snapshot, retire);
  };
  return { app, table, upstream, pools, telemetry, apply };
}

export interface StartOptions extends GatewayOptions {
  configPath: string;
  host: string;
  port: number;
  /** Resolves `provider:` names at start and at every reload; plugins registered on it count. */
  registry: ProviderSource;
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
    registry: options.registry,
    appliedDigest: config.digest,
    apply: (next) => {
      gateway.apply(next);
    },
    debounceMs: options.reloadDebounceMs,
  });
  watcher.on('reloaded', (next) => {
    gateway.telemetry.metrics?.reloaded(true);
    for (const warning of next.warnings) log.warn(warning);
    log.info(
      { endpoints: next.endpoints.map((endpoint) => endpoint.name) },
      `Configuration updated: serving ${describeEndpoints(next)}`,
    );
  });
  watcher.on('reload-failed', (failure) => {
    gateway.telemetry.metrics?.reloaded(false);
    logReloadFailure(log, options.configPath, failure);
  });
  watcher.on('watch-error', (error) => {
    log.error({ err: error }, 'A config reload step failed; the watcher keeps watching');
  });
  // Resolves after checking the file once more, so a change since `config` was read is in force.
  await watcher.start();
  return watcher;
}

/** Loads the config, builds the gateway, listens and watches. Config errors reject first. */
export async function startGateway(options: StartOptions): Promise<RunningGateway> {
  const config = await loadConfig(options.configPath, options.registry);
  const gateway = await createGateway(config, options);
  for (const warning of config.warnings) gateway.app.log.warn(warning);
  const watcher = options.watch === false ? null : await startWatcher(gateway, config, options);
  const url = await gateway.app.listen({ host: options.host, port: options.port });
  const serving = gateway.table.current.config;
  gateway.app.log.info(
    { url, endpoints: serving.endpoints.map((endpoint) => endpoint.name) },
    `llmgw listening on ${url}, serving ${describeEndpoints(serving)}`,
  );
  if ((serving.access?.clients.length ?? 0) === 0) gateway.app.log.warn(describeAccess(serving));
  else gateway.app.log.info(describeAccess(serving));
  const close = async (): Promise<void> => {
    await Promise.all([gateway.app.close(), watcher?.close()]);
  };
  return { ...gateway, url, watcher, close };
}
