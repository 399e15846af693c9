// The public API for provider plugins and embedders: everything else may change. README
// "Writing a provider plugin" documents it; keep it stable.

// zod itself, so a plugin builds its config schema with the gateway's own copy.
export { z } from 'zod';

// The adapter contract.
export {
  ProviderAdapter,
  mapSseJson,
  parseUpstreamBody,
  rejectModelField,
  requireModelName,
  throwIfStreamError,
  type AdapterInit,
  type AdapterLogger,
  type CallContext,
  type Capabilities,
  type EndpointFacts,
  type ProviderClass,
} from './providers/base.js';
export type { EndpointType } from './schemas/endpoint-type.js';

// Config fields a plugin's schema reuses: `$ENV` / file / literal secrets and base URLs.
export { secretSchema, Secret } from './config/secrets.js';
export { apiBaseSchema, joinUrl } from './upstream/url.js';

// Upstream calls: pooled targets, timeouts, size caps, SSE parsing and error mapping built in.
export {
  jsonHeaders,
  Upstream,
  type SseDataStream,
  type UpstreamHeaders,
  type UpstreamTarget,
} from './upstream/request.js';

// Errors: branded with Symbol.for, so `instanceof` holds across copies of llmgw.
export * from './errors.js';

// The gateway's own wire: request, response and stream chunk schemas and types.
export {
  chatChunkSchema,
  chatMessageSchema,
  chatRequestSchema,
  chatResponseSchema,
  type ChatChunk,
  type ChatMessage,
  type ChatRequest,
  type ChatResponse,
} from './schemas/chat.js';
export {
  completionsChunkSchema,
  completionsRequestSchema,
  completionsResponseSchema,
  type CompletionsChunk,
  type CompletionsRequest,
  type CompletionsResponse,
} from './schemas/completions.js';
export {
  embeddingsRequestSchema,
  embeddingsResponseSchema,
  type EmbeddingsRequest,
  type EmbeddingsResponse,
} from './schemas/embeddings.js';

// Embedding the gateway.
export { ProviderRegistry } from './providers/registry.js';
export { PluginLoader, type PluginReference } from './providers/plugins.js';
export { PluginProviderSource, PLUGINS_ENV, type ProviderSource } from './config/plugins.js';
export { loadConfig, parseConfig, type GatewayConfig, type EndpointConfig } from './config/load.js';
export { createGateway, startGateway, type Gateway, type RunningGateway } from './server/start.js';
