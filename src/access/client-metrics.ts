import { Counter, type Registry } from 'prom-client';
import type { ClientLimitKind } from './client-limits.js';

// Per-client series. The `client` label is a configured client's name, never anything a caller
// sent, so series stay bounded; keys never appear.

export class ClientMetrics {
  readonly #requests: Counter<'client'>;
  readonly #tokens: Counter<'client' | 'token_type'>;
  readonly #spend: Counter<'client'>;
  readonly #refused: Counter<'client' | 'reason'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.#requests = new Counter({
      name: 'llmgw_client_requests_total',
      help: 'Invocations admitted, by client.',
      labelNames: ['client'],
      registers,
    });
    this.#tokens = new Counter({
      name: 'llmgw_client_tokens_total',
      help: 'Tokens used, by client and type (input, output), as the upstreams reported them.',
      labelNames: ['client', 'token_type'],
      registers,
    });
    this.#spend = new Counter({
      name: 'llmgw_client_spend_usd_total',
      help: "Spend in USD, by client, priced from the serving endpoint's pricing.",
      labelNames: ['client'],
      registers,
    });
    this.#refused = new Counter({
      name: 'llmgw_client_refused_total',
      help: 'Requests refused, by client and reason (unauthorized, forbidden, calls, tokens, budget).',
      labelNames: ['client', 'reason'],
      registers,
    });
  }

  admitted(client: string): void {
    this.#requests.inc({ client });
  }

  used(client: string, inputTokens: number, outputTokens: number, costMicroUsd: number): void {
    if (inputTokens > 0) this.#tokens.inc({ client, token_type: 'input' }, inputTokens);
    if (outputTokens > 0) this.#tokens.inc({ client, token_type: 'output' }, outputTokens);
    if (costMicroUsd > 0) this.#spend.inc({ client }, costMicroUsd / 1_000_000);
  }

  /** `client` is `_unknown` for a missing or unknown key. */
  refused(client: string, reason: ClientLimitKind | 'unauthorized' | 'forbidden'): void {
    this.#refused.inc({ client, reason });
  }
}
