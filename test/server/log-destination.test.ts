import { mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { logDestination } from '../../src/server/start.js';

/** Linux's PIPE_BUF: a write to a pipe up to this size is atomic. */
const PIPE_BUF = 4096;

/** The module object sonic-boom calls `writeSync` on (an ESM namespace cannot be spied on). */
const fs = createRequire(import.meta.url)('node:fs') as typeof import('node:fs');

const directory = mkdtempSync(join(tmpdir(), 'llmgw-log-'));

afterEach(() => {
  vi.restoreAllMocks();
});

describe('the production log destination', () => {
  it('batches whole lines into writes that each stay under PIPE_BUF, and loses none', () => {
    const path = join(directory, 'batched.log');
    const fd = openSync(path, 'w');
    // A spy calls through: the file gets every byte, and each call is recorded.
    const writeSync = vi.spyOn(fs, 'writeSync');
    const stream = logDestination(fd);
    const log = pino({ level: 'info' }, stream);
    // Access-log-like lines of 300 to 450 ASCII characters, and every third one 1,200 characters
    // of 3-byte UTF-8: a batch counted in characters alone would pass 4 KB.
    for (let index = 0; index < 60; index += 1) {
      const text = index % 3 === 2 ? '€'.repeat(1200) : 'x'.repeat(250 + ((index * 37) % 150));
      log.info({ index, text }, 'line');
    }
    stream.flushSync();
    const writes = writeSync.mock.calls
      .filter(([target]) => target === fd)
      .map(([, data]) =>
        typeof data === 'string' ? data : Buffer.from(data as Uint8Array).toString('utf8'),
      );
    const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
    expect(lines.map((line) => (JSON.parse(line) as { index: number }).index)).toEqual(
      Array.from({ length: 60 }, (_, index) => index),
    );
    expect(writes.length).toBeGreaterThan(1);
    expect(writes.length).toBeLessThan(60);
    for (const data of writes) {
      expect(Buffer.byteLength(data)).toBeLessThanOrEqual(PIPE_BUF);
      expect(data.endsWith('\n')).toBe(true);
    }
    stream.end();
    rmSync(directory, { recursive: true, force: true });
  });
});
