import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { ConfigError, ConfigErrors } from '../errors.js';
import { isRecord } from '../schemas/json.js';
import type { Operation, ProviderClass } from './base.js';
import { ProviderRegistry } from './registry.js';

/** One plugin an operator named, and where the name came from. */
export interface PluginReference {
  /** A package name (`llmgw-plugin-acme`, `@team/llmgw-acme`) or a path to a file or package directory. */
  specifier: string;
  /** Where a package name is looked up (node_modules walk), in order; a path resolves from the first. */
  baseDirectories: readonly string[];
  /** Where it was named, for messages: `plugins[0]` or `LLMGW_PLUGINS`. */
  field: string;
  line?: number | undefined;
  column?: number | undefined;
}

/** A plugin after import: its providers, each checked and tagged with the plugin's name. */
export interface LoadedPlugin {
  specifier: string;
  /** The real path of its entry module; the cache key. */
  entry: string;
  providers: readonly ProviderClass[];
}

const PATH_LIKE = /^\.{1,2}([/\\]|$)/;
const PACKAGE_NAME = /^(@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*$/i;
/** Export conditions an ESM `import()` in Node matches, in the order we try them. */
const IMPORT_CONDITIONS = ['import', 'node', 'default'] as const;
const OPERATIONS = [
  'chat',
  'chatStream',
  'completions',
  'completionsStream',
  'embeddings',
] as const satisfies readonly Operation[];

const capabilitiesSchema = z.strictObject({
  chat: z.enum(['stream', 'unary']).optional(),
  completions: z.enum(['stream', 'unary']).optional(),
  embeddings: z.boolean().optional(),
});

/** The file an `exports` value points at for `import`, or null. */
function exportTarget(exports: unknown): string | null {
  if (typeof exports === 'string') return exports;
  if (Array.isArray(exports)) {
    for (const candidate of exports as unknown[]) {
      const target = exportTarget(candidate);
      if (target !== null) return target;
    }
    return null;
  }
  if (!isRecord(exports)) return null;
  if (Object.keys(exports).some((key) => key.startsWith('.'))) return exportTarget(exports['.']);
  for (const condition of IMPORT_CONDITIONS) {
    const target = exportTarget(exports[condition]);
    if (target !== null) return target;
  }
  return null;
}

/** A package directory's main entry, as `import()` of the package name would find it. */
function packageEntry(directory: string): string {
  const manifestPath = join(directory, 'package.json');
  if (!existsSync(manifestPath)) return join(directory, 'index.js');
  const manifest: unknown = JSON.parse(readFileSync(manifestPath, 'utf8'));
  const fields = isRecord(manifest) ? manifest : {};
  const target =
    fields.exports !== undefined
      ? exportTarget(fields.exports)
      : typeof fields.main === 'string'
        ? fields.main
        : 'index.js';
  if (target === null) throw new Error(`${manifestPath} exports no entry for import`);
  return join(directory, target);
}

function resolvePath(path: string): string {
  const stats = statSync(path, { throwIfNoEntry: false });
  if (stats === undefined) throw new Error(`${path} does not exist`);
  return realpathSync(stats.isDirectory() ? packageEntry(path) : path);
}

/** Node's node_modules walk from each base directory, then the package's own entry. */
function resolvePackage(name: string, baseDirectories: readonly string[]): string {
  for (const base of baseDirectories) {
    const lookup = createRequire(join(base, 'package.json')).resolve.paths(name) ?? [];
    for (const modules of lookup) {
      const directory = join(modules, name);
      if (existsSync(join(directory, 'package.json'))) return resolvePath(directory);
    }
  }
  throw new Error(`no package '${name}' is installed in or above ${baseDirectories.join(' or ')}`);
}

/** The real path of the module a reference names. */
export function resolvePluginEntry(reference: PluginReference): string {
  const { specifier, baseDirectories } = reference;
  if (isAbsolute(specifier) || PATH_LIKE.test(specifier)) {
    return resolvePath(resolve(baseDirectories[0] ?? process.cwd(), specifier));
  }
  if (!PACKAGE_NAME.test(specifier)) throw new Error('not a package name or a path (start paths with ./)');
  return resolvePackage(specifier, baseDirectories);
}

function describeClass(value: unknown, index: number): string {
  const name = typeof value === 'function' && value.name !== '' ? ` (${value.name})` : '';
  return `providers[${index}]${name}`;
}

/** Why an exported value is not an adapter class, or null when it is one. */
function classProblem(value: unknown): string | null {
  if (typeof value !== 'function') return 'is not a class';
  const statics = value as unknown as Record<string, unknown>;
  for (const key of ['provider', 'displayName'] as const) {
    const text = statics[key];
    if (typeof text !== 'string' || text.trim() === '')
      return `must set static '${key}' to a non-empty string`;
  }
  const schema = statics.configSchema;
  if (!isRecord(schema) || typeof schema.safeParse !== 'function')
    return "must set static 'configSchema' to a zod schema";
  if (!capabilitiesSchema.safeParse(statics.supports).success)
    return "must set static 'supports' to { chat?: 'stream' | 'unary', completions?: 'stream' | 'unary', embeddings?: boolean }";
  const prototype: unknown = (value as { prototype?: unknown }).prototype;
  const missing = OPERATIONS.find(
    (operation) => !isRecord(prototype) || typeof Reflect.get(prototype, operation) !== 'function',
  );
  if (missing !== undefined) return `must extend ProviderAdapter (no '${missing}' method)`;
  return null;
}

/**
 * The plugin's class with its config schema's messages naming the plugin. Going through our
 * own zod also makes a schema from the plugin's own zod copy behave like a built-in's.
 */
function namingPlugin(providerClass: ProviderClass, specifier: string): ProviderClass {
  const schema = providerClass.configSchema;
  const configSchema = z.unknown().transform((raw, context) => {
    const result = schema.safeParse(raw);
    if (result.success) return result.data;
    for (const issue of result.error.issues) {
      const path = issue.path.filter((key) => typeof key !== 'symbol');
      context.addIssue({ code: 'custom', path, message: `${issue.message} (plugin '${specifier}')` });
    }
    return z.NEVER;
  });
  const named = class extends providerClass {
    static override readonly configSchema = configSchema;
  };
  Object.defineProperty(named, 'name', { value: providerClass.name });
  return named;
}

/** The `providers` export, checked: a bad one fails the load instead of a request. */
function pluginProviders(namespace: unknown, specifier: string): ProviderClass[] {
  const exported = isRecord(namespace) ? namespace.providers : undefined;
  if (!Array.isArray(exported) || exported.length === 0)
    throw new Error("it must export 'providers', a non-empty array of provider adapter classes");
  return (exported as unknown[]).map((value, index) => {
    const problem = classProblem(value);
    if (problem !== null) throw new Error(`${describeClass(value, index)} ${problem}`);
    return namingPlugin(value as ProviderClass, specifier);
  });
}

function pluginError(reference: PluginReference, message: string): ConfigErrors {
  const { field, line, column } = reference;
  return new ConfigErrors([
    new ConfigError(`Plugin '${reference.specifier}' ${message}`, { path: field, line, column }),
  ]);
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n', 1)[0] ?? text;
}

/**
 * Imports named plugins and builds registries from them. A module is imported once per
 * process (Node caches it anyway), so a reload that keeps a plugin reuses it; a plugin's new
 * code needs a restart.
 */
export class PluginLoader {
  /** Entry real path → loaded plugin; failures are not kept, so a fixed file loads next time. */
  readonly #cache = new Map<string, Promise<LoadedPlugin>>();

  async load(reference: PluginReference): Promise<LoadedPlugin> {
    let entry: string;
    try {
      entry = resolvePluginEntry(reference);
    } catch (error) {
      throw pluginError(reference, `could not be found: ${firstLine(error)}`);
    }
    let loading = this.#cache.get(entry);
    if (loading === undefined) {
      loading = this.#import(reference.specifier, entry);
      this.#cache.set(entry, loading);
      loading.catch(() => this.#cache.delete(entry));
    }
    try {
      return await loading;
    } catch (error) {
      throw pluginError(reference, `failed to load from ${entry}: ${firstLine(error)}`);
    }
  }

  async #import(specifier: string, entry: string): Promise<LoadedPlugin> {
    const namespace: unknown = await import(pathToFileURL(entry).href);
    return { specifier, entry, providers: pluginProviders(namespace, specifier) };
  }

  /**
   * A fresh registry of the built-ins plus these plugins, so a plugin dropped from the config
   * is gone after the reload. A name taken twice fails, naming both owners (reference §8.1).
   */
  async buildRegistry(references: readonly PluginReference[]): Promise<ProviderRegistry> {
    const registry = new ProviderRegistry();
    const owners = new Map<ProviderClass, string>();
    const seen = new Set<string>();
    for (const reference of references) {
      const plugin = await this.load(reference);
      if (seen.has(plugin.entry)) continue;
      seen.add(plugin.entry);
      for (const providerClass of plugin.providers) {
        const existing = registry.resolve(providerClass.provider)?.providerClass;
        if (existing !== undefined) {
          const owner = owners.get(existing);
          const holder = `${existing.name} (${owner === undefined ? 'built-in' : `plugin '${owner}'`})`;
          throw pluginError(
            reference,
            `cannot register ${providerClass.name}: Provider ${providerClass.provider} is already registered: ${holder}`,
          );
        }
        registry.register(providerClass);
        owners.set(providerClass, plugin.specifier);
      }
    }
    return registry;
  }
}
