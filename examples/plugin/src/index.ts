// The plugin's one declaration: llmgw imports this module and registers every class listed.
import type { ProviderClass } from 'llmgw';
import { AcmeAdapter } from './acme.js';

export { AcmeAdapter, acmeConfigSchema, type AcmeConfig } from './acme.js';

export const providers = [AcmeAdapter] satisfies ProviderClass[];
