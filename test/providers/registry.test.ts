import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  ProviderAdapter,
  declaredOperations,
  type AdapterInit,
  type Operation,
} from '../../src/providers/base.js';
import { BUILT_IN_PROVIDERS, ProviderRegistry } from '../../src/providers/registry.js';
import type { ChatRequest, ChatResponse } from '../../src/schemas/chat.js';

const OPERATIONS: readonly Operation[] = [
  'chat',
  'chatStream',
  'completions',
  'completionsStream',
  'embeddings',
];

/** The operations a class (or a class between it and ProviderAdapter) implements itself. */
function overriddenOperations(providerClass: { prototype: object }): Operation[] {
  const base = ProviderAdapter.prototype as unknown as Record<Operation, unknown>;
  const own = providerClass.prototype as Record<Operation, unknown>;
  return OPERATIONS.filter((operation) => own[operation] !== base[operation]);
}

function pluginClass(provider: string) {
  return class PluginAdapter extends ProviderAdapter {
    static readonly provider = provider;
    static readonly displayName = provider;
    static readonly configSchema = z.object({});
    static readonly supports = { chat: 'unary' } as const;

    constructor(init: AdapterInit<never>) {
      super(init, provider);
    }

    override chat(_request: ChatRequest): Promise<ChatResponse> {
      return Promise.reject(new Error('not called'));
    }
  };
}

const BUILT_IN_NAMES = BUILT_IN_PROVIDERS.flatMap((providerClass) => [
  providerClass.provider,
  ...Object.keys('aliases' in providerClass ? providerClass.aliases : {}),
]);

describe('built-in providers', () => {
  it.each(BUILT_IN_PROVIDERS.map((providerClass) => [providerClass.provider, providerClass] as const))(
    '%s overrides exactly the methods its supports declares',
    (_name, providerClass) => {
      expect(overriddenOperations(providerClass)).toEqual(declaredOperations(providerClass.supports));
    },
  );

  it('registers every built-in name and alias once', () => {
    const registry = new ProviderRegistry();
    expect(BUILT_IN_NAMES.filter((name) => registry.resolve(name) === undefined)).toEqual([]);
    expect(new Set(BUILT_IN_NAMES.map((name) => name.toUpperCase().replaceAll('-', '_'))).size).toBe(
      BUILT_IN_NAMES.length,
    );
  });

  it('refuses two built-ins under the same name', () => {
    const [first] = BUILT_IN_PROVIDERS;
    expect(() => new ProviderRegistry([first, pluginClass(first.provider.toUpperCase())])).toThrow(
      `Provider ${first.provider.toUpperCase()} is already registered: ${first.name}`,
    );
  });
});

describe('plugin registration', () => {
  it.each(BUILT_IN_NAMES)('refuses a plugin named like the built-in name %s', (name) => {
    const registry = new ProviderRegistry();
    const owner = registry.resolve(name)?.providerClass.name;
    expect(() => {
      registry.register(pluginClass(name));
    }).toThrow(`Provider ${name} is already registered: ${String(owner)}`);
  });

  it('refuses a plugin whose name differs from a built-in only in case', () => {
    const registry = new ProviderRegistry();
    expect(() => {
      registry.register(pluginClass('TogetherAI'));
    }).toThrow('Provider TogetherAI is already registered: TogetherAiAdapter');
  });

  it('refuses a second plugin under the same name', () => {
    const registry = new ProviderRegistry();
    const first = pluginClass('my-llm');
    registry.register(first);
    expect(() => {
      registry.register(pluginClass('my-llm'));
    }).toThrow('Provider my-llm is already registered: PluginAdapter');
    expect(registry.resolve('my-llm')?.providerClass).toBe(first);
  });

  it('registers a plugin under a new name exactly as written', () => {
    const registry = new ProviderRegistry();
    const plugin = pluginClass('my-llm');
    registry.register(plugin);
    expect(registry.resolve('my-llm')).toEqual({ providerClass: plugin, presetConfig: null, isPlugin: true });
    expect(registry.resolve('MY_LLM')).toBeUndefined();
  });
});
