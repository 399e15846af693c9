export const ENDPOINT_TYPES = ['llm/v1/chat', 'llm/v1/completions', 'llm/v1/embeddings'] as const;
export type EndpointType = (typeof ENDPOINT_TYPES)[number];
