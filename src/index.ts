// The public API for provider plugins and embedders: everything else may change.
export {
  ProviderAdapter,
  mapSseJson,
  parseUpstreamBody,
  rejectModelField,
  type AdapterInit,
  type CallContext,
  type Capabilities,
  type ProviderClass,
} from './providers/base.js';
export { ProviderRegistry } from './providers/registry.js';
export { secretSchema, Secret } from './config/secrets.js';
export { loadConfig, parseConfig, type GatewayConfig, type EndpointConfig } from './config/load.js';
export { jsonHeaders, Upstream, type UpstreamTarget, type SseDataStream } from './upstream/request.js';
export { joinUrl } from './upstream/url.js';
export * from './errors.js';
export type { ChatRequest, ChatResponse, ChatChunk } from './schemas/chat.js';
export type { CompletionsRequest, CompletionsResponse, CompletionsChunk } from './schemas/completions.js';
export type { EmbeddingsRequest, EmbeddingsResponse } from './schemas/embeddings.js';
export { createGateway, startGateway, type Gateway, type RunningGateway } from './server/start.js';
