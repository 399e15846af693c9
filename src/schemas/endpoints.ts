import { z } from 'zod';
import { ENDPOINT_TYPES } from './endpoint-type.js';

// Payloads of /api/2.0/endpoints and the legacy /api/2.0/gateway/routes (reference §4.4–4.9).

const limitViewSchema = z.object({
  calls: z.number().int(),
  key: z.string().nullable(),
  renewal_period: z.string(),
});

const modelViewSchema = z.object({ name: z.string().nullable(), provider: z.string() });

export const endpointViewSchema = z.object({
  name: z.string(),
  endpoint_type: z.enum(ENDPOINT_TYPES),
  model: modelViewSchema,
  endpoint_url: z.string(),
  limit: limitViewSchema.nullable(),
});
export type EndpointView = z.infer<typeof endpointViewSchema>;

export const routeViewSchema = z.object({
  name: z.string(),
  route_type: z.enum(ENDPOINT_TYPES),
  model: modelViewSchema,
  route_url: z.string(),
  limit: limitViewSchema.nullable(),
});
export type RouteView = z.infer<typeof routeViewSchema>;

/** `GET /api/3.0/gateway/route/{name}`: a traffic route as configured (reference §2.10.1). */
export const trafficRouteViewSchema = z.object({
  name: z.string(),
  task_type: z.enum(ENDPOINT_TYPES),
  destinations: z.array(z.object({ name: z.string(), traffic_percentage: z.number().int().nullable() })),
  routing_strategy: z.enum(['TRAFFIC_SPLIT', 'FALLBACK']),
});
export type TrafficRouteView = z.infer<typeof trafficRouteViewSchema>;

export const endpointListSchema = z.object({
  endpoints: z.array(endpointViewSchema),
  next_page_token: z.string().nullable(),
});

export const routeListSchema = z.object({
  routes: z.array(routeViewSchema),
  next_page_token: z.string().nullable(),
});

export const setLimitsRequestSchema = z.looseObject({
  route: z.string(),
  limits: z.array(z.record(z.string(), z.unknown())),
});
