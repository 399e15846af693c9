import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { ProviderRegistry } from '../src/providers/registry.js';

const root = join(import.meta.dirname, '..');
const files = [
  'config.example.yaml',
  ...readdirSync(join(root, 'examples'))
    .filter((name) => name.endsWith('.yaml'))
    .map((name) => join('examples', name)),
];
const ENV_REFERENCE = /\$([A-Za-z_][A-Za-z0-9_]*)/g;

describe('shipped config files', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it.each(files)('%s loads with its environment variables set', async (file) => {
    const text = readFileSync(join(root, file), 'utf8');
    for (const match of text.matchAll(ENV_REFERENCE)) vi.stubEnv(match[1]!, 'test-key');
    const config = await loadConfig(join(root, file), new ProviderRegistry());
    expect(config.endpoints.length).toBeGreaterThan(0);
    expect(config.warnings).toEqual([]);
  });
});
