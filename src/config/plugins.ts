import { dirname, resolve } from 'node:path';
import { LineCounter, isScalar, isSeq, parseDocument } from 'yaml';
import { ConfigError, ConfigErrors } from '../errors.js';
import { parseBlockYaml } from './block-yaml.js';
import type { PluginReference } from '../providers/plugins.js';
import type { ProviderRegistry } from '../providers/registry.js';

/** The environment variable naming plugins for every config, comma-separated. */
export const PLUGINS_ENV = 'LLMGW_PLUGINS';

/**
 * Where a config load finds its providers. A `ProviderRegistry` is one (it serves every config
 * as is); `PluginProviderSource` builds one per load from the plugins the operator named.
 */
export interface ProviderSource {
  registryFor(text: string, configPath: string): Promise<ProviderRegistry>;
}

/** Builds a registry of the built-ins plus the referenced plugins (providers/plugins.ts). */
export interface PluginRegistryBuilder {
  buildRegistry(references: readonly PluginReference[]): Promise<ProviderRegistry>;
}

const NOT_A_LIST = "The gateway configuration is invalid: 'plugins' must be a list of package names or paths";
const NOT_A_NAME = 'A plugin must be named by a non-empty string: a package name or a path';

function positionOf(node: unknown, lineCounter: LineCounter): { line: number; col: number } | undefined {
  const range = (node as { range?: [number, number, number] } | null)?.range;
  return range ? lineCounter.linePos(range[0]) : undefined;
}

/** `LLMGW_PLUGINS` entries: relative paths resolve from the working directory. */
function envReferences(value: string | undefined, configDirectory: string): PluginReference[] {
  const cwd = process.cwd();
  return (value ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .map((specifier) => ({ specifier, baseDirectories: [cwd, configDirectory], field: PLUGINS_ENV }));
}

/**
 * The plugins a config names: its top-level `plugins:` list (paths resolve from the file's
 * directory) after those of `LLMGW_PLUGINS`. Text that is not valid YAML names none here, and
 * the config parse reports it.
 */
export function readPluginReferences(
  text: string,
  configPath: string,
  envValue: string | undefined,
): PluginReference[] {
  const configDirectory = dirname(resolve(configPath));
  const references = envReferences(envValue, configDirectory);
  // Most files name no plugins. A key spells `plugins` as is or through an escape in quotes, so
  // without either the text has none; else the quick parse tells so without the full one.
  if (!text.includes('plugins') && !text.includes('\\')) return references;
  const plain = parseBlockYaml(text);
  if (plain !== null && (plain.value.plugins === undefined || plain.value.plugins === null))
    return references;
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false });
  if (document.errors.length > 0) return references;
  const list = document.get('plugins', true);
  if (list === undefined || list === null || (isScalar(list) && list.value === null)) return references;
  if (!isSeq(list)) {
    const at = positionOf(list, lineCounter);
    throw new ConfigErrors([
      new ConfigError(NOT_A_LIST, { path: 'plugins', line: at?.line, column: at?.col }),
    ]);
  }
  const errors: ConfigError[] = [];
  const cwd = process.cwd();
  list.items.forEach((item, index) => {
    const at = positionOf(item, lineCounter);
    const field = `plugins[${index}]`;
    const value = isScalar(item) ? item.value : undefined;
    if (typeof value !== 'string' || value.trim() === '') {
      errors.push(new ConfigError(NOT_A_NAME, { path: field, line: at?.line, column: at?.col }));
      return;
    }
    references.push({
      specifier: value.trim(),
      baseDirectories: [configDirectory, cwd],
      field,
      line: at?.line,
      column: at?.col,
    });
  });
  if (errors.length > 0) throw new ConfigErrors(errors);
  return references;
}

/** Per load: read the named plugins, then build the registry the config is parsed with. */
export class PluginProviderSource implements ProviderSource {
  readonly #builder: PluginRegistryBuilder;
  readonly #envValue: string | undefined;

  constructor(builder: PluginRegistryBuilder, envValue: string | undefined) {
    this.#builder = builder;
    this.#envValue = envValue;
  }

  registryFor(text: string, configPath: string): Promise<ProviderRegistry> {
    try {
      return this.#builder.buildRegistry(readPluginReferences(text, configPath, this.#envValue));
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }
}
