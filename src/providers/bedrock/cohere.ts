import { z } from 'zod';
import { InvalidRequestError } from '../../errors.js';
import { parseUpstreamBody } from '../base.js';
import { renameFields } from '../renames.js';
import { toCompletionsResponse, type CompletionsFamily } from './completions.js';
import { DISPLAY_NAME, toPayload } from './payload.js';

// Cohere Command text on Bedrock (reference §5.4, cohere.md §7): Cohere's v1 Generate body, which
// the gateway's Cohere provider no longer sends (it moved to v2 chat), so nothing is shared.

const RENAMES = { stop: 'stop_sequences', n: 'num_generations' } as const;
/** cohere.md §3: the gateway's 0–2 temperature onto Cohere v1's 0–5. */
const TEMPERATURE_SCALE = 2.5;

const responseSchema = z.object({ generations: z.array(z.object({ text: z.string() })).optional() });

export const cohereFamily: CompletionsFamily = {
  name: 'cohere',
  toBody(request) {
    const payload = toPayload(request);
    // Checked before renaming and with 400, as MLflow's Cohere adapter does.
    for (const [gatewayName, cohereName] of Object.entries(RENAMES)) {
      if (Object.hasOwn(payload, cohereName)) {
        throw new InvalidRequestError(
          400,
          `Invalid parameter ${cohereName}. Use ${gatewayName} instead.`,
          cohereName,
        );
      }
    }
    if (typeof payload.temperature === 'number') payload.temperature *= TEMPERATURE_SCALE;
    return renameFields(payload, RENAMES);
  },
  fromResponse(json, model) {
    const body = parseUpstreamBody(responseSchema, json, DISPLAY_NAME);
    const generations = body.generations ?? [];
    return toCompletionsResponse(
      model,
      generations.map((generation) => ({ text: generation.text, finish_reason: null })),
    );
  },
};
