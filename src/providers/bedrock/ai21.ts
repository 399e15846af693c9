import { z } from 'zod';
import { parseUpstreamBody } from '../base.js';
import { renameFields } from '../renames.js';
import { toCompletionsResponse, type CompletionsFamily } from './completions.js';
import { DISPLAY_NAME, toPayload } from './payload.js';

// AI21 Jurassic-2 on Bedrock (reference §5.3): the request with AI21's names, nothing scaled.

const RENAMES = { stop: 'stopSequences', n: 'numResults', max_tokens: 'maxTokens' } as const;

const responseSchema = z.object({
  completions: z.array(z.object({ data: z.object({ text: z.string() }) })).optional(),
});

export const ai21Family: CompletionsFamily = {
  name: 'ai21',
  toBody(request) {
    return renameFields(toPayload(request), RENAMES);
  },
  fromResponse(json, model) {
    const body = parseUpstreamBody(responseSchema, json, DISPLAY_NAME);
    const completions = body.completions ?? [];
    return toCompletionsResponse(
      model,
      completions.map((completion) => ({ text: completion.data.text, finish_reason: null })),
    );
  },
};
