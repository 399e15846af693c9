/** YAML for one `chat` endpoint on openai `gpt-4o-mini`, with `configLines` under `config:`. */
export function openAiChatYaml(configLines: string[]): string {
  return [
    'endpoints:',
    '  - name: chat',
    '    endpoint_type: llm/v1/chat',
    '    model:',
    '      provider: openai',
    '      name: gpt-4o-mini',
    '      config:',
    ...configLines.map((line) => `        ${line}`),
    '',
  ].join('\n');
}
