import { once } from 'node:events';
import {
  appendFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { digestConfigText, type GatewayConfig } from '../../src/config/load.js';
import { ConfigWatcher, type ReloadFailure } from '../../src/config/watch.js';
import { ProviderRegistry } from '../../src/providers/registry.js';

/** A valid config whose endpoints carry the given names (mock provider, no secrets). */
function yamlWith(...names: string[]): string {
  const endpoints = names.map(
    (name) => `  - name: ${name}
    endpoint_type: llm/v1/chat
    model:
      provider: mock
      config: {}
`,
  );
  return `endpoints:\n${endpoints.join('')}`;
}

const namesOf = (config: GatewayConfig) => config.endpoints.map((endpoint) => endpoint.name);

interface Harness {
  directory: string;
  path: string;
  watcher: ConfigWatcher;
  applied: string[][];
}

const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

interface WatchOptions {
  /** The text the caller loaded, when the file changed since (default: the file's text). */
  loaded?: string;
  /** Runs after each recorded apply; a throw fails that reload. */
  onApply?: (names: string[]) => void;
  /** Listeners to add before `start()`. */
  setup?: (watcher: ConfigWatcher) => void;
  debounceMs?: number;
}

/** Starts a watcher on `path` (written by `prepare`) whose apply records the endpoint names. */
async function watchFile(
  prepare: (directory: string) => string,
  options: WatchOptions = {},
): Promise<Harness> {
  const directory = mkdtempSync(join(tmpdir(), 'llmgw-watch-'));
  const path = prepare(directory);
  const applied: string[][] = [];
  const watcher = new ConfigWatcher({
    path,
    registry: new ProviderRegistry(),
    appliedDigest: digestConfigText(options.loaded ?? readFileSync(path, 'utf8')),
    apply: (config) => {
      applied.push(namesOf(config));
      options.onApply?.(namesOf(config));
    },
    debounceMs: options.debounceMs ?? 50,
  });
  options.setup?.(watcher);
  await watcher.start();
  cleanups.push(async () => {
    await watcher.close();
    rmSync(directory, { recursive: true, force: true });
  });
  return { directory, path, watcher, applied };
}

function plainFile(directory: string): string {
  const path = join(directory, 'gateway.yaml');
  writeFileSync(path, yamlWith('first'));
  return path;
}

async function nextReload(watcher: ConfigWatcher): Promise<string[]> {
  const [config] = (await once(watcher, 'reloaded')) as [GatewayConfig];
  return namesOf(config);
}

async function nextFailure(watcher: ConfigWatcher): Promise<ReloadFailure> {
  const [failure] = (await once(watcher, 'reload-failed')) as [ReloadFailure];
  return failure;
}

describe('ConfigWatcher', () => {
  it('applies a file rewritten in place', async () => {
    const { path, watcher, applied } = await watchFile(plainFile);
    const reloaded = nextReload(watcher);
    writeFileSync(path, yamlWith('first', 'second'));
    expect(await reloaded).toEqual(['first', 'second']);
    expect(applied).toEqual([['first', 'second']]);
  });

  it('applies a file written elsewhere and renamed over the config', async () => {
    const { directory, path, watcher } = await watchFile(plainFile);
    const reloaded = nextReload(watcher);
    const temporary = join(directory, '.gateway.yaml.tmp');
    writeFileSync(temporary, yamlWith('renamed'));
    renameSync(temporary, path);
    expect(await reloaded).toEqual(['renamed']);
  });

  it('applies a Kubernetes ConfigMap update (the ..data symlink swapped to a new directory)', async () => {
    // The kubelet's layout: gateway.yaml -> ..data/gateway.yaml, ..data -> ..<timestamp>/
    const { directory, path, watcher } = await watchFile((mount) => {
      mkdirSync(join(mount, '..2026_01_01'));
      writeFileSync(join(mount, '..2026_01_01', 'gateway.yaml'), yamlWith('first'));
      symlinkSync('..2026_01_01', join(mount, '..data'));
      symlinkSync(join('..data', 'gateway.yaml'), join(mount, 'gateway.yaml'));
      return join(mount, 'gateway.yaml');
    });
    const reloaded = nextReload(watcher);
    mkdirSync(join(directory, '..2026_01_02'));
    writeFileSync(join(directory, '..2026_01_02', 'gateway.yaml'), yamlWith('swapped'));
    symlinkSync('..2026_01_02', join(directory, '..data_tmp'));
    renameSync(join(directory, '..data_tmp'), join(directory, '..data'));
    rmSync(join(directory, '..2026_01_01'), { recursive: true });
    expect(await reloaded).toEqual(['swapped']);
    expect(readFileSync(path, 'utf8')).toBe(yamlWith('swapped'));
  });

  it('keeps watching the new directory after a ConfigMap swap', async () => {
    const { directory, watcher } = await watchFile((mount) => {
      mkdirSync(join(mount, '..one'));
      writeFileSync(join(mount, '..one', 'gateway.yaml'), yamlWith('first'));
      symlinkSync('..one', join(mount, '..data'));
      symlinkSync(join('..data', 'gateway.yaml'), join(mount, 'gateway.yaml'));
      return join(mount, 'gateway.yaml');
    });
    const swapped = nextReload(watcher);
    mkdirSync(join(directory, '..two'));
    writeFileSync(join(directory, '..two', 'gateway.yaml'), yamlWith('second'));
    symlinkSync('..two', join(directory, '..data_tmp'));
    renameSync(join(directory, '..data_tmp'), join(directory, '..data'));
    expect(await swapped).toEqual(['second']);
    const edited = nextReload(watcher);
    writeFileSync(join(directory, '..two', 'gateway.yaml'), yamlWith('third'));
    expect(await edited).toEqual(['third']);
  });

  it('checks nothing when other files in its directory are written', async () => {
    const events: string[] = [];
    const { directory, path, watcher } = await watchFile(plainFile, {
      debounceMs: 1,
      setup: (watcher) => {
        watcher.on('unchanged', () => events.push('unchanged'));
        watcher.on('reloaded', () => events.push('reloaded'));
        watcher.on('reload-failed', () => events.push('reload-failed'));
      },
    });
    events.length = 0;
    // A second gateway's config in the same directory: each of its reloads proves that a write
    // there was seen and the same debounce has passed.
    const neighbourPath = join(directory, 'neighbour.yaml');
    writeFileSync(neighbourPath, yamlWith('n0'));
    const neighbour = new ConfigWatcher({
      path: neighbourPath,
      registry: new ProviderRegistry(),
      appliedDigest: digestConfigText(yamlWith('n0')),
      apply: () => undefined,
      debounceMs: 1,
    });
    await neighbour.start();
    cleanups.push(() => neighbour.close());
    const log = join(directory, 'access.log');
    for (let index = 1; index <= 5; index += 1) {
      const reloaded = once(neighbour, 'reloaded');
      writeFileSync(neighbourPath, yamlWith(`n${String(index)}`));
      appendFileSync(log, `request ${String(index)}\n`);
      await reloaded;
    }
    events.push('neighbours written');
    const unchanged = once(watcher, 'unchanged');
    writeFileSync(path, yamlWith('first'));
    await unchanged;
    expect(events).toEqual(['neighbours written', 'unchanged']);
  });

  it('reports an invalid file with endpoint, field and line and does not apply it', async () => {
    const { path, watcher, applied } = await watchFile(plainFile);
    const failed = nextFailure(watcher);
    writeFileSync(
      path,
      `endpoints:
  - name: broken
    endpoint_type: llm/v1/chat
    model:
      provider: mock
      config:
        dimensions: zero
`,
    );
    const failure = await failed;
    expect(failure.reason).toBe('invalid');
    expect(failure.errors.map((error) => error.location)).toEqual([
      { endpoint: 'broken', path: 'endpoints[0].model.config.dimensions', line: 7, column: 21 },
    ]);
    expect(applied).toEqual([]);
  });

  it('reports a YAML syntax error with its line', async () => {
    const { path, watcher } = await watchFile(plainFile);
    const failed = nextFailure(watcher);
    writeFileSync(path, 'endpoints:\n  - name: [unclosed\n');
    const failure = await failed;
    expect(failure.errors).toHaveLength(1);
    expect(failure.errors[0]?.message).toMatch(/^The file at .* is not a valid yaml file: /);
    expect(failure.errors[0]?.location.line).toBeTypeOf('number');
  });

  it('applies the next valid file after an invalid one', async () => {
    const { path, watcher, applied } = await watchFile(plainFile);
    const failed = nextFailure(watcher);
    writeFileSync(path, 'endpoints: 12\n');
    await failed;
    const reloaded = nextReload(watcher);
    writeFileSync(path, yamlWith('fixed'));
    expect(await reloaded).toEqual(['fixed']);
    expect(applied).toEqual([['fixed']]);
  });

  it('ignores a write that leaves the contents as they are', async () => {
    const { path, watcher, applied } = await watchFile(plainFile);
    const unchanged = once(watcher, 'unchanged');
    writeFileSync(path, yamlWith('first'));
    await unchanged;
    expect(applied).toEqual([]);
    const reloaded = nextReload(watcher);
    writeFileSync(path, yamlWith('first', 'changed'));
    expect(await reloaded).toEqual(['first', 'changed']);
    expect(applied).toEqual([['first', 'changed']]);
  });

  it('ends a burst of writes on the last file written', async () => {
    const { path, watcher, applied } = await watchFile(plainFile);
    const last = new Promise<void>((resolve) => {
      watcher.on('reloaded', (config) => {
        if (namesOf(config).includes('v20')) resolve();
      });
    });
    for (let version = 1; version <= 20; version += 1) {
      writeFileSync(path, version === 10 ? 'endpoints: [' : yamlWith(`v${version}`));
    }
    await last;
    expect(applied.at(-1)).toEqual(['v20']);
    expect(applied.length).toBeLessThan(20);
  });

  it('reports a deleted file, keeps the config, and applies the file when it returns changed', async () => {
    const { path, watcher, applied } = await watchFile(plainFile);
    const failed = nextFailure(watcher);
    unlinkSync(path);
    const failure = await failed;
    expect(failure.reason).toBe('deleted');
    expect(failure.errors.map((error) => error.message)).toEqual([`${path} deleted`]);
    const reloaded = nextReload(watcher);
    writeFileSync(path, yamlWith('back'));
    expect(await reloaded).toEqual(['back']);
    expect(applied).toEqual([['back']]);
  });

  it('counts a failing apply as a failed reload', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'llmgw-watch-'));
    const path = plainFile(directory);
    let attempts = 0;
    const watcher = new ConfigWatcher({
      path,
      registry: new ProviderRegistry(),
      appliedDigest: digestConfigText(readFileSync(path, 'utf8')),
      apply: () => {
        attempts += 1;
        throw new Error('could not build');
      },
      debounceMs: 50,
    });
    await watcher.start();
    cleanups.push(async () => {
      await watcher.close();
      rmSync(directory, { recursive: true, force: true });
    });
    const failed = nextFailure(watcher);
    writeFileSync(path, yamlWith('second'));
    expect((await failed).errors.map((error) => error.message)).toEqual(['could not build']);
    expect(attempts).toBe(1);
  });
  it('applies, while starting, a change written after the caller loaded the file', async () => {
    const reloads: string[][] = [];
    const { applied } = await watchFile(plainFile, {
      loaded: yamlWith('loaded-before-the-edit'),
      setup: (watcher) => watcher.on('reloaded', (config) => reloads.push(namesOf(config))),
    });
    expect(applied).toEqual([['first']]);
    expect(reloads).toEqual([['first']]);
  });

  it('starts without applying anything when the file is as the caller loaded it', async () => {
    const unchanged: number[] = [];
    const { applied } = await watchFile(plainFile, {
      setup: (watcher) => watcher.on('unchanged', () => unchanged.push(1)),
    });
    expect(applied).toEqual([]);
    expect(unchanged).toEqual([1]);
  });

  it('reports a throwing reloaded listener, still calls the others, and keeps reloading', async () => {
    const errors: unknown[] = [];
    const seen: string[][] = [];
    const failures: ReloadFailure[] = [];
    const { path, watcher, applied } = await watchFile(plainFile, {
      setup: (watcher) => {
        watcher.on('reloaded', () => {
          throw new Error('listener broke');
        });
        watcher.on('reloaded', (config) => seen.push(namesOf(config)));
        watcher.on('watch-error', (error) => errors.push(error));
        watcher.on('reload-failed', (failure) => failures.push(failure));
      },
    });
    const first = nextReload(watcher);
    writeFileSync(path, yamlWith('second'));
    await first;
    const later = nextReload(watcher);
    writeFileSync(path, yamlWith('third'));
    expect(await later).toEqual(['third']);
    expect(applied).toEqual([['second'], ['third']]);
    expect(seen).toEqual([['second'], ['third']]);
    expect(errors.map((error) => (error as Error).message)).toEqual(['listener broke', 'listener broke']);
    expect(failures).toEqual([]);
  });

  it('keeps reloading after a reload-failed listener throws', async () => {
    const errors: unknown[] = [];
    const { path, watcher } = await watchFile(plainFile, {
      setup: (watcher) => {
        watcher.on('reload-failed', () => {
          throw new Error('failure listener broke');
        });
        watcher.on('watch-error', (error) => errors.push(error));
      },
    });
    const failed = nextFailure(watcher);
    writeFileSync(path, 'endpoints: 12\n');
    await failed;
    const reloaded = nextReload(watcher);
    writeFileSync(path, yamlWith('fixed'));
    expect(await reloaded).toEqual(['fixed']);
    expect(errors.map((error) => (error as Error).message)).toEqual(['failure listener broke']);
  });

  it('keeps reloading after an unchanged listener and a watch-error listener throw', async () => {
    const { path, watcher } = await watchFile(plainFile, {
      setup: (watcher) => {
        watcher.on('unchanged', () => {
          throw new Error('unchanged listener broke');
        });
        watcher.on('watch-error', () => {
          throw new Error('error listener broke too');
        });
      },
    });
    const unchanged = once(watcher, 'unchanged');
    writeFileSync(path, yamlWith('first'));
    await unchanged;
    const reloaded = nextReload(watcher);
    writeFileSync(path, yamlWith('after'));
    expect(await reloaded).toEqual(['after']);
  });

  it('keeps reloading after an apply that throws', async () => {
    let isBroken = true;
    const { path, watcher, applied } = await watchFile(plainFile, {
      onApply: () => {
        if (isBroken) throw new Error('could not build');
      },
    });
    const failed = nextFailure(watcher);
    writeFileSync(path, yamlWith('second'));
    expect((await failed).errors.map((error) => error.message)).toEqual(['could not build']);
    isBroken = false;
    const reloaded = nextReload(watcher);
    writeFileSync(path, yamlWith('third'));
    expect(await reloaded).toEqual(['third']);
    expect(applied).toEqual([['second'], ['third']]);
  });
});
