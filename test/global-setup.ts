import { execFileSync } from 'node:child_process';
import { lstatSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const plugin = join(root, 'examples', 'plugin');

/**
 * CLI tests spawn the built dist/cli.js; build it once per run. The example plugin is built
 * after it (its types come from dist/) and gets the link to llmgw that `npm install` of its
 * `file:../..` dependency would make, so its `import 'llmgw'` resolves without the network.
 */
export default function setup(): void {
  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
  const link = join(plugin, 'node_modules', 'llmgw');
  if (lstatSync(link, { throwIfNoEntry: false }) === undefined) {
    mkdirSync(join(plugin, 'node_modules'), { recursive: true });
    symlinkSync(join('..', '..', '..'), link, 'dir');
  }
  execFileSync('npx', ['tsc', '-p', join(plugin, 'tsconfig.build.json')], { cwd: root, stdio: 'inherit' });
}
