import { z } from 'zod';

// Anthropic Messages API request (ingress reference §2.1), only as far as translation reads it.
// Objects are loose: a passthrough sends the client's own body, and translation decides field
// by field what it maps, drops or refuses.

const cacheHint = { cache_control: z.unknown().optional() };

const textBlockSchema = z.looseObject({ type: z.literal('text'), text: z.string(), ...cacheHint });

const imageSourceSchema = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('base64'), media_type: z.string(), data: z.string() }),
  z.looseObject({ type: z.literal('url'), url: z.string() }),
]);

const imageBlockSchema = z.looseObject({ type: z.literal('image'), source: imageSourceSchema, ...cacheHint });

const toolUseBlockSchema = z.looseObject({
  type: z.literal('tool_use'),
  id: z.string(),
  name: z.string(),
  input: z.unknown(),
  ...cacheHint,
});

const toolResultBlockSchema = z.looseObject({
  type: z.literal('tool_result'),
  tool_use_id: z.string(),
  content: z.union([z.string(), z.array(z.union([textBlockSchema, imageBlockSchema]))]).optional(),
  is_error: z.boolean().optional(),
  ...cacheHint,
});

/** Blocks translation understands; any other `type` is refused by name (request.ts). */
const knownBlockSchema = z.discriminatedUnion('type', [
  textBlockSchema,
  imageBlockSchema,
  toolUseBlockSchema,
  toolResultBlockSchema,
  z.looseObject({ type: z.literal('thinking') }),
  z.looseObject({ type: z.literal('redacted_thinking') }),
]);
const KNOWN_BLOCK_TYPES: ReadonlySet<string> = new Set(
  knownBlockSchema.options.map((option) => option.shape.type.value),
);
/** Any other block type, kept so that translation can refuse it by name (never a malformed known block). */
const otherBlockSchema = z.looseObject({
  type: z.string().refine((type) => !KNOWN_BLOCK_TYPES.has(type), { error: 'malformed content block' }),
});

export const contentBlockSchema = z.union([knownBlockSchema, otherBlockSchema]);
export type ContentBlock = z.infer<typeof knownBlockSchema>;
export type ImageBlock = z.infer<typeof imageBlockSchema>;
export type TextBlock = z.infer<typeof textBlockSchema>;

const messageSchema = z.looseObject({
  // Claude Code sends `system` messages to models it does not know (reference §2.5).
  role: z.enum(['user', 'assistant', 'system']),
  content: z.union([z.string(), z.array(contentBlockSchema)]),
});
export type AnthropicMessage = z.infer<typeof messageSchema>;

const toolSchema = z.looseObject({
  // Client tools have no type (or `custom`); server tools (`web_search_…`, `bash_…`) have one.
  type: z.string().optional(),
  name: z.string(),
  description: z.string().optional(),
  input_schema: z
    .looseObject({
      type: z.literal('object'),
      properties: z.record(z.string(), z.looseObject({})).optional(),
      required: z.array(z.string()).optional(),
    })
    .optional(),
});
export type AnthropicTool = z.infer<typeof toolSchema>;

const toolChoiceSchema = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('auto'), disable_parallel_tool_use: z.boolean().optional() }),
  z.looseObject({ type: z.literal('any'), disable_parallel_tool_use: z.boolean().optional() }),
  z.looseObject({ type: z.literal('none') }),
  z.looseObject({
    type: z.literal('tool'),
    name: z.string(),
    disable_parallel_tool_use: z.boolean().optional(),
  }),
]);
export type AnthropicToolChoice = z.infer<typeof toolChoiceSchema>;

/** What every call needs, passthrough included: the endpoint name. */
export const routedBodySchema = z.looseObject({ model: z.string().min(1), stream: z.boolean().optional() });

/** A Messages (or count_tokens) body as translation reads it. */
export const messagesRequestSchema = z.looseObject({
  model: z.string().min(1),
  max_tokens: z.number().int().min(1).optional(),
  messages: z.array(messageSchema),
  system: z.union([z.string(), z.array(textBlockSchema)]).optional(),
  temperature: z.number().min(0).max(1).optional(),
  top_p: z.number().min(0).max(1).optional(),
  stop_sequences: z.array(z.string()).optional(),
  stream: z.boolean().optional(),
  tools: z.array(toolSchema).optional(),
  tool_choice: toolChoiceSchema.optional(),
  metadata: z.looseObject({ user_id: z.string().nullish() }).optional(),
});
export type MessagesRequest = z.infer<typeof messagesRequestSchema>;
