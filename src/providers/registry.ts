import { Ai21LabsAdapter } from './ai21labs.js';
import { AnthropicAdapter } from './anthropic/index.js';
import { BedrockAdapter } from './bedrock/index.js';
import type { EndpointType } from '../schemas/endpoint-type.js';
import { supportsEndpointType, type ProviderClass } from './base.js';
import { CohereAdapter } from './cohere/index.js';
import { GeminiAdapter } from './gemini/index.js';
import { HuggingFaceTgiAdapter } from './huggingface-text-generation-inference.js';
import { MistralAdapter } from './mistral.js';
import { MlflowModelServingAdapter } from './mlflow-model-serving.js';
import { MockAdapter } from './mock.js';
import { MosaicMlAdapter } from './mosaicml.js';
import { OpenAiAdapter } from './openai.js';
import { PalmAdapter } from './palm.js';
import { TogetherAiAdapter } from './togetherai.js';

/** The built-in providers: one line each. */
export const BUILT_IN_PROVIDERS = [
  OpenAiAdapter,
  MockAdapter,
  TogetherAiAdapter,
  MistralAdapter,
  CohereAdapter,
  AnthropicAdapter,
  GeminiAdapter,
  HuggingFaceTgiAdapter,
  MlflowModelServingAdapter,
  PalmAdapter,
  MosaicMlAdapter,
  Ai21LabsAdapter,
  BedrockAdapter,
] as const satisfies readonly ProviderClass[];

export interface ResolvedProvider {
  providerClass: ProviderClass;
  /** Config fields an alias presets (`provider: azure` → `openai_api_type: azure`). */
  presetConfig: Readonly<Record<string, string>> | null;
  /** Plugin providers may omit `model.config` (reference §8.2). */
  isPlugin: boolean;
}

/** Reference §2.6: built-in names ignore case and treat `-` and `_` alike. */
function normalizeBuiltInName(name: string): string {
  return name.toUpperCase().replaceAll('-', '_');
}

/**
 * Provider key → adapter class. Built-in names (and their aliases) match loosely; plugin
 * names match exactly, and no name can be registered twice.
 */
export class ProviderRegistry {
  readonly #builtIn = new Map<string, ResolvedProvider>();
  readonly #plugins = new Map<string, ResolvedProvider>();

  constructor(builtIns: readonly ProviderClass[] = BUILT_IN_PROVIDERS) {
    for (const providerClass of builtIns) {
      this.#addBuiltIn(providerClass.provider, { providerClass, presetConfig: null, isPlugin: false });
      for (const [alias, preset] of Object.entries(providerClass.aliases ?? {})) {
        this.#addBuiltIn(alias, { providerClass, presetConfig: preset, isPlugin: false });
      }
    }
  }

  /** A second built-in under the same loose name would silently shadow the first. */
  #addBuiltIn(name: string, entry: ResolvedProvider): void {
    const key = normalizeBuiltInName(name);
    const existing = this.#builtIn.get(key);
    if (existing !== undefined) {
      throw new Error(`Provider ${name} is already registered: ${existing.providerClass.name}`);
    }
    this.#builtIn.set(key, entry);
  }

  /** Adds a plugin provider under its exact `provider` key. */
  register(providerClass: ProviderClass): void {
    const name = providerClass.provider;
    if (this.#builtIn.has(normalizeBuiltInName(name)) || this.#plugins.has(name)) {
      const existing = this.resolve(name)?.providerClass.name ?? 'a built-in provider';
      throw new Error(`Provider ${name} is already registered: ${existing}`);
    }
    this.#plugins.set(name, { providerClass, presetConfig: null, isPlugin: true });
  }

  resolve(name: string): ResolvedProvider | undefined {
    return this.#builtIn.get(normalizeBuiltInName(name)) ?? this.#plugins.get(name);
  }

  /** A fixed registry serves every config as is; see config/plugins.ts for one built per load. */
  registryFor(_text: string, _configPath: string): Promise<ProviderRegistry> {
    return Promise.resolve(this);
  }

  /** Whether a provider class implements an endpoint type; config/ checks it at load. */
  supports(providerClass: ProviderClass, endpointType: EndpointType): boolean {
    return supportsEndpointType(providerClass.supports, endpointType);
  }
}
