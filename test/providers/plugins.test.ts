import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigErrors } from '../../src/errors.js';
import { PluginLoader, type PluginReference } from '../../src/providers/plugins.js';
import {
  EXAMPLE_PLUGIN,
  chatPluginSource,
  linkExamplePlugin,
  writePluginFile,
} from '../helpers/plugin-fixtures.js';

const directory = realpathSync(mkdtempSync(join(tmpdir(), 'llmgw-plugins-')));
const EXAMPLE_ENTRY = join(realpathSync(EXAMPLE_PLUGIN), 'dist', 'index.js');

afterAll(() => {
  rmSync(directory, { recursive: true, force: true });
});

function reference(specifier: string, index = 0, baseDirectories = [directory]): PluginReference {
  return { specifier, baseDirectories, field: `plugins[${index}]`, line: index + 2, column: 5 };
}

/** The one ConfigError a rejected load carries, formatted as the CLI prints it. */
async function loadError(loading: Promise<unknown>): Promise<string[]> {
  const error: unknown = await loading.then(
    () => null,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(ConfigErrors);
  return (error as ConfigErrors).errors.map((configError) => configError.format('gateway.yaml'));
}

describe('PluginLoader', () => {
  it('registers the example plugin’s acme provider beside the built-ins', async () => {
    const registry = await new PluginLoader().buildRegistry([reference(EXAMPLE_PLUGIN)]);
    const acme = registry.resolve('acme');
    expect(acme?.isPlugin).toBe(true);
    expect(acme?.providerClass.provider).toBe('acme');
    expect(acme?.providerClass.name).toBe('AcmeAdapter');
    expect(registry.resolve('openai')?.isPlugin).toBe(false);
  });

  it('matches a plugin provider name exactly (reference §8.2)', async () => {
    const registry = await new PluginLoader().buildRegistry([reference(EXAMPLE_PLUGIN)]);
    expect(registry.resolve('ACME')).toBeUndefined();
  });

  it('resolves a relative path from the first base directory', async () => {
    const loader = new PluginLoader();
    const plugin = await loader.load(reference('./plugin', 0, [join(EXAMPLE_PLUGIN, '..')]));
    expect(plugin.entry).toBe(EXAMPLE_ENTRY);
  });

  it('finds a package by name in node_modules above a base directory', async () => {
    const project = join(directory, 'project');
    linkExamplePlugin(project);
    const plugin = await new PluginLoader().load(
      reference('llmgw-plugin-example', 0, [join(directory, 'elsewhere'), join(project, 'config')]),
    );
    expect(plugin.entry).toBe(EXAMPLE_ENTRY);
  });

  it('imports a plugin once for every registry built from it', async () => {
    const loader = new PluginLoader();
    const first = await loader.buildRegistry([reference(EXAMPLE_PLUGIN)]);
    const second = await loader.buildRegistry([reference(join(EXAMPLE_PLUGIN, 'dist', 'index.js'))]);
    expect(second.resolve('acme')?.providerClass).toBe(first.resolve('acme')?.providerClass);
  });

  it('leaves a plugin out of the next registry once it is no longer named', async () => {
    const loader = new PluginLoader();
    await loader.buildRegistry([reference(EXAMPLE_PLUGIN)]);
    const next = await loader.buildRegistry([]);
    expect(next.resolve('acme')).toBeUndefined();
  });

  it('loads a plugin named twice once', async () => {
    const registry = await new PluginLoader().buildRegistry([
      reference(EXAMPLE_PLUGIN, 0),
      reference(join(EXAMPLE_PLUGIN, 'dist', 'index.js'), 1),
    ]);
    expect(registry.resolve('acme')?.isPlugin).toBe(true);
  });

  it('wraps the plugin’s config schema so its messages name the plugin', async () => {
    const registry = await new PluginLoader().buildRegistry([reference(EXAMPLE_PLUGIN)]);
    const result = registry.resolve('acme')!.providerClass.configSchema.safeParse({
      acme_api_key: 'literal-key',
      acme_api_base: 'ftp://acme.example',
    });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((issue) => [issue.path, issue.message])).toEqual([
      [['acme_api_base'], `must be an http(s) URL (plugin '${EXAMPLE_PLUGIN}')`],
    ]);
  });
});

describe('PluginLoader errors', () => {
  const clash = writePluginFile(directory, 'clash', chatPluginSource('openai', 'OpenAiLookalike'));
  const looseClash = writePluginFile(directory, 'loose-clash', chatPluginSource('Mock', 'MockLookalike'));
  const acmeCopy = writePluginFile(directory, 'acme-copy', chatPluginSource('acme', 'AcmeCopy'));
  const throwing = writePluginFile(directory, 'throwing', "throw new Error('acme SDK missing');\n");
  const empty = writePluginFile(directory, 'empty', 'export const adapters = [];\n');
  const nameless = writePluginFile(
    directory,
    'nameless',
    chatPluginSource('nameless', 'Nameless').replace("static displayName = 'Nameless';", ''),
  );
  const plain = writePluginFile(
    directory,
    'plain',
    [
      "class Plain { static provider = 'plain'; static displayName = 'Plain';",
      "  static configSchema = { safeParse: () => ({ success: true, data: {} }) }; static supports = { chat: 'unary' }; }",
      'export const providers = [Plain];',
      '',
    ].join('\n'),
  );

  it.each([
    [
      'a provider named like a built-in',
      [clash],
      `gateway.yaml:2:5 at plugins[0]: Plugin '${clash}' cannot register OpenAiLookalike: Provider openai is already registered: OpenAiAdapter (built-in)`,
    ],
    [
      'a provider named like a built-in but for case',
      [looseClash],
      `gateway.yaml:2:5 at plugins[0]: Plugin '${looseClash}' cannot register MockLookalike: Provider Mock is already registered: MockAdapter (built-in)`,
    ],
    [
      'a provider another plugin registered',
      [EXAMPLE_PLUGIN, acmeCopy],
      `gateway.yaml:3:5 at plugins[1]: Plugin '${acmeCopy}' cannot register AcmeCopy: Provider acme is already registered: AcmeAdapter (plugin '${EXAMPLE_PLUGIN}')`,
    ],
    [
      'a path that does not exist',
      ['./missing.mjs'],
      `gateway.yaml:2:5 at plugins[0]: Plugin './missing.mjs' could not be found: ${join(directory, 'missing.mjs')} does not exist`,
    ],
    [
      'a package that is not installed',
      ['llmgw-plugin-absent'],
      `gateway.yaml:2:5 at plugins[0]: Plugin 'llmgw-plugin-absent' could not be found: no package 'llmgw-plugin-absent' is installed in or above ${directory}`,
    ],
    [
      'a name that is neither a package nor a path',
      ['plugins/acme'],
      "gateway.yaml:2:5 at plugins[0]: Plugin 'plugins/acme' could not be found: not a package name or a path (start paths with ./)",
    ],
    [
      'a module that throws on import',
      [throwing],
      `gateway.yaml:2:5 at plugins[0]: Plugin '${throwing}' failed to load from ${throwing}: acme SDK missing`,
    ],
    [
      'a module without a providers export',
      [empty],
      `gateway.yaml:2:5 at plugins[0]: Plugin '${empty}' failed to load from ${empty}: it must export 'providers', a non-empty array of provider adapter classes`,
    ],
    [
      'a class without a display name',
      [nameless],
      `gateway.yaml:2:5 at plugins[0]: Plugin '${nameless}' failed to load from ${nameless}: providers[0] (Nameless) must set static 'displayName' to a non-empty string`,
    ],
    [
      'a class that does not extend ProviderAdapter',
      [plain],
      `gateway.yaml:2:5 at plugins[0]: Plugin '${plain}' failed to load from ${plain}: providers[0] (Plain) must extend ProviderAdapter (no 'chat' method)`,
    ],
  ])('rejects %s, naming the plugin and where it was named', async (_case, specifiers, message) => {
    const references = specifiers.map((specifier, index) => reference(specifier, index));
    expect(await loadError(new PluginLoader().buildRegistry(references))).toEqual([message]);
  });
});
