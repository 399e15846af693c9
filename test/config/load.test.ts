import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { digestConfigText, loadConfig, parseConfig, type GatewayConfig } from '../../src/config/load.js';
import { Secret } from '../../src/config/secrets.js';
import { ConfigErrors } from '../../src/errors.js';
import { ProviderAdapter, type AdapterInit } from '../../src/providers/base.js';
import { ProviderRegistry } from '../../src/providers/registry.js';
import type { ChatRequest, ChatResponse } from '../../src/schemas/chat.js';
import { openAiChatYaml } from '../helpers/openai-endpoint.js';

const root = join(import.meta.dirname, '..', '..');
const directory = mkdtempSync(join(tmpdir(), 'llmgw-load-'));

afterAll(() => {
  rmSync(directory, { recursive: true, force: true });
});

afterEach(() => {
  vi.unstubAllEnvs();
});

/** A chat-only provider, registered as a plugin where a test needs a missing endpoint type. */
class ChatOnlyAdapter extends ProviderAdapter<{ greeting: string }> {
  static readonly provider = 'chat-only';
  static readonly displayName = 'Chat Only';
  static readonly configSchema = z.object({ greeting: z.string().default('hi') });
  static readonly supports = { chat: 'unary' } as const;

  constructor(init: AdapterInit<{ greeting: string }>) {
    super(init, 'Chat Only');
  }

  override chat(_request: ChatRequest): Promise<ChatResponse> {
    return Promise.reject(new Error('not called in these tests'));
  }
}

function registryWithPlugin(): ProviderRegistry {
  const registry = new ProviderRegistry();
  registry.register(ChatOnlyAdapter);
  return registry;
}

function parse(yaml: string, registry = new ProviderRegistry()): GatewayConfig {
  return parseConfig(yaml, registry, 'test.yaml');
}

/** The formatted messages of a config that must fail. */
function errorsOf(yaml: string, registry = new ProviderRegistry()): string[] {
  try {
    parse(yaml, registry);
  } catch (error) {
    if (error instanceof ConfigErrors)
      return error.errors.map((configError) => configError.format('test.yaml'));
    throw error;
  }
  throw new Error('the config loaded');
}

/** One chat endpoint with the given `model` block (YAML flow mapping) and extra endpoint lines. */
function endpointYaml(model: string, extra = '', name = 'chat', type = 'llm/v1/chat'): string {
  return `endpoints:\n  - name: ${name}\n    endpoint_type: ${type}\n    model: ${model}\n${extra}`;
}

const MOCK = '{provider: mock, config: {}}';

function secretOf(config: GatewayConfig): string {
  const providerConfig = config.endpoints[0]?.config as { openai_api_key: Secret };
  return providerConfig.openai_api_key.reveal();
}

describe('config rules that reject a file (reference §2, §13 items 4–20)', () => {
  it.each([
    {
      rule: 'an empty file',
      yaml: '',
      errors: ['test.yaml: The gateway configuration is invalid: the file is empty'],
    },
    {
      rule: 'a file that is not YAML',
      yaml: 'endpoints: [\n  - name: chat\n',
      errors: [
        'test.yaml:2:3: The file at test.yaml is not a valid yaml file: Block collections are not allowed within flow collections',
      ],
    },
    {
      rule: 'a file whose root is a list',
      yaml: '- chat\n',
      errors: [
        'test.yaml:1:1: The gateway configuration is invalid: the file must be a mapping with an `endpoints` list',
      ],
    },
    {
      rule: 'a file with neither endpoints nor routes',
      yaml: 'foo: 1\n',
      errors: ['test.yaml:1:1 at endpoints: The gateway configuration is invalid: endpoints: Field required'],
    },
    {
      rule: 'an endpoints key that is not a list',
      yaml: 'endpoints: {chat: 1}\n',
      errors: [
        "test.yaml:1:12 at endpoints: The gateway configuration is invalid: 'endpoints' must be a list of endpoints",
      ],
    },
    {
      rule: 'an endpoint that is not a mapping',
      yaml: 'endpoints:\n  - chat\n',
      errors: [
        'test.yaml:2:5 at endpoints[0]: The gateway configuration is invalid: an endpoint must be a mapping',
      ],
    },
    {
      rule: 'a name with a space',
      yaml: endpointYaml(MOCK, '', 'my chat'),
      errors: [
        "test.yaml:2:11 endpoint 'my chat' at endpoints[0].name: The route name provided contains disallowed characters for a url endpoint. 'my chat' is invalid. Names cannot contain spaces or any non alphanumeric characters other than hyphen and underscore.",
      ],
    },
    {
      rule: 'a name with a slash',
      yaml: endpointYaml(MOCK, '', 'a/b'),
      errors: [
        "test.yaml:2:11 endpoint 'a/b' at endpoints[0].name: The route name provided contains disallowed characters for a url endpoint. 'a/b' is invalid. Names cannot contain spaces or any non alphanumeric characters other than hyphen and underscore.",
      ],
    },
    {
      rule: 'an endpoint without a name',
      yaml: 'endpoints:\n  - endpoint_type: llm/v1/chat\n    model: {provider: mock, config: {}}\n',
      errors: ['test.yaml:2:5 at endpoints[0].name: Invalid input: expected string, received undefined'],
    },
    {
      rule: 'two endpoints with the same name',
      yaml: `${endpointYaml(MOCK)}  - name: chat\n    endpoint_type: llm/v1/completions\n    model: ${MOCK}\n`,
      errors: [
        "test.yaml:5:11 endpoint 'chat' at endpoints[1].name: Duplicate names found in endpoint configurations. Please remove the duplicate endpoint name from the configuration to ensure that endpoints are created properly.",
      ],
    },
    {
      rule: 'an unknown endpoint type',
      yaml: endpointYaml(MOCK, '', 'chat', 'llm/v2/chat'),
      errors: [
        "test.yaml:3:20 endpoint 'chat' at endpoints[0].endpoint_type: The route_type 'llm/v2/chat' is not supported.",
      ],
    },
    {
      rule: 'an endpoint type in the wrong case',
      yaml: endpointYaml(MOCK, '', 'chat', 'LLM/v1/chat'),
      errors: [
        "test.yaml:3:20 endpoint 'chat' at endpoints[0].endpoint_type: The route_type 'LLM/v1/chat' is not supported.",
      ],
    },
    {
      rule: 'an unknown provider',
      yaml: endpointYaml('{provider: foo, config: {}}'),
      errors: [
        "test.yaml:4:23 endpoint 'chat' at endpoints[0].model.provider: The provider 'foo' is not supported.",
      ],
    },
    {
      rule: 'a built-in provider without config',
      yaml: endpointYaml('{provider: openai}'),
      errors: [
        "test.yaml:4:12 endpoint 'chat' at endpoints[0].model: A config must be supplied when setting a provider. The provider entry for openai is incorrect.",
      ],
    },
    {
      rule: 'a config without a provider',
      yaml: endpointYaml('{config: {}}'),
      errors: [
        "test.yaml:4:12 endpoint 'chat' at endpoints[0].model.provider: A provider must be provided for each gateway route.",
      ],
    },
    {
      rule: 'a model that is not a mapping',
      yaml: endpointYaml('5'),
      errors: [
        "test.yaml:4:12 endpoint 'chat' at endpoints[0].model: Invalid input: expected object, received number",
      ],
    },
    {
      rule: 'a config that is not a mapping',
      yaml: endpointYaml('{provider: mock, config: [1]}'),
      errors: [
        "test.yaml:4:37 endpoint 'chat' at endpoints[0].model.config: Invalid input: expected record, received array",
      ],
    },
    {
      rule: 'an api key that is a number',
      yaml: openAiChatYaml(['openai_api_key: 123']),
      errors: [
        "test.yaml:8:25 endpoint 'chat' at endpoints[0].model.config.openai_api_key: The api key provided is not a string. Please provide either an environment variable key, a path to a file containing the api key, or the api key itself",
      ],
    },
    {
      rule: 'an Azure type without deployment, base and version',
      yaml: openAiChatYaml(['openai_api_key: k', 'openai_api_type: azure']),
      errors: [
        "test.yaml:8:9 endpoint 'chat' at endpoints[0].model.config: OpenAI route configuration must specify 'openai_api_base', 'openai_deployment_name', and 'openai_api_version' if 'openai_api_type' is 'azure' or 'azuread'.",
      ],
    },
    {
      rule: 'a deployment name with type openai',
      yaml: openAiChatYaml(['openai_api_key: k', 'openai_deployment_name: d']),
      errors: [
        "test.yaml:9:33 endpoint 'chat' at endpoints[0].model.config.openai_deployment_name: OpenAI route configuration can only specify a value for 'openai_deployment_name' if 'openai_api_type' is 'azure' or 'azuread'. Found type: 'openai'",
      ],
    },
    {
      rule: 'an organization with an Azure type',
      yaml: openAiChatYaml([
        'openai_api_key: k',
        'openai_api_type: azure',
        'openai_api_base: https://r.openai.azure.com/',
        'openai_deployment_name: d',
        'openai_api_version: "2023-05-15"',
        'openai_organization: org-1',
      ]),
      errors: [
        "test.yaml:13:30 endpoint 'chat' at endpoints[0].model.config.openai_organization: OpenAI route configuration can only specify a value for 'openai_organization' if 'openai_api_type' is 'openai'. Found type: 'azure'",
      ],
    },
    {
      rule: 'an unknown OpenAI api type',
      yaml: openAiChatYaml(['openai_api_key: k', 'openai_api_type: gcp']),
      errors: [
        "test.yaml:9:26 endpoint 'chat' at endpoints[0].model.config.openai_api_type: Invalid OpenAI API type 'gcp'",
      ],
    },
    {
      rule: 'the azure alias with a contradicting api type',
      yaml: endpointYaml('{provider: azure, config: {openai_api_key: k, openai_api_type: openai}}'),
      errors: [
        `test.yaml:4:75 endpoint 'chat' at endpoints[0].model.config.openai_api_type: provider 'azure' means openai_api_type 'azure', but the config sets "openai".`,
      ],
    },
    {
      rule: 'a renewal period that is not a granularity',
      yaml: endpointYaml(MOCK, '    limit: {calls: 10, renewal_period: fortnight}\n'),
      errors: [
        "test.yaml:5:40 endpoint 'chat' at endpoints[0].limit.renewal_period: Failed to parse the rate limit configuration.Please make sure limit.calls is a positive number andlimit.renewal_period is a right granularity",
      ],
    },
    {
      rule: 'a negative number of calls',
      yaml: endpointYaml(MOCK, '    limit: {calls: -1, renewal_period: minute}\n'),
      errors: [
        "test.yaml:5:20 endpoint 'chat' at endpoints[0].limit.calls: Failed to parse the rate limit configuration.Please make sure limit.calls is a positive number andlimit.renewal_period is a right granularity",
      ],
    },
    {
      rule: 'a number of calls that is not a number',
      yaml: endpointYaml(MOCK, '    limit: {calls: ten, renewal_period: minute}\n'),
      errors: [
        "test.yaml:5:20 endpoint 'chat' at endpoints[0].limit.calls: Invalid input: expected number, received string",
      ],
    },
    {
      rule: 'a limit without a renewal period',
      yaml: endpointYaml(MOCK, '    limit: {calls: 10}\n'),
      errors: [
        "test.yaml:5:12 endpoint 'chat' at endpoints[0].limit.renewal_period: Invalid input: expected string, received undefined",
      ],
    },
    {
      rule: 'an invalid mock dimension count',
      yaml: endpointYaml('{provider: mock, config: {dimensions: 0}}', '', 'embed', 'llm/v1/embeddings'),
      errors: [
        "test.yaml:4:50 endpoint 'embed' at endpoints[0].model.config.dimensions: Too small: expected number to be >=1",
      ],
    },
    {
      rule: 'a routes list mixing traffic routes and endpoints',
      yaml: `routes:\n  - name: r\n    destinations: []\n  - name: chat\n    route_type: llm/v1/chat\n    model: ${MOCK}\n`,
      errors: [
        'test.yaml:2:3 at routes: The `routes` list mixes traffic routes (with `destinations`) and legacy endpoints.',
      ],
    },
    {
      rule: 'a repeated key',
      yaml: 'endpoints: []\nendpoints: []\n',
      errors: ['test.yaml:2:1: The file at test.yaml is not a valid yaml file: Map keys must be unique'],
    },
  ])('rejects $rule', ({ yaml, errors }) => {
    expect(errorsOf(yaml)).toEqual(errors);
  });

  it('reports every invalid endpoint of a file, each with its own name and line', () => {
    const yaml = `${endpointYaml(MOCK, '', 'a b')}  - name: ok\n    endpoint_type: llm/v1/chat\n    model: {provider: nope, config: {}}\n`;
    expect(errorsOf(yaml)).toEqual([
      "test.yaml:2:11 endpoint 'a b' at endpoints[0].name: The route name provided contains disallowed characters for a url endpoint. 'a b' is invalid. Names cannot contain spaces or any non alphanumeric characters other than hyphen and underscore.",
      "test.yaml:7:23 endpoint 'ok' at endpoints[1].model.provider: The provider 'nope' is not supported.",
    ]);
  });

  it('rejects an endpoint type the provider does not serve, naming the provider', () => {
    const yaml = endpointYaml('{provider: chat-only}', '', 'embed', 'llm/v1/embeddings');
    expect(errorsOf(yaml, registryWithPlugin())).toEqual([
      "test.yaml:3:20 endpoint 'embed' at endpoints[0].endpoint_type: The provider 'chat-only' does not support endpoint type 'llm/v1/embeddings'.",
    ]);
  });

  it('names route_type in the error when the legacy key carries the bad type', () => {
    const yaml = `routes:\n  - name: chat\n    route_type: llm/v9\n    model: ${MOCK}\n`;
    expect(errorsOf(yaml)).toEqual([
      "test.yaml:3:17 endpoint 'chat' at routes[0].route_type: The route_type 'llm/v9' is not supported.",
    ]);
  });
});

describe('base URLs are checked when the file loads', () => {
  it('rejects an openai_api_base that is not a URL, naming the field and line', () => {
    const yaml = openAiChatYaml(['openai_api_key: sk-test', 'openai_api_base: not a url']);
    const thrown = (() => {
      try {
        parseConfig(yaml, new ProviderRegistry(), 'test.yaml');
      } catch (error) {
        return error;
      }
      return undefined;
    })();
    expect(thrown).toBeInstanceOf(ConfigErrors);
    expect((thrown as ConfigErrors).errors.map((error) => error.format('test.yaml'))).toEqual([
      "test.yaml:9:26 endpoint 'chat' at endpoints[0].model.config.openai_api_base: must be an http(s) URL",
    ]);
  });
});

describe('config rules that accept a file', () => {
  it('loads an empty endpoint list as a gateway with no endpoints', () => {
    expect(parse('endpoints: []\n')).toEqual({
      endpoints: [],
      routes: [],
      warnings: [],
      digest: digestConfigText('endpoints: []\n'),
    });
  });

  it.each(['a.b', 'a-b_c', 'ÄÖ1', '日本語'])('accepts the endpoint name %s', (name) => {
    expect(parse(endpointYaml(MOCK, '', name)).endpoints.map((endpoint) => endpoint.name)).toEqual([name]);
  });

  const AZURE_CONFIG =
    '{openai_api_key: k, openai_api_base: "https://r.openai.azure.com/", openai_deployment_name: d, openai_api_version: "2023-05-15"}';

  it.each([
    { provider: 'OpenAI', config: '{openai_api_key: k}', canonical: 'openai' },
    { provider: 'OPENAI', config: '{openai_api_key: k}', canonical: 'openai' },
    { provider: 'Mock', config: '{}', canonical: 'mock' },
    { provider: 'azure', config: AZURE_CONFIG, canonical: 'openai' },
    { provider: 'AzureAD', config: AZURE_CONFIG, canonical: 'openai' },
  ])('resolves provider $provider to $canonical', ({ provider, config, canonical }) => {
    const yaml = endpointYaml(`{provider: ${provider}, config: ${config}}`);
    expect(parse(yaml).endpoints[0]?.providerName).toBe(canonical);
  });

  it('does not treat a hyphen inside a built-in name as optional', () => {
    expect(errorsOf(endpointYaml('{provider: open-ai, config: {openai_api_key: k}}'))).toEqual([
      "test.yaml:4:23 endpoint 'chat' at endpoints[0].model.provider: The provider 'open-ai' is not supported.",
    ]);
  });

  it('presets openai_api_type for the azuread alias', () => {
    const yaml = endpointYaml(`{provider: azuread, config: ${AZURE_CONFIG}}`);
    expect(parse(yaml).endpoints[0]?.config).toMatchObject({ openai_api_type: 'azuread' });
  });

  it.each(['azure', 'AZURE', 'AzureAD', 'azuread'])('accepts openai_api_type %s in any case', (apiType) => {
    const yaml = openAiChatYaml([
      'openai_api_key: k',
      `openai_api_type: ${apiType}`,
      'openai_api_base: https://r.openai.azure.com/',
      'openai_deployment_name: d',
      'openai_api_version: "2023-05-15"',
    ]);
    expect(parse(yaml).endpoints[0]?.config).toMatchObject({ openai_api_type: apiType.toLowerCase() });
  });

  it('reads an unquoted YAML date as the version string', () => {
    const yaml = openAiChatYaml(['openai_api_key: k', 'openai_api_version: 2023-05-15']);
    expect(parse(yaml).endpoints[0]?.config).toMatchObject({ openai_api_version: '2023-05-15' });
  });

  it.each([
    ['minute', 1, 'minute', 60],
    ['5 minutes', 5, 'minute', 300],
    ['Hour', 1, 'hour', 3600],
    ['days', 1, 'day', 86_400],
    ['10second', 10, 'second', 10],
  ])('accepts the renewal period %s', (renewalPeriod, multiplier, unit, seconds) => {
    const yaml = endpointYaml(MOCK, `    limit: {calls: 10, renewal_period: "${renewalPeriod}", key: k}\n`);
    expect(parse(yaml).endpoints[0]?.limit).toEqual({
      calls: 10,
      renewalPeriod,
      key: 'k',
      period: { multiplier, unit, seconds },
    });
  });

  it('accepts a limit of zero calls', () => {
    const yaml = endpointYaml(MOCK, '    limit: {calls: 0, renewal_period: minute}\n');
    expect(parse(yaml).endpoints[0]?.limit?.calls).toBe(0);
  });

  it('ignores unknown keys at the top level, in an endpoint, in model and in config', () => {
    const yaml = [
      'version: 3',
      'endpoints:',
      '  - name: chat',
      '    description: ignored',
      '    endpoint_type: llm/v1/chat',
      '    model:',
      '      provider: openai',
      '      name: gpt-4o-mini',
      '      revision: 2',
      '      config:',
      '        openai_api_key: k',
      '        unknown_field: x',
      '',
    ].join('\n');
    const [endpoint] = parse(yaml).endpoints;
    expect(endpoint?.config).toEqual({ openai_api_key: expect.any(Secret), openai_api_type: 'openai' });
  });

  it('gives an endpoint without model.name a null model name', () => {
    expect(parse(endpointYaml(MOCK)).endpoints[0]?.modelName).toBeNull();
  });

  it('lets endpoint_type win over route_type when an entry has both', () => {
    const yaml = `endpoints:\n  - name: chat\n    endpoint_type: llm/v1/completions\n    route_type: llm/v1/chat\n    model: ${MOCK}\n`;
    const config = parse(yaml);
    expect(config.endpoints[0]?.endpointType).toBe('llm/v1/completions');
    expect(config.warnings).toEqual([
      "The 'route_type' configuration key has been deprecated and will be removed in an upcoming release. Use 'endpoint_type' instead.",
    ]);
  });

  it('loads a plugin provider without model.config', () => {
    const config = parse(endpointYaml('{provider: chat-only}'), registryWithPlugin());
    expect(config.endpoints[0]).toMatchObject({ providerName: 'chat-only', config: { greeting: 'hi' } });
  });

  it('matches a plugin provider name exactly', () => {
    expect(errorsOf(endpointYaml('{provider: Chat-Only}'), registryWithPlugin())).toEqual([
      "test.yaml:4:23 endpoint 'chat' at endpoints[0].model.provider: The provider 'Chat-Only' is not supported.",
    ]);
  });
});

describe('legacy routes: and route_type: (reference §2.10)', () => {
  it('loads the legacy fixture like endpoints:/endpoint_type:, with both deprecation warnings', async () => {
    const config = await loadConfig(join(root, 'test/fixtures/legacy-routes.yaml'), new ProviderRegistry());
    expect(
      config.endpoints.map(({ name, endpointType, providerName, modelName }) => ({
        name,
        endpointType,
        providerName,
        modelName,
      })),
    ).toEqual([{ name: 'chat', endpointType: 'llm/v1/chat', providerName: 'mock', modelName: 'mock-chat' }]);
    expect(config.warnings).toEqual([
      "The 'routes' configuration key has been deprecated and will be removed in an upcoming release. Use 'endpoints' instead.",
      "The 'route_type' configuration key has been deprecated and will be removed in an upcoming release. Use 'endpoint_type' instead.",
    ]);
  });

  it('uses endpoints and warns when both endpoints and legacy routes are present', () => {
    const yaml = `endpoints:\n  - name: a\n    endpoint_type: llm/v1/chat\n    model: ${MOCK}\nroutes:\n  - name: b\n    route_type: llm/v1/chat\n    model: ${MOCK}\n`;
    const config = parse(yaml);
    expect(config.endpoints.map((endpoint) => endpoint.name)).toEqual(['a']);
    expect(config.warnings).toEqual(["Both 'endpoints' and 'routes' are present; 'routes' is ignored."]);
  });

  it('checks duplicate names in endpoints when routes is also present', () => {
    const yaml = `${endpointYaml(MOCK)}  - name: chat\n    endpoint_type: llm/v1/chat\n    model: ${MOCK}\nroutes:\n  - name: x\n    route_type: llm/v1/chat\n    model: ${MOCK}\n`;
    expect(errorsOf(yaml)).toEqual([
      "test.yaml:5:11 endpoint 'chat' at endpoints[1].name: Duplicate names found in endpoint configurations. Please remove the duplicate endpoint name from the configuration to ensure that endpoints are created properly.",
    ]);
  });
});

describe('secrets in a loaded config (reference §2.9)', () => {
  it('reads a $VAR key from the environment', () => {
    vi.stubEnv('LLMGW_TEST_KEY', 'sk-from-env');
    expect(secretOf(parse(openAiChatYaml(['openai_api_key: $LLMGW_TEST_KEY'])))).toBe('sk-from-env');
  });

  it.each([
    ['unset', undefined],
    ['empty', ''],
  ])('rejects a $VAR key whose variable is %s', (_state, value) => {
    vi.stubEnv('LLMGW_TEST_KEY', value);
    expect(errorsOf(openAiChatYaml(['openai_api_key: $LLMGW_TEST_KEY']))).toEqual([
      "test.yaml:8:25 endpoint 'chat' at endpoints[0].model.config.openai_api_key: Environment variable 'LLMGW_TEST_KEY' is not set",
    ]);
  });

  it('reads a key from an existing file, without its trailing newline', () => {
    const file = join(directory, 'key.txt');
    writeFileSync(file, 'sk-from-file\n');
    expect(secretOf(parse(openAiChatYaml([`openai_api_key: ${file}`])))).toBe('sk-from-file');
  });

  it('uses a string that names no file as the key itself', () => {
    expect(secretOf(parse(openAiChatYaml(['openai_api_key: sk-literal'])))).toBe('sk-literal');
  });

  it('never puts the key in the loaded config when printed', () => {
    const config = parse(openAiChatYaml(['openai_api_key: sk-literal-secret']));
    expect(JSON.stringify(config.endpoints[0]?.config)).toBe(
      '{"openai_api_key":"[redacted]","openai_api_type":"openai"}',
    );
  });

  it('never echoes a key value in an error about another field', () => {
    const errors = errorsOf(openAiChatYaml(['openai_api_key: sk-literal-secret', 'openai_api_type: gcp']));
    expect(errors.join('\n')).not.toContain('sk-literal-secret');
    expect(errors).toHaveLength(1);
  });
});

describe('loadConfig', () => {
  it('reports a missing file as "<path> does not exist"', async () => {
    const path = join(directory, 'missing.yaml');
    await expect(loadConfig(path, new ProviderRegistry())).rejects.toThrow(`${path} does not exist`);
  });

  it('keeps a sha256 digest of the file text for the watcher to compare, not the text', async () => {
    const path = join(directory, 'source.yaml');
    writeFileSync(path, 'endpoints: []\n');
    expect(await loadConfig(path, new ProviderRegistry())).toEqual({
      endpoints: [],
      routes: [],
      warnings: [],
      digest: createHash('sha256').update('endpoints: []\n').digest('hex'),
    });
  });

  it('retains a literal API key only inside its Secret', async () => {
    const path = join(directory, 'literal-key.yaml');
    writeFileSync(path, openAiChatYaml(['openai_api_key: sk-literal-in-the-file']));
    const config = await loadConfig(path, new ProviderRegistry());
    const [endpoint] = config.endpoints;
    const key = (endpoint?.config as { openai_api_key: Secret }).openai_api_key;
    expect(key).toBeInstanceOf(Secret);
    expect(key.reveal()).toBe('sk-literal-in-the-file');
    expect(inspect(config, { depth: Infinity, showHidden: true })).not.toContain('sk-literal');
    expect(JSON.stringify(config)).not.toContain('sk-literal');
  });

  it('loads examples/offline.yaml: three mock endpoints and the chat limit', async () => {
    const config = await loadConfig(join(root, 'examples/offline.yaml'), new ProviderRegistry());
    expect(
      config.endpoints.map(({ name, endpointType, providerName, modelName, config: providerConfig }) => ({
        name,
        endpointType,
        providerName,
        modelName,
        providerConfig,
      })),
    ).toEqual([
      {
        name: 'chat',
        endpointType: 'llm/v1/chat',
        providerName: 'mock',
        modelName: 'mock-chat',
        providerConfig: { dimensions: 8 },
      },
      {
        name: 'completions',
        endpointType: 'llm/v1/completions',
        providerName: 'mock',
        modelName: 'mock-instruct',
        providerConfig: { dimensions: 8 },
      },
      {
        name: 'embeddings',
        endpointType: 'llm/v1/embeddings',
        providerName: 'mock',
        modelName: 'mock-embedding',
        providerConfig: { dimensions: 8 },
      },
    ]);
    expect(config.endpoints[0]?.limit?.calls).toBe(600);
    expect(config.warnings).toEqual([]);
  });
});
