import type { CompletionsRequest } from '../../schemas/completions.js';

export const DISPLAY_NAME = 'Amazon Bedrock';

/** Reference §3: the gateway's defaults, which MLflow's Bedrock provider drops even when sent. */
const DEFAULTS: Readonly<Record<string, unknown>> = { temperature: 0, n: 1 };

export type Payload = Record<string, unknown>;

/** Reference §3: the request without absent fields and without fields equal to their default. */
export function toPayload(request: CompletionsRequest): Payload {
  const payload: Payload = {};
  for (const [key, value] of Object.entries(request)) {
    if (value === undefined || value === null || (Object.hasOwn(DEFAULTS, key) && DEFAULTS[key] === value)) {
      continue;
    }
    payload[key] = value;
  }
  return payload;
}
