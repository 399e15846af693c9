import { z } from 'zod';

// The OpenAI Responses API request as the translation reads it (openai-node
// `ResponseCreateParamsBase`, reference ingress.md §3). Passthrough never parses it: unknown
// item, part and tool types are refused only when they must be translated.

/** A body field that only a server keeping responses can honour (§3.6). */
export const STATEFUL_FIELDS = ['previous_response_id', 'conversation'] as const;

const textPartSchema = z.object({ type: z.enum(['input_text', 'output_text']), text: z.string() });
const inputPartSchema = z.discriminatedUnion('type', [
  textPartSchema,
  z.object({ type: z.literal('refusal'), refusal: z.string() }),
  z.object({
    type: z.literal('input_image'),
    image_url: z.string().optional(),
    file_id: z.string().optional(),
    detail: z.enum(['auto', 'low', 'high']).optional(),
  }),
]);
export type ResponsesInputPart = z.infer<typeof inputPartSchema>;

const roleSchema = z.enum(['user', 'assistant', 'system', 'developer']);
const messageContentSchema = z.union([z.string(), z.array(inputPartSchema)]);
const outputSchema = z.union([z.string(), z.array(inputPartSchema)]);

const messageItemSchema = z.object({
  type: z.literal('message'),
  role: roleSchema,
  content: messageContentSchema,
});

const inputItemSchema = z.discriminatedUnion('type', [
  messageItemSchema,
  z.object({
    type: z.literal('function_call'),
    call_id: z.string(),
    name: z.string(),
    arguments: z.string(),
  }),
  z.object({ type: z.literal('function_call_output'), call_id: z.string(), output: outputSchema }),
  z.object({ type: z.literal('custom_tool_call'), call_id: z.string(), name: z.string(), input: z.string() }),
  z.object({ type: z.literal('custom_tool_call_output'), call_id: z.string(), output: outputSchema }),
  z.object({
    type: z.literal('local_shell_call'),
    call_id: z.string(),
    action: z.object({
      command: z.array(z.string()),
      working_directory: z.string().nullish(),
      timeout_ms: z.number().int().nullish(),
    }),
  }),
  // openai-node names the call `id` here; older Codex builds send `call_id`.
  z.object({
    type: z.literal('local_shell_call_output'),
    call_id: z.string().optional(),
    id: z.string().optional(),
    output: z.string(),
  }),
  // Opaque reasoning state of the model that wrote it: no other provider can read it (§5.4).
  z.object({ type: z.literal('reasoning') }),
]);

/** A message item may leave out `type` (EasyInputMessage). */
const inputEntrySchema = z.preprocess(
  (value) =>
    typeof value === 'object' && value !== null && !('type' in value) ? { ...value, type: 'message' } : value,
  inputItemSchema,
);
export type ResponsesInputItem = z.infer<typeof inputItemSchema>;

const functionToolSchema = z.object({
  type: z.literal('function'),
  name: z.string(),
  description: z.string().nullish(),
  parameters: z.record(z.string(), z.unknown()).nullish(),
  strict: z.boolean().nullish(),
});
export type ResponsesFunctionTool = z.infer<typeof functionToolSchema>;

const toolSchema = z.discriminatedUnion('type', [
  functionToolSchema,
  z.object({ type: z.literal('custom'), name: z.string(), description: z.string().optional() }),
  z.object({ type: z.literal('local_shell') }),
  z.object({ type: z.literal('namespace'), name: z.string(), tools: z.array(functionToolSchema) }),
]);
export type ResponsesTool = z.infer<typeof toolSchema>;

const toolChoiceSchema = z.union([
  z.enum(['auto', 'none', 'required']),
  z.object({ type: z.enum(['function', 'custom']), name: z.string() }),
]);
export type ResponsesToolChoice = z.infer<typeof toolChoiceSchema>;

const textFormatSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text') }),
  z.object({ type: z.literal('json_object') }),
  z.object({
    type: z.literal('json_schema'),
    name: z.string(),
    schema: z.record(z.string(), z.unknown()),
    description: z.string().optional(),
    strict: z.boolean().nullish(),
  }),
]);

/** Only `model` and `stream`, which every request needs before its destination is known. */
export const responsesEnvelopeSchema = z.looseObject({
  model: z.string(),
  stream: z.boolean().nullish(),
});

export const responsesRequestSchema = z.looseObject({
  model: z.string(),
  input: z.union([z.string(), z.array(inputEntrySchema)]),
  instructions: z.string().nullish(),
  max_output_tokens: z.number().int().min(1).nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  tools: z.array(toolSchema).nullish(),
  tool_choice: toolChoiceSchema.nullish(),
  parallel_tool_calls: z.boolean().nullish(),
  stream: z.boolean().nullish(),
  text: z.looseObject({ format: textFormatSchema.optional() }).nullish(),
});
export type ResponsesRequest = z.infer<typeof responsesRequestSchema>;
