import type { FastifyInstance } from 'fastify';

export const JSON_HEADERS = { 'content-type': 'application/json' };

/** POSTs `body` as JSON over a real socket. */
export function postJson(url: string, body: unknown): Promise<Response> {
  return fetch(url, { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify(body) });
}

/** POST {gatewayUrl}/endpoints/{endpoint}/invocations over a real socket. */
export function invokeEndpoint(gatewayUrl: string, endpoint: string, body: unknown): Promise<Response> {
  return postJson(`${gatewayUrl}/endpoints/${endpoint}/invocations`, body);
}

/** POSTs through `app.inject()`; a string body is sent as it is, anything else as JSON. */
export function injectPost(
  app: FastifyInstance,
  url: string,
  body: unknown,
  headers: Record<string, string> = JSON_HEADERS,
) {
  return app.inject({
    method: 'POST',
    url,
    headers,
    payload: typeof body === 'string' ? body : JSON.stringify(body),
  });
}
