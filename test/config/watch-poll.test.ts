import { once } from 'node:events';
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { digestConfigText, type GatewayConfig } from '../../src/config/load.js';
import { ConfigWatcher } from '../../src/config/watch.js';
import { ProviderRegistry } from '../../src/providers/registry.js';

// A file system whose watchers report nothing: every file event is lost.
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  return {
    ...fs,
    watch: () => Object.assign(new EventEmitter(), { close: () => undefined }),
  };
});

const yamlWith = (name: string) =>
  `endpoints:\n  - name: ${name}\n    endpoint_type: llm/v1/chat\n    model: {provider: mock, config: {}}\n`;

const directories: string[] = [];
afterEach(() => {
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

describe('ConfigWatcher without file events', () => {
  it('still applies a rewrite, found by its periodic stat', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'llmgw-poll-'));
    directories.push(directory);
    const path = join(directory, 'gateway.yaml');
    writeFileSync(path, yamlWith('before'));
    const watcher = new ConfigWatcher({
      path,
      registry: new ProviderRegistry(),
      appliedDigest: digestConfigText(yamlWith('before')),
      apply: () => undefined,
      debounceMs: 10,
    });
    await watcher.start();
    try {
      writeFileSync(path, yamlWith('after'));
      const [config] = (await once(watcher, 'reloaded')) as [GatewayConfig];
      expect(config.endpoints.map((endpoint) => endpoint.name)).toEqual(['after']);
    } finally {
      await watcher.close();
    }
  });
});
