import { ai21Family } from './ai21.js';
import { amazonFamily } from './amazon.js';
import { anthropicFamily } from './anthropic.js';
import { cohereFamily } from './cohere.js';
import type { CompletionsFamily } from './completions.js';

/** Reference §4's order: the first family whose name the model id contains wins. */
const FAMILIES: readonly CompletionsFamily[] = [amazonFamily, cohereFamily, ai21Family, anthropicFamily];

/** Reference §4's detail, `None` included (MLflow formats a missing family). */
export const UNKNOWN_FAMILY = 'Unknown Amazon Bedrock model type None';

/**
 * Reference §4: the completions family of a model id, by substring, so cross-region inference
 * profiles (`us.anthropic.…`, `apac.amazon.…`) resolve too; null when none matches.
 */
export function resolveFamily(modelId: string): CompletionsFamily | null {
  if (!modelId.includes('.')) return null;
  const lower = modelId.toLowerCase();
  return FAMILIES.find((family) => lower.includes(family.name)) ?? null;
}
