import { chatRequestSchema } from '../../src/schemas/chat.js';
import type { TestGateway } from './gateway.js';

const SILENT_LOG = { debug: () => undefined, warn: () => undefined };

/**
 * The chunks an endpoint's adapter streams: what the gateway's accounting reads (meterStream's
 * input, and the usage record's), before any client rule removes usage from them.
 */
export async function adapterChatChunks(
  gateway: TestGateway,
  endpoint: string,
  body: unknown,
): Promise<unknown[]> {
  // As the route hands it over: validated, with the schema's defaults.
  const request = chatRequestSchema.parse(body);
  const found = gateway.table.current.endpoints.get(endpoint);
  if (found === undefined) throw new Error(`no endpoint ${endpoint}`);
  const context = { signal: new AbortController().signal, log: SILENT_LOG };
  const chunks: unknown[] = [];
  for await (const chunk of await found.adapter.chatStream(request, context)) chunks.push(chunk);
  return chunks;
}
