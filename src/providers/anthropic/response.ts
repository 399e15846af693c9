import { z } from 'zod';
import type { ChatResponse } from '../../schemas/chat.js';
import type { Usage } from '../../schemas/generation.js';
import type { CompletionsResponse } from '../../schemas/completions.js';
import { parseUpstreamBody } from '../base.js';
import { toPythonJson } from '../python-json.js';
import { nowSeconds } from '../timestamps.js';

export const DISPLAY_NAME = 'Anthropic';

/** The fields each block type must carry; other types (thinking, server tools…) are skipped. */
const BLOCK_FIELDS: Readonly<Record<string, readonly ('text' | 'id' | 'name' | 'input')[]>> = {
  text: ['text'],
  tool_use: ['id', 'name', 'input'],
};

const contentBlockSchema = z
  .object({
    type: z.string(),
    text: z.string().optional(),
    id: z.string().optional(),
    name: z.string().optional(),
    input: z.unknown().optional(),
  })
  .superRefine((block, context) => {
    for (const key of BLOCK_FIELDS[block.type] ?? []) {
      if (block[key] !== undefined) continue;
      context.addIssue({
        code: 'invalid_type',
        expected: 'nonoptional',
        input: undefined,
        path: [key],
        message: `missing ${key}`,
      });
    }
  });
type ContentBlock = z.infer<typeof contentBlockSchema>;

const messageSchema = z.object({
  id: z.string(),
  model: z.string(),
  role: z.string(),
  content: z.array(contentBlockSchema),
  stop_reason: z.string().nullish(),
  usage: z.object({ input_tokens: z.number().int(), output_tokens: z.number().int() }),
});

/** Reference §5: only `max_tokens` is a length stop; every other reason is `stop`. */
const FINISH_REASONS: Readonly<Record<string, string>> = { max_tokens: 'length' };

export function toFinishReason(stopReason: string | null | undefined): string {
  return (stopReason ? FINISH_REASONS[stopReason] : undefined) ?? 'stop';
}

function toUsage(usage: z.infer<typeof messageSchema>['usage']): Usage {
  const { input_tokens: prompt, output_tokens: completion } = usage;
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

/** The reply's text blocks as one string; thinking and server-tool blocks are not the answer. */
function joinText(blocks: readonly ContentBlock[]): string | null {
  const texts = blocks.flatMap((block) =>
    block.type === 'text' && block.text !== undefined ? [block.text] : [],
  );
  return texts.length === 0 ? null : texts.join('');
}

export function fromAnthropicChatResponse(json: unknown): ChatResponse {
  const body = parseUpstreamBody(messageSchema, json, DISPLAY_NAME);
  const toolCalls = body.content
    .filter((block) => block.type === 'tool_use')
    .map(({ id, name, input }) => ({
      id: id ?? null,
      type: 'function',
      function: { name: name ?? null, arguments: toPythonJson(input) },
    }));
  return {
    id: body.id,
    object: 'chat.completion',
    created: nowSeconds(),
    model: body.model,
    choices: [
      {
        index: 0,
        message: {
          role: body.role,
          content: joinText(body.content),
          tool_calls: toolCalls.length === 0 ? null : toolCalls,
          refusal: null,
        },
        finish_reason: toFinishReason(body.stop_reason),
      },
    ],
    usage: toUsage(body.usage),
  };
}

/** Reference §7: `id` stays null as MLflow's; usage is filled from the Messages reply. */
export function fromAnthropicCompletionsResponse(json: unknown): CompletionsResponse {
  const body = parseUpstreamBody(messageSchema, json, DISPLAY_NAME);
  return {
    id: null,
    object: 'text_completion',
    created: nowSeconds(),
    model: body.model,
    choices: [
      { index: 0, text: joinText(body.content) ?? '', finish_reason: toFinishReason(body.stop_reason) },
    ],
    usage: toUsage(body.usage),
  };
}
