#!/usr/bin/env node
import { Command, InvalidArgumentError } from 'commander';
import { loadConfig } from './config/load.js';
import { ConfigErrors } from './errors.js';
import { ProviderRegistry } from './providers/registry.js';
import { defaultLogger, startGateway } from './server/start.js';
import { DEFAULT_TIMEOUT_SECONDS } from './upstream/request.js';
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

/** Reference [D6]: MLFLOW_GATEWAY_ROUTE_TIMEOUT_SECONDS, default 300. */
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

function describeErrors(error: unknown, path: string): string[] {
  if (error instanceof ConfigErrors) return error.errors.map((configError) => configError.format(path));
  return [error instanceof Error ? error.message : String(error)];
}

const program = new Command()
  .name('llmgw')
  .description('An LLM gateway: one server in front of every LLM provider, configured by YAML.')
  .version(VERSION);

program
  .command('start')
  .description('Start the gateway')
  .option('--config-path <path>', `the YAML config (default: $${CONFIG_ENV_VARS.join(', $')})`)
  .option('--host <host>', 'the address to listen on', '127.0.0.1')
  .option('--port <port>', 'the port to listen on', parsePort, 5000)
  .action(async (options: { configPath?: string; host: string; port: number }) => {
    const configPath = configPathFrom(options.configPath);
    const timeoutSeconds = timeoutSecondsFromEnv();
    try {
      await startGateway({
        configPath,
        host: options.host,
        port: options.port,
        timeoutSeconds,
        logger: defaultLogger(),
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
      const config = await loadConfig(configPath, new ProviderRegistry());
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

await program.parseAsync(process.argv);
