import type { Target } from './load-generator.js';

/** The endpoint every scenario calls through the gateway. */
export const ENDPOINT_NAME = 'chat';
const UPSTREAM_MODEL = 'gpt-4o-mini';

const MESSAGES = [
  { role: 'system', content: 'You are a helpful assistant.' },
  { role: 'user', content: 'Hello! Say something short.' },
];

/** The same chat request, addressed three ways: straight to the fake, and both gateway routes. */
export interface Routes {
  direct: Target;
  openAi: Target;
  invocations: Target;
}

export function chatRoutes(fakeUrl: string, gatewayUrl: string, stream = false): Routes {
  const extra = { temperature: 0.2, ...(stream ? { stream: true } : {}) };
  return {
    direct: {
      origin: fakeUrl,
      path: '/v1/chat/completions',
      body: JSON.stringify({ model: UPSTREAM_MODEL, messages: MESSAGES, ...extra }),
    },
    openAi: {
      origin: gatewayUrl,
      path: '/v1/chat/completions',
      body: JSON.stringify({ model: ENDPOINT_NAME, messages: MESSAGES, ...extra }),
    },
    invocations: {
      origin: gatewayUrl,
      path: `/endpoints/${ENDPOINT_NAME}/invocations`,
      body: JSON.stringify({ messages: MESSAGES, ...extra }),
    },
  };
}

/**
 * The direct request sent through the bare proxy: it forwards the path and body untouched, so
 * the upstream sees exactly what a direct call sends.
 */
export function viaBareProxy(direct: Target, bareUrl: string): Target {
  return { ...direct, origin: bareUrl };
}

/** A gateway config: the benchmark's chat endpoint first, then `extraNames` as copies of it. */
export function gatewayConfig(fakeUrl: string, extraNames: readonly string[] = []): string {
  const endpoint = (name: string): string =>
    [
      `  - name: ${name}`,
      '    endpoint_type: llm/v1/chat',
      '    model:',
      '      provider: openai',
      `      name: ${UPSTREAM_MODEL}`,
      '      config:',
      '        openai_api_key: sk-bench',
      `        openai_api_base: ${fakeUrl}/v1`,
    ].join('\n');
  return `endpoints:\n${[ENDPOINT_NAME, ...extraNames].map(endpoint).join('\n')}\n`;
}
