import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';

/** The built CLI; vitest's globalSetup builds it once. */
export const CLI = join(import.meta.dirname, '..', '..', 'dist', 'cli.js');

const LISTENING_URL = /"url":"(http:\/\/127\.0\.0\.1:\d+)"/;

/** Resolves with the URL a spawned `llmgw start` logs once it listens; rejects if it exits first. */
export function listeningUrl(child: ChildProcessWithoutNullStreams): Promise<string> {
  let output = '';
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = LISTENING_URL.exec(output);
      if (match?.[1]) resolve(match[1]);
    });
    child.once('exit', (code) => {
      reject(new Error(`llmgw start exited with ${String(code)} before listening: ${output}`));
    });
  });
}
