import { execFileSync } from 'node:child_process';

/** CLI tests spawn the built dist/cli.js; build it once per run. */
export default function setup(): void {
  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
}
