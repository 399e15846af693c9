#!/usr/bin/env node
import cluster from 'node:cluster';
import { Command, InvalidArgumentError } from 'commander';
import { ClusterCounterStore } from './access/cluster-counter-store.js';
import { newClientKey } from './access/keys.js';
import { loadConfig } from './config/load.js';
import { ConfigErrors } from './errors.js';
import { PLUGINS_ENV, PluginProviderSource } from './config/plugins.js';
import { PluginLoader } from './providers/plugins.js';
import { DEFAULT_WORKERS, runPrimary } from './server/cluster.js';
import { DEFAULT_SHUTDOWN_GRACE_SECONDS, installShutdown } from './server/shutdown.js';
import { defaultLogger, startGateway } from './server/start.js';
import { DEFAULT_TIMEOUT_SECONDS, maxResponseBytesFromEnv } from './upstream/request.js';
import { VERSION } from './version.js';

/** Where the config path may come from when the flag is absent, in order. */
const CONFIG_ENV_VARS = ['LLMGW_CONFIG', 'MLFLOW_GATEWAY_CONFIG', 'MLFLOW_DEPLOYMENTS_CONFIG'] as const;

function configPathFrom(flag: string | undefined): string {
  const path =
    flag ??
    CONFIG_ENV_VARS.map((name) => process.env[name]).find((value) => value !== undefined && value !== '');
  if (path === undefined) {
    process.stderr.write(`Error: Missing option '--config-path' (or set ${CONFIG_ENV_VARS.join(', ')}).\n`);
    process.exit(2);
  }
  return path;
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new InvalidArgumentError('Not a port number.');
  return port;
}

function parseWorkers(value: string): number {
  const count = Number(value);
  if (!Number.isInteger(count) || count < 1) throw new InvalidArgumentError('Not a positive integer.');
  return count;
}

function parseSeconds(value: string): number {
  const seconds = Number(value);
  if (value.trim() === '' || !Number.isFinite(seconds) || seconds < 0)
    throw new InvalidArgumentError('Not a number of seconds.');
  return seconds;
}

/** A flag's value, else its environment variable parsed the same way, else the default. */
function flagOrEnv<T>(flag: T | undefined, variable: string, parse: (value: string) => T, fallback: T): T {
  if (flag !== undefined) return flag;
  const raw = process.env[variable];
  if (raw === undefined || raw === '') return fallback;
  try {
    return parse(raw);
  } catch (error) {
    process.stderr.write(`Error: ${variable}: ${(error as Error).message}\n`);
    process.exit(2);
  }
}

const REDIS_URI = /^rediss?:\/\//;

/**
 * LLMGW_REDIS_URL, else MLflow's MLFLOW_GATEWAY_RATE_LIMITS_STORAGE_URI when it names Redis
 * (reference §1.2; its `memory://` means the default in-memory counters).
 */
function redisUrlFromEnv(): string | undefined {
  const own = process.env.LLMGW_REDIS_URL;
  if (own !== undefined && own !== '') return own;
  const mlflow = process.env.MLFLOW_GATEWAY_RATE_LIMITS_STORAGE_URI;
  return mlflow !== undefined && REDIS_URI.test(mlflow) ? mlflow : undefined;
}

/** Reference [D6]: MLFLOW_GATEWAY_ROUTE_TIMEOUT_SECONDS, default 300. */
/** Checked before any worker starts, so a bad value stops the gateway once, not each worker. */
function maxResponseBytesOrExit(): number {
  try {
    return maxResponseBytesFromEnv();
  } catch (error) {
    process.stderr.write(`Error: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  }
}

function timeoutSecondsFromEnv(): number {
  const raw = process.env.MLFLOW_GATEWAY_ROUTE_TIMEOUT_SECONDS;
  const value = raw === undefined || raw === '' ? DEFAULT_TIMEOUT_SECONDS : Number(raw);
  if (!Number.isFinite(value) || value <= 0) {
    process.stderr.write(
      `Error: MLFLOW_GATEWAY_ROUTE_TIMEOUT_SECONDS must be a positive number of seconds.\n`,
    );
    process.exit(2);
  }
  return value;
}

/** Built-ins plus the plugins named by the config's `plugins:` and LLMGW_PLUGINS, per load. */
function providerSource(): PluginProviderSource {
  return new PluginProviderSource(new PluginLoader(), process.env[PLUGINS_ENV]);
}

/** LLMGW_METRICS=off turns metrics off; anything else (or unset) leaves them on. */
function isMetricsOn(): boolean {
  const value = process.env.LLMGW_METRICS?.toLowerCase();
  return value !== 'off' && value !== 'false' && value !== '0';
}

function describeErrors(error: unknown, path: string): string[] {
  if (error instanceof ConfigErrors) return error.errors.map((configError) => configError.format(path));
  return [error instanceof Error ? error.message : String(error)];
}

const program = new Command()
  .name('llmgw')
  .description('An LLM gateway: one server in front of every LLM provider, configured by YAML.')
  .version(VERSION);

interface StartFlags {
  configPath?: string;
  host: string;
  port: number;
  workers?: number;
  shutdownGraceSeconds?: number;
  metricsPort?: number;
}

program
  .command('start')
  .description('Start the gateway')
  .option('--config-path <path>', `the YAML config (default: $${CONFIG_ENV_VARS.join(', $')})`)
  .option('--host <host>', 'the address to listen on', '127.0.0.1')
  .option('--port <port>', 'the port to listen on', parsePort, 5000)
  .option(
    '--workers <count>',
    `worker processes sharing the port (env LLMGW_WORKERS, default ${DEFAULT_WORKERS})`,
    parseWorkers,
  )
  .option(
    '--shutdown-grace-seconds <seconds>',
    `on SIGINT/SIGTERM, how long requests in flight may take to finish (env LLMGW_SHUTDOWN_GRACE_SECONDS, default ${DEFAULT_SHUTDOWN_GRACE_SECONDS})`,
    parseSeconds,
  )
  .option(
    '--metrics-port <port>',
    'serve GET /metrics on this port instead of the gateway port (env LLMGW_METRICS_PORT; LLMGW_METRICS=off turns metrics off)',
    parsePort,
  )
  .action(async (options: StartFlags) => {
    const configPath = configPathFrom(options.configPath);
    const timeoutSeconds = timeoutSecondsFromEnv();
    maxResponseBytesOrExit();
    const workers = flagOrEnv(options.workers, 'LLMGW_WORKERS', parseWorkers, DEFAULT_WORKERS);
    const graceSeconds = flagOrEnv(
      options.shutdownGraceSeconds,
      'LLMGW_SHUTDOWN_GRACE_SECONDS',
      parseSeconds,
      DEFAULT_SHUTDOWN_GRACE_SECONDS,
    );
    const redisUrl = redisUrlFromEnv();
    const metricsPort = flagOrEnv(options.metricsPort, 'LLMGW_METRICS_PORT', parsePort, undefined);
    const metrics = isMetricsOn() ? { host: options.host, port: metricsPort ?? null } : null;
    const registry = providerSource();
    try {
      if (workers > 1 && cluster.isPrimary) {
        // Reference §1.1: the file is validated before any worker starts; each worker loads it again.
        await loadConfig(configPath, registry);
        runPrimary({ workers, graceSeconds, metrics });
        return;
      }
      const gateway = await startGateway({
        configPath,
        registry,
        host: options.host,
        port: options.port,
        timeoutSeconds,
        redisUrl,
        // A worker's counters live in its primary, so limits hold across workers.
        counterStore: cluster.isWorker ? (log) => new ClusterCounterStore({ log }) : undefined,
        logger: defaultLogger(),
        telemetry: {
          metrics: metrics !== null,
          metricsPort,
          metricsHost: options.host,
          isClusterWorker: cluster.isWorker,
        },
      });
      installShutdown({
        graceSeconds,
        log: gateway.app.log,
        drain: () => gateway.close(),
        forceClose: () => {
          gateway.app.server.closeAllConnections();
        },
      });
    } catch (error) {
      const lines = describeErrors(error, configPath);
      process.stderr.write(`Error: Invalid value for '--config-path': ${lines.join('\n')}\n`);
      process.exit(2);
    }
  });

program
  .command('validate')
  .description('Check a config file (schema, providers, secrets) without starting')
  .option('--config-path <path>', 'the YAML config')
  .action(async (options: { configPath?: string }) => {
    const configPath = configPathFrom(options.configPath);
    try {
      const config = await loadConfig(configPath, providerSource());
      for (const warning of config.warnings) process.stderr.write(`warning: ${warning}\n`);
      const names = config.endpoints.map((endpoint) => endpoint.name);
      process.stdout.write(
        `OK: ${configPath} defines ${names.length} endpoint(s)${names.length > 0 ? `: ${names.join(', ')}` : ''}\n`,
      );
    } catch (error) {
      for (const line of describeErrors(error, configPath)) process.stderr.write(`${line}\n`);
      process.exitCode = 1;
    }
  });

const keys = program.command('keys').description('Client keys for the `clients:` section');
keys
  .command('new')
  .description('Print a fresh random key and its sha256, for a client entry')
  .action(() => {
    const { key, keySha256 } = newClientKey();
    process.stdout.write(
      `key: ${key}\nkey_sha256: ${keySha256}\n\nGive the key to the client; put one of these in its entry:\n  key: $ENV_VAR_HOLDING_THE_KEY\n  key_sha256: ${keySha256}\n`,
    );
  });

await program.parseAsync(process.argv);
