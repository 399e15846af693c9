import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = join(import.meta.dirname, '..', '..');

/** The example plugin package (built by the vitest globalSetup). */
export const EXAMPLE_PLUGIN = join(root, 'examples', 'plugin');

/** The built llmgw entry, as a plugin outside the repository would import it. */
const LLMGW = pathToFileURL(join(root, 'dist', 'index.js')).href;

/** Module text for a one-class plugin of a chat-only provider. */
export function chatPluginSource(provider: string, className: string, statics = ''): string {
  return [
    `import { ProviderAdapter, z } from '${LLMGW}';`,
    `export class ${className} extends ProviderAdapter {`,
    `  static provider = '${provider}';`,
    `  static displayName = '${className}';`,
    '  static configSchema = z.object({});',
    "  static supports = { chat: 'unary', completions: 'unary' };",
    statics,
    `  constructor(init) { super(init, '${className}'); }`,
    "  async chat() { return { id: 'x', object: 'chat.completion', created: 1, model: null, choices: [], usage: { prompt_tokens: null, completion_tokens: null, total_tokens: null } }; }",
    '}',
    `export const providers = [${className}];`,
    '',
  ].join('\n');
}

/** Writes `source` as `<directory>/<name>.mjs` and returns its path. */
export function writePluginFile(directory: string, name: string, source: string): string {
  mkdirSync(directory, { recursive: true });
  const path = join(directory, `${name}.mjs`);
  writeFileSync(path, source);
  return path;
}

/** Installs the example plugin under `<directory>/node_modules/llmgw-plugin-example`, as npm would link it. */
export function linkExamplePlugin(directory: string): void {
  mkdirSync(join(directory, 'node_modules'), { recursive: true });
  symlinkSync(EXAMPLE_PLUGIN, join(directory, 'node_modules', 'llmgw-plugin-example'), 'dir');
}
