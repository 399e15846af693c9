import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { PluginProviderSource, readPluginReferences } from '../../src/config/plugins.js';
import { ConfigErrors } from '../../src/errors.js';
import { PluginLoader } from '../../src/providers/plugins.js';
import { EXAMPLE_PLUGIN } from '../helpers/plugin-fixtures.js';

const directory = realpathSync(mkdtempSync(join(tmpdir(), 'llmgw-config-plugins-')));
const configPath = join(directory, 'gateway.yaml');

afterAll(() => {
  rmSync(directory, { recursive: true, force: true });
});

async function formattedErrors(loading: Promise<unknown>): Promise<string[]> {
  const error: unknown = await loading.then(
    () => null,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(ConfigErrors);
  return (error as ConfigErrors).errors.map((configError) => configError.format('gateway.yaml'));
}

function thrownErrors(read: () => unknown): string[] {
  try {
    read();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigErrors);
    return (error as ConfigErrors).errors.map((configError) => configError.format('gateway.yaml'));
  }
  throw new Error('expected ConfigErrors');
}

describe('readPluginReferences', () => {
  it('reads the plugins list with positions; paths resolve from the config directory', () => {
    const text = ['plugins:', '  - ./acme', '  - "@team/llmgw-acme"', 'endpoints: []', ''].join('\n');
    expect(readPluginReferences(text, configPath, undefined)).toEqual([
      {
        specifier: './acme',
        baseDirectories: [directory, process.cwd()],
        field: 'plugins[0]',
        line: 2,
        column: 5,
      },
      {
        specifier: '@team/llmgw-acme',
        baseDirectories: [directory, process.cwd()],
        field: 'plugins[1]',
        line: 3,
        column: 5,
      },
    ]);
  });

  it('puts LLMGW_PLUGINS entries first, resolving their paths from the working directory', () => {
    const text = ['plugins: [./acme]', 'endpoints: []', ''].join('\n');
    expect(readPluginReferences(text, configPath, ' llmgw-plugin-a , ,./b ')).toEqual([
      { specifier: 'llmgw-plugin-a', baseDirectories: [process.cwd(), directory], field: 'LLMGW_PLUGINS' },
      { specifier: './b', baseDirectories: [process.cwd(), directory], field: 'LLMGW_PLUGINS' },
      {
        specifier: './acme',
        baseDirectories: [directory, process.cwd()],
        field: 'plugins[0]',
        line: 1,
        column: 11,
      },
    ]);
  });

  it('reads a plugins key spelled with an escape', () => {
    const text = ['"pl\\x75gins": [./acme]', 'endpoints: []', ''].join('\n');
    expect(readPluginReferences(text, configPath, undefined)).toEqual([
      {
        specifier: './acme',
        baseDirectories: [directory, process.cwd()],
        field: 'plugins[0]',
        line: 1,
        column: 16,
      },
    ]);
  });

  it.each([
    ['no plugins key', 'endpoints: []\n'],
    ['an empty plugins key', 'plugins:\nendpoints: []\n'],
    ['text that is not YAML', 'plugins: [\n'],
    ['a file that is not a mapping', '- a\n'],
  ])('names no plugin for %s', (_case, text) => {
    expect(readPluginReferences(text, configPath, undefined)).toEqual([]);
  });

  it.each([
    [
      'a plugins value that is not a list',
      'plugins: llmgw-plugin-a\n',
      [
        "gateway.yaml:1:10 at plugins: The gateway configuration is invalid: 'plugins' must be a list of package names or paths",
      ],
    ],
    [
      'entries that are not names',
      'plugins:\n  - 3\n  - ""\n  - ok\n',
      [
        'gateway.yaml:2:5 at plugins[0]: A plugin must be named by a non-empty string: a package name or a path',
        'gateway.yaml:3:5 at plugins[1]: A plugin must be named by a non-empty string: a package name or a path',
      ],
    ],
  ])('rejects %s', (_case, text, messages) => {
    expect(thrownErrors(() => readPluginReferences(text, configPath, undefined))).toEqual(messages);
  });
});

describe('loadConfig with plugins', () => {
  const source = new PluginProviderSource(new PluginLoader(), undefined);

  function write(lines: string[]): string {
    writeFileSync(configPath, [`plugins: ['${EXAMPLE_PLUGIN}']`, 'endpoints:', ...lines, ''].join('\n'));
    return configPath;
  }

  it('loads an endpoint of a plugin provider with its secret resolved', async () => {
    const path = write([
      '  - name: chat',
      '    endpoint_type: llm/v1/chat',
      '    model: {provider: acme, name: acme-large, config: {acme_api_key: literal-key}}',
    ]);
    const config = await loadConfig(path, source);
    expect(config.endpoints.map((endpoint) => [endpoint.name, endpoint.providerName])).toEqual([
      ['chat', 'acme'],
    ]);
    expect(config.endpoints[0]?.config).toEqual({
      acme_api_key: expect.objectContaining({ source: 'literal' }),
      acme_api_base: 'https://api.acme.example/v1',
    });
  });

  it('reports a plugin config the plugin’s schema rejects, naming the plugin and the field', async () => {
    const path = write([
      '  - name: chat',
      '    endpoint_type: llm/v1/chat',
      '    model:',
      '      provider: acme',
      '      config:',
      '        acme_api_key: $LLMGW_TEST_UNSET_ACME_KEY',
    ]);
    expect(await formattedErrors(loadConfig(path, source))).toEqual([
      `gateway.yaml:8:23 endpoint 'chat' at endpoints[0].model.config.acme_api_key: Environment variable 'LLMGW_TEST_UNSET_ACME_KEY' is not set (plugin '${EXAMPLE_PLUGIN}')`,
    ]);
  });

  it('parses an omitted model.config with the plugin’s schema (reference §8.2)', async () => {
    const path = write(['  - name: chat', '    endpoint_type: llm/v1/chat', '    model: {provider: acme}']);
    expect(await formattedErrors(loadConfig(path, source))).toEqual([
      `gateway.yaml:5:12 endpoint 'chat' at endpoints[0].model.config.acme_api_key: The api key provided is not a string. Please provide either an environment variable key, a path to a file containing the api key, or the api key itself (plugin '${EXAMPLE_PLUGIN}')`,
    ]);
  });

  it('does not know a plugin provider the file does not name', async () => {
    writeFileSync(
      configPath,
      [
        'endpoints:',
        '  - name: chat',
        '    endpoint_type: llm/v1/chat',
        '    model: {provider: acme}',
        '',
      ].join('\n'),
    );
    expect(await formattedErrors(loadConfig(configPath, source))).toEqual([
      "gateway.yaml:4:23 endpoint 'chat' at endpoints[0].model.provider: The provider 'acme' is not supported.",
    ]);
  });
});
