import { createRequire } from 'node:module';

// Both src/ and dist/ sit one level below the package root.
const packageJson = createRequire(import.meta.url)('../package.json') as { version: string };

export const VERSION = packageJson.version;
