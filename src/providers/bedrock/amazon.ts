import { z } from 'zod';
import { InvalidRequestError } from '../../errors.js';
import { parseUpstreamBody } from '../base.js';
import { renameFields } from '../renames.js';
import { toCompletionsResponse, type CompletionsFamily } from './completions.js';
import { DISPLAY_NAME, toPayload } from './payload.js';

// Amazon Titan text on Bedrock (reference §5.2): the prompt as `inputText`, every other field in
// `textGenerationConfig`.

const RENAMES = { max_tokens: 'maxTokenCount', stop: 'stopSequences' } as const;
/** The gateway's 0–2 temperature onto Titan's 0–1. */
const TEMPERATURE_SCALE = 0.5;

const responseSchema = z.object({ results: z.array(z.object({ outputText: z.string() })).optional() });

export const amazonFamily: CompletionsFamily = {
  name: 'amazon',
  toBody(request) {
    const { prompt, n, temperature, ...rest } = toPayload(request);
    if (n !== undefined) {
      throw new InvalidRequestError(
        422,
        `'n' must be '1' for AWS Titan models. Received value: '${request.n}'.`,
        'n',
      );
    }
    const config = renameFields(rest, RENAMES);
    if (typeof temperature === 'number') config.temperature = temperature * TEMPERATURE_SCALE;
    return { inputText: prompt, textGenerationConfig: config };
  },
  fromResponse(json, model) {
    const body = parseUpstreamBody(responseSchema, json, DISPLAY_NAME);
    const results = body.results ?? [];
    return toCompletionsResponse(
      model,
      results.map((result) => ({ text: result.outputText, finish_reason: null })),
    );
  },
};
