import { EventEmitter } from 'node:events';
import { readFile, realpath, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import { ConfigError, ConfigErrors } from '../errors.js';
import type { ProviderSource } from './plugins.js';
import { digestConfigText, parseConfig, type GatewayConfig } from './load.js';

/**
 * Quiet time after the last file event before the file is read: one reload per burst. An
 * editor's save or a ConfigMap swap ends within a few ms; a read that still catches a partial
 * file fails, keeps the old config, and the write's next event reads it again.
 */
export const DEFAULT_RELOAD_DEBOUNCE_MS = 20;

/** The kubelet's ConfigMap mount: `<file>` → `..data/<file>`, `..data` → `..<timestamp>/`. */
const CONFIG_MAP_DATA = '..data';

export interface ConfigWatcherOptions {
  /** The config path as given; it may be a symlink (a Kubernetes ConfigMap mount). */
  path: string;
  /** Resolves `provider:` names; a plugin source re-reads the file's `plugins:` each reload. */
  registry: ProviderSource;
  /** `digest` of the config already serving; the same text is never applied again. */
  appliedDigest: string;
  /** Puts a valid config in force; a throw counts as a failed reload. */
  apply: (config: GatewayConfig) => void | Promise<void>;
  debounceMs?: number;
}

/** Why a changed file was not applied; the old config keeps serving. */
export interface ReloadFailure {
  reason: 'deleted' | 'invalid';
  /** Each one names the endpoint, field path and line where known. */
  errors: ConfigError[];
}

interface ConfigWatcherEvents {
  reloaded: [GatewayConfig];
  'reload-failed': [ReloadFailure];
  /** The file was touched or rewritten with the text already serving (or already rejected). */
  unchanged: [];
  /** A step of the watcher, or one of its listeners, threw; the watcher carries on. */
  'watch-error': [unknown];
}

/** How often the file is stat'ed in case a change event was lost. */
export const STAT_POLL_INTERVAL_MS = 1000;

async function statSignature(path: string): Promise<string> {
  try {
    const stats = await stat(path);
    return `${stats.mtimeMs}:${stats.size}:${stats.ino}`;
  } catch {
    return 'missing';
  }
}

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException).code === 'ENOENT';
}

function toConfigErrors(error: unknown): ConfigError[] {
  if (error instanceof ConfigErrors) return error.errors;
  return [new ConfigError(error instanceof Error ? error.message : String(error))];
}

/**
 * Watches a config file and applies each valid new version (reference §3). Both the directory
 * named by the path and the directory of the file it resolves to are watched, so an editor's
 * write-in-place, a write-then-rename and a ConfigMap's symlink swap of `..data` are all seen.
 * Any event leads to one debounced read; only text that differs from what is serving is parsed
 * and validated, and reloads run one at a time, so a burst ends on the file as last written.
 * Nothing a check or a listener throws stops the next check.
 */
export class ConfigWatcher extends EventEmitter<ConfigWatcherEvents> {
  readonly #path: string;
  readonly #registry: ProviderSource;
  readonly #apply: ConfigWatcherOptions['apply'];
  readonly #debounceMs: number;
  /** Digests (sha256) of the texts serving and last rejected. */
  #applied: string;
  #rejected: string | null = null;
  #isMissing = false;
  #watcher: FSWatcher | null = null;
  #isClosed = false;
  #directories = new Set<string>();
  /** The entries of the watched directories that can change the config. */
  #relevant = new Set<string>();
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | null = null;
  #isDirty = false;
  #poll: NodeJS.Timeout | undefined;
  /** The file's mtime, size and inode when it was last read, for the poll to compare. */
  #seen = '';

  constructor(options: ConfigWatcherOptions) {
    super();
    this.#path = resolve(options.path);
    this.#registry = options.registry;
    this.#apply = options.apply;
    this.#applied = options.appliedDigest;
    this.#debounceMs = options.debounceMs ?? DEFAULT_RELOAD_DEBOUNCE_MS;
  }

  /**
   * Starts watching, then checks the file once more: a write between the caller's load and the
   * watch being set up (a worker starting while the file is edited) reports no event, so it is
   * caught here.
   */
  async start(): Promise<void> {
    const { directories, relevant } = await this.#targets();
    this.#directories = directories;
    this.#relevant = relevant;
    const watcher = watch([...directories], {
      ignoreInitial: true,
      depth: 0,
      // A ConfigMap's `..data` is a symlink to a directory: report its swap, don't descend.
      followSymlinks: false,
      // Only the config's own entries count: a file written next to it (a log written per
      // request, the rest of /tmp) never schedules a check.
      ignored: (path: string) => !this.#directories.has(path) && !this.#relevant.has(path),
    });
    this.#watcher = watcher;
    watcher.on('all', () => {
      this.#schedule();
    });
    watcher.on('error', () => {
      this.#schedule();
    });
    await new Promise<void>((ready) => watcher.once('ready', ready));
    await this.#run();
    // A safety net under the events: chokidar coalesces a change that follows another within
    // its throttle window, and a busy machine can lose one. One stat a second is cheap.
    this.#poll = setInterval(() => {
      void this.#pollFile();
    }, STAT_POLL_INTERVAL_MS);
    this.#poll.unref();
  }

  async #pollFile(): Promise<void> {
    if (this.#running || this.#timer !== undefined) return;
    if ((await statSignature(this.#path)) !== this.#seen) this.#schedule();
  }

  async close(): Promise<void> {
    this.#isClosed = true;
    clearInterval(this.#poll);
    clearTimeout(this.#timer);
    await this.#watcher?.close();
    this.#watcher = null;
    await this.#running;
  }

  /** The directories to watch and every path in them whose events matter. */
  async #targets(): Promise<{ directories: Set<string>; relevant: Set<string> }> {
    const directory = dirname(this.#path);
    const directories = new Set([directory]);
    const relevant = new Set([this.#path, join(directory, CONFIG_MAP_DATA)]);
    try {
      const real = await realpath(this.#path);
      directories.add(dirname(real));
      relevant.add(real);
    } catch {
      // Missing for now: the path's own directory is watched, so its return is seen.
    }
    return { directories, relevant };
  }

  #schedule(): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#run();
    }, this.#debounceMs);
  }

  /** Runs a check now, or once more after the one running; resolves when none is left. */
  #run(): Promise<void> {
    if (this.#running) {
      this.#isDirty = true;
      return this.#running;
    }
    this.#running = this.#checkUntilClean();
    return this.#running;
  }

  async #checkUntilClean(): Promise<void> {
    try {
      do {
        try {
          await this.#check();
        } catch (error) {
          this.#report(error);
        }
      } while (this.#takeDirty() && !this.#isClosed);
    } finally {
      this.#running = null;
    }
  }

  /** Whether events arrived during the last check (and clears the mark). */
  #takeDirty(): boolean {
    const isDirty = this.#isDirty;
    this.#isDirty = false;
    return isDirty;
  }

  async #check(): Promise<void> {
    await this.#followSymlinks();
    // Read before the text, so a write in between makes the next poll look again.
    this.#seen = await statSignature(this.#path);
    let text: string;
    try {
      text = await readFile(this.#path, 'utf8');
    } catch (error) {
      if (isMissing(error)) {
        if (this.#isMissing) return;
        this.#isMissing = true;
        this.#fail('deleted', [new ConfigError(`${this.#path} deleted`)]);
      } else {
        this.#fail('invalid', toConfigErrors(error));
      }
      return;
    }
    this.#isMissing = false;
    const digest = digestConfigText(text);
    if (digest === this.#applied || digest === this.#rejected) {
      this.#emitSafely('unchanged');
      return;
    }
    let config: GatewayConfig;
    try {
      config = parseConfig(text, await this.#registry.registryFor(text, this.#path), this.#path);
      await this.#apply(config);
    } catch (error) {
      this.#rejected = digest;
      this.#fail('invalid', toConfigErrors(error));
      return;
    }
    this.#applied = digest;
    this.#rejected = null;
    this.#emitSafely('reloaded', config);
  }

  /** After a symlink swap the file lives in a new directory: watch it, drop the old one. */
  async #followSymlinks(): Promise<void> {
    const { directories, relevant } = await this.#targets();
    const watcher = this.#watcher;
    if (this.#isClosed || watcher === null) return;
    const added = [...directories].filter((directory) => !this.#directories.has(directory));
    const removed = [...this.#directories].filter((directory) => !directories.has(directory));
    this.#directories = directories;
    this.#relevant = relevant;
    if (added.length > 0) watcher.add(added);
    if (removed.length > 0) watcher.unwatch(removed);
  }

  #fail(reason: ReloadFailure['reason'], errors: ConfigError[]): void {
    this.#emitSafely('reload-failed', { reason, errors });
  }

  /** Calls every listener even when one throws; a throw is reported, never fatal. */
  #emitSafely<E extends keyof ConfigWatcherEvents>(event: E, ...args: ConfigWatcherEvents[E]): void {
    for (const listener of this.rawListeners(event)) {
      try {
        (listener as (...values: ConfigWatcherEvents[E]) => void)(...args);
      } catch (error) {
        this.#report(error);
      }
    }
  }

  #report(error: unknown): void {
    for (const listener of this.rawListeners('watch-error')) {
      try {
        listener(error);
      } catch {
        // A throwing error listener has nobody left to tell; the next check still runs.
      }
    }
  }
}
