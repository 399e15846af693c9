import { z } from 'zod';
import { generationFields, usageSchema } from './generation.js';
import { laxBool } from './lax.js';

// The gateway's chat wire format (reference §5.2). Nested objects drop unknown keys; the
// request itself keeps them, and adapters forward them.

const contentPartSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text'), text: z.string() }),
  z.object({
    type: z.literal('image_url'),
    image_url: z.object({ url: z.string(), detail: z.enum(['auto', 'low', 'high']).optional() }),
  }),
  z.object({
    type: z.literal('input_audio'),
    input_audio: z.object({ data: z.string(), format: z.enum(['wav', 'mp3']) }),
  }),
]);
export type ContentPart = z.infer<typeof contentPartSchema>;

const functionCallSchema = z.object({ name: z.string(), arguments: z.string() });

const toolCallSchema = z.object({
  id: z.string(),
  type: z.string().default('function'),
  function: functionCallSchema,
});
export type ToolCall = z.infer<typeof toolCallSchema>;

export const chatMessageSchema = z.object({
  role: z.string(),
  content: z.union([z.string(), z.array(contentPartSchema)]).optional(),
  tool_calls: z.array(toolCallSchema).optional(),
  refusal: z.string().optional(),
  tool_call_id: z.string().optional(),
});
export type ChatMessage = z.infer<typeof chatMessageSchema>;

// A tool's parameters are a JSON Schema passed on whole: MLflow keeps only a few keywords of
// each property, which breaks agents' nested schemas (`anyOf`, `$defs`, nested `items`, …).
const functionDefinitionSchema = z.object({
  name: z.string(),
  description: z.string().optional(),
  strict: laxBool(z.boolean()).optional(),
  parameters: z
    .looseObject({
      type: z.literal('object').default('object'),
      properties: z.record(z.string(), z.looseObject({})).optional(),
      required: z.array(z.string()).optional(),
    })
    .optional(),
});
export type FunctionDefinition = z.infer<typeof functionDefinitionSchema>;

const toolSchema = z.looseObject({
  type: z.enum(['function', 'uc_function']),
  function: functionDefinitionSchema.optional(),
  uc_function: z.object({ name: z.string() }).optional(),
});
export type Tool = z.infer<typeof toolSchema>;

export const chatRequestSchema = z.looseObject({
  messages: z.array(chatMessageSchema).min(1),
  ...generationFields,
  tools: z.array(toolSchema).optional(),
});
export type ChatRequest = z.infer<typeof chatRequestSchema>;

const responseToolCallSchema = z.object({
  id: z.string().nullable(),
  type: z.string(),
  function: z.object({ name: z.string().nullable(), arguments: z.string().nullable() }),
});
export type ResponseToolCall = z.infer<typeof responseToolCallSchema>;

export const chatResponseSchema = z.object({
  id: z.string().nullable(),
  object: z.string(),
  created: z.number().int(),
  model: z.string().nullable(),
  choices: z.array(
    z.object({
      index: z.number().int(),
      message: z.object({
        role: z.string(),
        content: z.string().nullable(),
        tool_calls: z.array(responseToolCallSchema).nullable(),
        refusal: z.string().nullable(),
      }),
      finish_reason: z.string().nullable(),
    }),
  ),
  usage: usageSchema,
});
export type ChatResponse = z.infer<typeof chatResponseSchema>;

const toolCallDeltaSchema = z.object({
  index: z.number().int(),
  id: z.string().nullable(),
  type: z.string().nullable(),
  function: z.object({ name: z.string().nullable(), arguments: z.string().nullable() }),
});
export type ToolCallDelta = z.infer<typeof toolCallDeltaSchema>;

export const chatChunkSchema = z.object({
  id: z.string().nullable(),
  object: z.string(),
  created: z.number().int(),
  model: z.string().nullable(),
  choices: z.array(
    z.object({
      index: z.number().int(),
      finish_reason: z.string().nullable(),
      delta: z.object({
        role: z.string().nullable(),
        content: z.string().nullable(),
        tool_calls: z.array(toolCallDeltaSchema).nullable(),
      }),
    }),
  ),
  /** The upstream's token counts, on the chunk that carries them (OpenAI: a last, choice-less one). */
  usage: usageSchema.optional(),
});
export type ChatChunk = z.infer<typeof chatChunkSchema>;
