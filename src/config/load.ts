import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { ConfigError, ConfigErrors } from '../errors.js';
import type { ProviderClass } from '../providers/base.js';
import type { ProviderRegistry } from '../providers/registry.js';
import type { ProviderSource } from './plugins.js';
import type { EndpointType } from '../schemas/endpoint-type.js';
import { endpointShellSchema, type RateLimit, type RetryPolicy } from './schema.js';
import { loadTrafficRoutes, type TrafficRouteConfig } from './traffic-routes.js';
import { isRecord } from '../schemas/json.js';
import { parseBlockYaml } from './block-yaml.js';
import { withSecretCache } from './secrets.js';
import { loadAccess, type AccessConfig } from '../access/clients.js';
import type { Pricing } from '../access/pricing.js';

/** One endpoint of a loaded config: validated, secrets resolved, ready to build an adapter. */
export interface EndpointConfig {
  name: string;
  endpointType: EndpointType;
  /** The canonical provider key, as the endpoint listing shows it. */
  providerName: string;
  providerClass: ProviderClass;
  modelName: string | null;
  /** The provider's config, parsed by its own `configSchema`. */
  config: unknown;
  limit: RateLimit | null;
  retry: RetryPolicy | null;
  /** Bounds each upstream attempt; null: the gateway-wide timeout only. */
  timeoutSeconds: number | null;
  /** USD per million tokens; null when unpriced (no budgeted client may reach it). */
  pricing: Pricing | null;
}

export interface GatewayConfig {
  endpoints: EndpointConfig[];
  /** Traffic routes over the endpoints (reference §2.10.1). */
  routes: TrafficRouteConfig[];
  /** `clients:` and `access:`; absent when the file has neither (the gateway is open). */
  access?: AccessConfig;
  /** Deprecation notices (legacy `routes:` / `route_type:`), for the log. */
  warnings: string[];
  /**
   * sha256 of the file's text, so the watcher can tell a real change from a touch without
   * keeping the text (and any literal API key in it) for the life of the snapshot.
   */
  digest: string;
}

type YamlPath = (string | number)[];

const ROUTES_DEPRECATED =
  "The 'routes' configuration key has been deprecated and will be removed in an upcoming release. Use 'endpoints' instead.";
const ROUTE_TYPE_DEPRECATED =
  "The 'route_type' configuration key has been deprecated and will be removed in an upcoming release. Use 'endpoint_type' instead.";
const DUPLICATE_NAMES =
  'Duplicate names found in endpoint configurations. Please remove the duplicate endpoint name from the configuration to ensure that endpoints are created properly.';

/** The digest `GatewayConfig.digest` holds for a config text. */
export function digestConfigText(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Reads and validates a config file; throws ConfigErrors listing every problem. */
export async function loadConfig(path: string, providers: ProviderSource): Promise<GatewayConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const message =
      code === 'ENOENT' ? `${path} does not exist` : `${path} could not be read (${code ?? 'error'})`;
    throw new ConfigErrors([new ConfigError(message)]);
  }
  // A plugin source builds the registry from the file's `plugins:` (config/plugins.ts).
  return parseConfig(text, await providers.registryFor(text, path), path);
}

/**
 * Validates config text; `file` only labels messages. The registry comes from the caller, so
 * plugins can extend it and this folder depends on its type alone. A file in the plain block
 * subset is read without the yaml package's node tree (config/block-yaml.ts); any problem
 * found then is found again on the full parse, which knows the line and column of each node.
 */
export function parseConfig(
  text: string,
  registry: ProviderRegistry,
  file = 'the config file',
): GatewayConfig {
  const plain = parseBlockYaml(text);
  if (plain !== null) {
    const context = new LoadContext(registry, () => undefined);
    const config = loadRoot(plain.value, context, text);
    if (context.errors.length === 0) return config;
  }
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const [syntaxError] = document.errors;
  if (syntaxError) {
    const position = lineCounter.linePos(syntaxError.pos[0]);
    throw new ConfigErrors([
      new ConfigError(`The file at ${file} is not a valid yaml file: ${firstLine(syntaxError.message)}`, {
        line: position.line,
        column: position.col,
      }),
    ]);
  }
  const context = new LoadContext(registry, (path) => positionIn(document, lineCounter, path));
  const config = loadRoot(document.toJS(), context, text);
  if (context.errors.length > 0) throw new ConfigErrors(context.errors);
  return config;
}

function loadRoot(root: unknown, context: LoadContext, text: string): GatewayConfig {
  const { endpoints, routes } = withSecretCache(() => context.loadFile(root));
  const access = loadAccess(root, { endpoints, routes }, context.report);
  return {
    endpoints,
    routes,
    warnings: context.warnings,
    digest: digestConfigText(text),
    ...(access && { access }),
  };
}

/** The line of the deepest node on `path` that exists in the file. */
function positionIn(
  document: Document,
  lineCounter: LineCounter,
  path: YamlPath,
): { line: number; col: number } | undefined {
  for (let length = path.length; length >= 0; length -= 1) {
    const node: unknown = length === 0 ? document.contents : document.getIn(path.slice(0, length), true);
    const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
    if (range) return lineCounter.linePos(range[0]);
  }
  return undefined;
}

function firstLine(message: string): string {
  return message.split('\n', 1)[0] ?? message;
}

function formatPath(path: YamlPath): string {
  return path.reduce<string>(
    (text, key) => (typeof key === 'number' ? `${text}[${key}]` : text === '' ? key : `${text}.${key}`),
    '',
  );
}

class LoadContext {
  readonly errors: ConfigError[] = [];
  readonly warnings: string[] = [];
  readonly #registry: ProviderRegistry;
  readonly #positionOf: (path: YamlPath) => { line: number; col: number } | undefined;

  constructor(
    registry: ProviderRegistry,
    positionOf: (path: YamlPath) => { line: number; col: number } | undefined,
  ) {
    this.#registry = registry;
    this.#positionOf = positionOf;
  }

  loadFile(root: unknown): { endpoints: EndpointConfig[]; routes: TrafficRouteConfig[] } {
    const none = { endpoints: [], routes: [] };
    if (root === null || root === undefined) {
      this.#fail([], 'The gateway configuration is invalid: the file is empty');
      return none;
    }
    if (!isRecord(root)) {
      this.#fail(
        [],
        'The gateway configuration is invalid: the file must be a mapping with an `endpoints` list',
      );
      return none;
    }
    const choice = this.#chooseList(root);
    if (choice === null) return none;
    const listKey = choice.list;
    const list = root[listKey];
    if (!Array.isArray(list)) {
      this.#fail([listKey], `The gateway configuration is invalid: '${listKey}' must be a list of endpoints`);
      return none;
    }
    if (list.some((entry) => isRecord(entry) && 'route_type' in entry))
      this.warnings.push(ROUTE_TYPE_DEPRECATED);
    const duplicate = this.#firstDuplicateName(list);
    if (duplicate !== null) {
      this.#fail([listKey, duplicate.index, 'name'], DUPLICATE_NAMES, duplicate.name);
      return none;
    }
    const endpoints: EndpointConfig[] = [];
    list.forEach((entry, index) => {
      const endpoint = this.#loadEndpoint(entry, [listKey, index]);
      if (endpoint) endpoints.push(endpoint);
    });
    const routes = choice.trafficRoutes ? this.#loadTrafficRoutes(choice.trafficRoutes, list, endpoints) : [];
    return { endpoints, routes };
  }

  #loadTrafficRoutes(
    entries: readonly unknown[],
    list: readonly unknown[],
    endpoints: readonly EndpointConfig[],
  ): TrafficRouteConfig[] {
    const names = list.map((entry) => (isRecord(entry) ? entry.name : undefined));
    const { routes, problems } = loadTrafficRoutes(entries, endpoints, names);
    for (const problem of problems) this.#fail(['routes', ...problem.path], problem.message, problem.route);
    return routes;
  }

  /** Reference §2.10.1 port rule for the `routes` key. */
  #chooseList(
    root: Record<string, unknown>,
  ): { list: 'endpoints' | 'routes'; trafficRoutes: readonly unknown[] | null } | null {
    const routes = root.routes;
    let trafficRoutes: readonly unknown[] | null = null;
    if (routes !== undefined && routes !== null) {
      const entries = Array.isArray(routes) ? routes : [];
      const withDestinations = entries.filter((entry) => isRecord(entry) && 'destinations' in entry).length;
      if (withDestinations > 0 && withDestinations < entries.length) {
        this.#fail(
          ['routes'],
          'The `routes` list mixes traffic routes (with `destinations`) and legacy endpoints.',
        );
        return null;
      }
      if (withDestinations > 0) trafficRoutes = entries;
      else if (root.endpoints === undefined) {
        this.warnings.push(ROUTES_DEPRECATED);
        return { list: 'routes', trafficRoutes: null };
      } else this.warnings.push("Both 'endpoints' and 'routes' are present; 'routes' is ignored.");
    }
    if (root.endpoints === undefined) {
      this.#fail(['endpoints'], 'The gateway configuration is invalid: endpoints: Field required');
      return null;
    }
    return { list: 'endpoints', trafficRoutes };
  }

  /** The second entry carrying an already used name, so the error points at it. */
  #firstDuplicateName(list: unknown[]): { index: number; name: string } | null {
    const seen = new Set<unknown>();
    for (const [index, entry] of list.entries()) {
      if (!isRecord(entry) || entry.name === undefined) continue;
      if (seen.has(entry.name))
        return { index, name: typeof entry.name === 'string' ? entry.name : JSON.stringify(entry.name) };
      seen.add(entry.name);
    }
    return null;
  }

  #loadEndpoint(entry: unknown, path: YamlPath): EndpointConfig | null {
    if (!isRecord(entry)) {
      this.#fail(path, 'The gateway configuration is invalid: an endpoint must be a mapping');
      return null;
    }
    const endpointName = typeof entry.name === 'string' ? entry.name : undefined;
    const shellInput =
      entry.endpoint_type === undefined && entry.route_type !== undefined
        ? { ...entry, endpoint_type: entry.route_type }
        : entry;
    const shell = endpointShellSchema.safeParse(shellInput);
    if (!shell.success) {
      this.#failIssues(path, shell.error.issues, endpointName, (issuePath) =>
        issuePath[0] === 'endpoint_type' && entry.endpoint_type === undefined
          ? ['route_type', ...issuePath.slice(1)]
          : issuePath,
      );
      return null;
    }
    const { name, endpoint_type: endpointType, model, limit, retry } = shell.data;
    const modelPath = [...path, 'model'];
    const resolved = this.#registry.resolve(model.provider);
    if (!resolved) {
      this.#fail([...modelPath, 'provider'], `The provider '${model.provider}' is not supported.`, name);
      return null;
    }
    const { providerClass, presetConfig, isPlugin } = resolved;
    if (model.config === undefined && !isPlugin) {
      this.#fail(
        modelPath,
        `A config must be supplied when setting a provider. The provider entry for ${model.provider} is incorrect.`,
        name,
      );
      return null;
    }
    const configPath = [...modelPath, 'config'];
    const rawConfig = this.#applyPreset(model.config ?? {}, presetConfig, model.provider, configPath, name);
    if (rawConfig === null) return null;
    const config = providerClass.configSchema.safeParse(rawConfig);
    if (!config.success) {
      this.#failIssues(configPath, config.error.issues, name);
      return null;
    }
    if (!this.#registry.supports(providerClass, endpointType)) {
      this.#fail(
        [...path, entry.endpoint_type === undefined ? 'route_type' : 'endpoint_type'],
        `The provider '${providerClass.provider}' does not support endpoint type '${endpointType}'.`,
        name,
      );
      return null;
    }
    const modelName = model.name ?? null;
    const facts = { endpointType, modelName, config: config.data as never };
    const problems = providerClass.checkEndpoint?.(facts) ?? [];
    for (const problem of problems) this.#fail([...modelPath, 'name'], problem, name);
    if (problems.length > 0) return null;
    return {
      name,
      endpointType,
      providerName: providerClass.provider,
      providerClass,
      modelName,
      config: config.data,
      limit: limit ?? null,
      retry: retry ?? null,
      timeoutSeconds: shell.data.timeout_seconds ?? null,
      pricing: shell.data.pricing ?? null,
    };
  }

  /** An alias presets config fields; an explicit value must agree with it. */
  #applyPreset(
    config: Record<string, unknown>,
    preset: Readonly<Record<string, string>> | null,
    provider: string,
    configPath: YamlPath,
    endpoint: string,
  ): Record<string, unknown> | null {
    if (!preset) return config;
    for (const [key, value] of Object.entries(preset)) {
      const explicit = config[key];
      if (
        explicit !== undefined &&
        JSON.stringify(explicit).replaceAll('"', '').toLowerCase() !== value.toLowerCase()
      ) {
        this.#fail(
          [...configPath, key],
          `provider '${provider}' means ${key} '${value}', but the config sets ${JSON.stringify(explicit)}.`,
          endpoint,
        );
        return null;
      }
    }
    return { ...config, ...preset };
  }

  #failIssues(
    base: YamlPath,
    issues: readonly z.core.$ZodIssue[],
    endpoint: string | undefined,
    rewrite: (path: YamlPath) => YamlPath = (path) => path,
  ): void {
    for (const issue of issues) {
      const issuePath = rewrite(issue.path.filter((key) => typeof key !== 'symbol'));
      this.#fail([...base, ...issuePath], issue.message, endpoint);
    }
  }

  /** For sections loaded outside this class (`clients:`): a problem at a path of the file. */
  readonly report = (path: YamlPath, message: string): void => {
    this.#fail(path, message);
  };

  #fail(path: YamlPath, message: string, endpoint?: string): void {
    const position = this.#positionOf(path);
    this.errors.push(
      new ConfigError(message, {
        endpoint,
        path: path.length > 0 ? formatPath(path) : undefined,
        line: position?.line,
        column: position?.col,
      }),
    );
  }
}
