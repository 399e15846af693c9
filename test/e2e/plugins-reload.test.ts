import { once } from 'node:events';
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PluginProviderSource } from '../../src/config/plugins.js';
import type { ReloadFailure } from '../../src/config/watch.js';
import { PluginLoader } from '../../src/providers/plugins.js';
import { startGateway, type RunningGateway } from '../../src/server/start.js';
import { FakeUpstream } from '../fakes/fake-upstream.js';
import { invokeEndpoint } from '../helpers/http.js';
import { EXAMPLE_PLUGIN, chatPluginSource, writePluginFile } from '../helpers/plugin-fixtures.js';

const directory = realpathSync(mkdtempSync(join(tmpdir(), 'llmgw-plugin-reload-')));
const path = join(directory, 'gateway.yaml');
const HI = [{ role: 'user', content: 'hi' }];

let fake: FakeUpstream;
let gateway: RunningGateway;

const MOCK_ENDPOINT = [
  '  - name: mock',
  '    endpoint_type: llm/v1/chat',
  '    model: {provider: mock, name: mock-chat, config: {}}',
];

function acmeEndpoint(): string[] {
  return [
    '  - name: acme',
    '    endpoint_type: llm/v1/chat',
    '    model:',
    '      provider: acme',
    '      name: acme-large',
    `      config: {acme_api_key: literal-key, acme_api_base: '${fake.url}'}`,
  ];
}

/**
 * One gateway per test, so each test writes its config once after the watcher starts: chokidar
 * drops a second change to the same path within 50 ms, and a reload can be that quick.
 */
async function startWith(lines: string[]): Promise<void> {
  writeFileSync(path, [...lines, ''].join('\n'));
  gateway = await startGateway({
    configPath: path,
    host: '127.0.0.1',
    port: 0,
    registry: new PluginProviderSource(new PluginLoader(), undefined),
    timeoutSeconds: 5,
    reloadDebounceMs: 20,
  });
}

function write(lines: string[]): void {
  writeFileSync(path, [...lines, ''].join('\n'));
}

async function reloadWith(lines: string[]): Promise<void> {
  const reloaded = once(gateway.watcher!, 'reloaded');
  write(lines);
  await reloaded;
}

async function failedReload(lines: string[]): Promise<string[]> {
  const failed = once(gateway.watcher!, 'reload-failed') as Promise<[ReloadFailure]>;
  write(lines);
  const [failure] = await failed;
  return failure.errors.map((error) => error.format('gateway.yaml'));
}

beforeAll(async () => {
  fake = await FakeUpstream.start();
  writePluginFile(directory, 'chat-only', chatPluginSource('chat-only', 'ChatOnly'));
});

afterEach(async () => {
  await gateway.close();
});

afterAll(async () => {
  await fake.close();
  rmSync(directory, { recursive: true, force: true });
});

describe('plugins and hot reload', () => {
  it('serves a plugin a reload adds', async () => {
    await startWith(['endpoints:', ...MOCK_ENDPOINT]);
    await reloadWith([`plugins: ['${EXAMPLE_PLUGIN}']`, 'endpoints:', ...MOCK_ENDPOINT, ...acmeEndpoint()]);
    fake.reply({
      kind: 'json',
      body: {
        id: 'acme-1',
        created: 1,
        model: 'acme-large',
        output: { role: 'assistant', text: 'hello' },
        stop_reason: 'stop',
        usage: { input_tokens: 1, output_tokens: 1 },
      },
    });
    const response = await invokeEndpoint(gateway.url, 'acme', { messages: HI });
    expect([response.status, (await fake.nextRequest()).path]).toEqual([200, '/chat']);
  });

  it('keeps the old config serving when a reload names a plugin that fails to load', async () => {
    await startWith([`plugins: ['${EXAMPLE_PLUGIN}']`, 'endpoints:', ...MOCK_ENDPOINT, ...acmeEndpoint()]);
    expect(await failedReload(['plugins: [./absent.mjs]', 'endpoints:', ...MOCK_ENDPOINT])).toEqual([
      `gateway.yaml:1:11 at plugins[0]: Plugin './absent.mjs' could not be found: ${join(directory, 'absent.mjs')} does not exist`,
    ]);
    expect(gateway.table.current.config.endpoints.map((endpoint) => endpoint.providerName)).toEqual([
      'mock',
      'acme',
    ]);
  });

  it('drops a plugin’s provider when a reload no longer names it', async () => {
    await startWith([`plugins: ['${EXAMPLE_PLUGIN}']`, 'endpoints:', ...MOCK_ENDPOINT, ...acmeEndpoint()]);
    expect(await failedReload(['endpoints:', ...MOCK_ENDPOINT, ...acmeEndpoint()])).toEqual([
      "gateway.yaml:8:17 endpoint 'acme' at endpoints[1].model.provider: The provider 'acme' is not supported.",
    ]);
  });

  it('answers 501 for an operation a plugin declares but does not implement (reference §13 item 99)', async () => {
    await startWith(['endpoints:', ...MOCK_ENDPOINT]);
    await reloadWith([
      'plugins: [./chat-only.mjs]',
      'endpoints:',
      '  - name: completions',
      '    endpoint_type: llm/v1/completions',
      '    model: {provider: chat-only}',
    ]);
    const response = await invokeEndpoint(gateway.url, 'completions', { prompt: 'hi' });
    expect([response.status, await response.json()]).toEqual([
      501,
      { detail: 'The completions route is not implemented for ChatOnly models.' },
    ]);
  });
});
