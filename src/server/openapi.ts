import { z } from 'zod';
import { chatChunkSchema, chatRequestSchema, chatResponseSchema } from '../schemas/chat.js';
import {
  completionsChunkSchema,
  completionsRequestSchema,
  completionsResponseSchema,
} from '../schemas/completions.js';
import { embeddingsRequestSchema, embeddingsResponseSchema } from '../schemas/embeddings.js';
import type { EndpointType } from '../schemas/endpoint-type.js';
import {
  endpointListSchema,
  endpointViewSchema,
  routeListSchema,
  setLimitsRequestSchema,
  trafficRouteViewSchema,
} from '../schemas/endpoints.js';
import { detailErrorBodySchema, openAiErrorBodySchema, rateLimitErrorBodySchema } from '../schemas/error.js';
import { VERSION } from '../version.js';

// The OpenAPI document: static parts built once at module load from the zod schemas, and one
// invocation path per configured endpoint added per config snapshot. Nothing from
// `model.config` is ever read here, so no secret can reach the document.

export type OpenApiDocument = Record<string, unknown> & { paths: Record<string, unknown> };

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' });
  return rest;
}

const COMPONENTS = {
  ChatRequest: jsonSchema(chatRequestSchema, 'input'),
  ChatResponse: jsonSchema(chatResponseSchema, 'output'),
  ChatChunk: jsonSchema(chatChunkSchema, 'output'),
  CompletionsRequest: jsonSchema(completionsRequestSchema, 'input'),
  CompletionsResponse: jsonSchema(completionsResponseSchema, 'output'),
  CompletionsChunk: jsonSchema(completionsChunkSchema, 'output'),
  EmbeddingsRequest: jsonSchema(embeddingsRequestSchema, 'input'),
  EmbeddingsResponse: jsonSchema(embeddingsResponseSchema, 'output'),
  Endpoint: jsonSchema(endpointViewSchema, 'output'),
  EndpointList: jsonSchema(endpointListSchema, 'output'),
  RouteList: jsonSchema(routeListSchema, 'output'),
  TrafficRoute: jsonSchema(trafficRouteViewSchema, 'output'),
  SetLimitsRequest: jsonSchema(setLimitsRequestSchema, 'input'),
  DetailError: jsonSchema(detailErrorBodySchema, 'output'),
  OpenAiError: jsonSchema(openAiErrorBodySchema, 'output'),
  RateLimitError: jsonSchema(rateLimitErrorBodySchema, 'output'),
} as const;
type ComponentName = keyof typeof COMPONENTS;

const ref = (name: ComponentName) => ({ $ref: `#/components/schemas/${name}` });
const json = (name: ComponentName) => ({ 'application/json': { schema: ref(name) } });
const errorResponse = (description: string, name: ComponentName = 'DetailError') => ({
  description,
  content: json(name),
});

const TYPE_SCHEMAS: Record<
  EndpointType,
  { request: ComponentName; response: ComponentName; chunk: ComponentName | null }
> = {
  'llm/v1/chat': { request: 'ChatRequest', response: 'ChatResponse', chunk: 'ChatChunk' },
  'llm/v1/completions': {
    request: 'CompletionsRequest',
    response: 'CompletionsResponse',
    chunk: 'CompletionsChunk',
  },
  'llm/v1/embeddings': { request: 'EmbeddingsRequest', response: 'EmbeddingsResponse', chunk: null },
};

function successResponse(type: EndpointType) {
  const schemas = TYPE_SCHEMAS[type];
  const content: Record<string, unknown> = json(schemas.response);
  if (schemas.chunk) {
    content['text/event-stream'] = {
      schema: { type: 'string', description: `\`data: <${schemas.chunk}>\` events when \`stream\` is true` },
    };
  }
  return { description: 'The response, or an SSE stream of chunks when `stream` is true.', content };
}

const INVOCATION_ERRORS = {
  '422': errorResponse(
    'The body does not match the endpoint type (detail lists each field), or names a model.',
  ),
  '429': errorResponse('The endpoint rate limit is exceeded.', 'RateLimitError'),
  '501': errorResponse('The provider lacks this capability (e.g. streaming).'),
  '502': errorResponse('The upstream was unreachable or answered something unusable.'),
  '504': errorResponse('The upstream did not answer in time.'),
};

function invocationPath(name: string, type: EndpointType, noun: 'endpoint' | 'route') {
  return {
    post: {
      tags: ['endpoints'],
      summary: `Query ${noun} '${name}' (${type})`,
      operationId: `invoke_${name}`,
      requestBody: { required: true, content: json(TYPE_SCHEMAS[type].request) },
      responses: { '200': successResponse(type), ...INVOCATION_ERRORS },
    },
  };
}

function openAiPath(type: EndpointType, summary: string) {
  const openAiErrors = Object.fromEntries(
    ['400', '422', '429', '501', '502', '504'].map((status) => [
      status,
      errorResponse('OpenAI-shaped error', 'OpenAiError'),
    ]),
  );
  return {
    post: {
      tags: ['openai'],
      summary,
      description: 'OpenAI-compatible: `model` names a configured endpoint of this type.',
      requestBody: { required: true, content: json(TYPE_SCHEMAS[type].request) },
      responses: { '200': successResponse(type), ...openAiErrors },
    },
  };
}

const pageToken = { name: 'page_token', in: 'query', required: false, schema: { type: 'string' } };

const STATIC_PATHS = {
  '/health': {
    get: {
      tags: ['health'],
      summary: 'Liveness',
      responses: {
        '200': {
          description: 'OK',
          content: {
            'application/json': { schema: { type: 'object', properties: { status: { const: 'OK' } } } },
          },
        },
      },
    },
  },
  '/api/2.0/endpoints/': {
    get: {
      tags: ['endpoints'],
      summary: 'List endpoints (3000 a page)',
      parameters: [pageToken],
      responses: {
        '200': { description: 'A page of endpoints', content: json('EndpointList') },
        '400': errorResponse('Invalid page token'),
      },
    },
  },
  '/api/2.0/endpoints/{endpoint_name}': {
    get: {
      tags: ['endpoints'],
      summary: 'Get one endpoint',
      parameters: [{ name: 'endpoint_name', in: 'path', required: true, schema: { type: 'string' } }],
      responses: {
        '200': { description: 'The endpoint', content: json('Endpoint') },
        '404': errorResponse('No such endpoint'),
      },
    },
  },
  '/api/2.0/endpoints/limits/{endpoint}': {
    get: {
      tags: ['endpoints'],
      summary: 'Placeholder: always 501',
      parameters: [{ name: 'endpoint', in: 'path', required: true, schema: { type: 'string' } }],
      responses: { '501': errorResponse('Not available') },
    },
  },
  '/api/2.0/endpoints/limits/': {
    post: {
      tags: ['endpoints'],
      summary: 'Placeholder: 501 (422 on an invalid body)',
      requestBody: { required: true, content: json('SetLimitsRequest') },
      responses: { '422': errorResponse('Invalid body'), '501': errorResponse('Not available') },
    },
  },
  '/api/3.0/gateway/route/{name}': {
    get: {
      tags: ['endpoints'],
      summary: 'Get one traffic route, as configured',
      parameters: [{ name: 'name', in: 'path', required: true, schema: { type: 'string' } }],
      responses: {
        '200': { description: 'The route', content: json('TrafficRoute') },
        '404': errorResponse('No such route'),
      },
    },
  },
  '/api/3.0/gateway/endpoint/{name}': {
    get: {
      tags: ['endpoints'],
      summary: 'Get one endpoint',
      parameters: [{ name: 'name', in: 'path', required: true, schema: { type: 'string' } }],
      responses: {
        '200': { description: 'The endpoint', content: json('Endpoint') },
        '404': errorResponse('No such endpoint'),
      },
    },
  },
  '/v1/chat/completions': openAiPath('llm/v1/chat', 'OpenAI-compatible chat'),
  '/v1/completions': openAiPath('llm/v1/completions', 'OpenAI-compatible completions'),
  '/v1/embeddings': openAiPath('llm/v1/embeddings', 'OpenAI-compatible embeddings'),
};

const DOCUMENT_HEAD = {
  openapi: '3.1.0',
  info: {
    title: 'llmgw',
    version: VERSION,
    description:
      'An LLM gateway compatible with the MLflow AI Gateway: one server in front of every provider. Each configured endpoint has an invocation path below.',
  },
  components: { schemas: COMPONENTS },
};

/** The whole document for one snapshot's endpoints and traffic routes. */
export function buildOpenApiDocument(
  endpoints: readonly { name: string; type: EndpointType }[],
  routes: readonly { name: string; type: EndpointType }[] = [],
): OpenApiDocument {
  const paths: Record<string, unknown> = { ...STATIC_PATHS };
  for (const endpoint of endpoints) {
    paths[`/endpoints/${encodeURIComponent(endpoint.name)}/invocations`] = invocationPath(
      endpoint.name,
      endpoint.type,
      'endpoint',
    );
  }
  for (const route of routes) {
    paths[`/endpoints/${encodeURIComponent(route.name)}/invocations`] = invocationPath(
      route.name,
      route.type,
      'route',
    );
  }
  return { ...DOCUMENT_HEAD, paths };
}
