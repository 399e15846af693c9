import { z } from 'zod';

// The Gemini API `GenerateContentRequest` as the translation reads it (ai.google.dev/api/
// generate-content; reference ingress.md §4.1). Passthrough never parses it. Fields the chat
// format has no place for and that only tune Google's service (`safetySettings`,
// `cachedContent`, `generationConfig.topK`, `thinkingConfig`, …) are not read.

const jsonObject = z.record(z.string(), z.unknown());

export const partSchema = z.looseObject({
  text: z.string().optional(),
  thought: z.boolean().optional(),
  inlineData: z.object({ mimeType: z.string(), data: z.string() }).optional(),
  fileData: z.object({ mimeType: z.string().optional(), fileUri: z.string() }).optional(),
  functionCall: z
    .object({ name: z.string(), args: jsonObject.optional(), id: z.string().optional() })
    .optional(),
  functionResponse: z
    .object({ name: z.string(), response: jsonObject, id: z.string().optional() })
    .optional(),
});
export type GeminiPart = z.infer<typeof partSchema>;

const contentSchema = z.object({
  role: z.enum(['user', 'model']).optional(),
  parts: z.array(partSchema),
});
export type GeminiContent = z.infer<typeof contentSchema>;

const functionDeclarationSchema = z.object({
  name: z.string(),
  description: z.string().optional(),
  parameters: jsonObject.optional(),
  parametersJsonSchema: jsonObject.optional(),
});
export type FunctionDeclaration = z.infer<typeof functionDeclarationSchema>;

/** A tool entry: only function declarations can be translated; hosted tools are refused. */
const toolSchema = z.looseObject({ functionDeclarations: z.array(functionDeclarationSchema).optional() });

const toolConfigSchema = z.object({
  functionCallingConfig: z
    .object({
      mode: z.enum(['MODE_UNSPECIFIED', 'AUTO', 'ANY', 'NONE', 'VALIDATED']).optional(),
      allowedFunctionNames: z.array(z.string()).optional(),
    })
    .optional(),
});
export type GeminiToolConfig = z.infer<typeof toolConfigSchema>;

const generationConfigSchema = z.object({
  temperature: z.number().min(0).max(2).optional(),
  topP: z.number().min(0).max(1).optional(),
  maxOutputTokens: z.number().int().min(1).optional(),
  stopSequences: z.array(z.string()).optional(),
  candidateCount: z.number().int().min(1).optional(),
  presencePenalty: z.number().optional(),
  frequencyPenalty: z.number().optional(),
  seed: z.number().int().optional(),
  responseMimeType: z.string().optional(),
  responseSchema: jsonObject.optional(),
  responseJsonSchema: jsonObject.optional(),
});
export type GenerationConfig = z.infer<typeof generationConfigSchema>;

export const generateContentRequestSchema = z.looseObject({
  contents: z.array(contentSchema).min(1),
  systemInstruction: z.union([z.string(), z.object({ parts: z.array(partSchema) })]).optional(),
  tools: z.array(toolSchema).optional(),
  toolConfig: toolConfigSchema.optional(),
  generationConfig: generationConfigSchema.optional(),
});
export type GenerateContentRequest = z.infer<typeof generateContentRequestSchema>;
