import type { ServerResponse } from 'node:http';
import type { FastifyReply } from 'fastify';
import { GatewayError } from '../errors.js';

const SSE_HEADERS = { 'content-type': 'text/event-stream; charset=utf-8' } as const;

/**
 * Writes gateway chunks to the client as SSE as they arrive (reference §5.5): `data: <json>`
 * and a blank line each, no `[DONE]`. Backpressure is honoured; a failure after the first
 * byte becomes one last `{"error": …}` event [D2], then the stream ends. Leaving the loop
 * (client gone) returns the iterator, which aborts the upstream.
 */
export async function streamToClient(
  reply: FastifyReply,
  chunks: AsyncIterable<unknown>,
  onUnexpected: (error: unknown) => void,
): Promise<void> {
  void reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, SSE_HEADERS);
  // The client learns at once that the upstream accepted the stream, before the first chunk.
  raw.flushHeaders();
  try {
    for await (const chunk of chunks) {
      if (raw.destroyed) break;
      if (!raw.write(`data: ${JSON.stringify(chunk)}\n\n`)) await drained(raw);
    }
  } catch (error) {
    if (!raw.destroyed) raw.write(errorEvent(error, onUnexpected));
  } finally {
    raw.end();
  }
}

function drained(raw: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      raw.off('drain', done);
      raw.off('close', done);
      resolve();
    };
    raw.on('drain', done);
    raw.on('close', done);
  });
}

function errorEvent(error: unknown, onUnexpected: (error: unknown) => void): string {
  let message = 'Internal Server Error';
  let type = 'InternalError';
  if (error instanceof GatewayError) {
    message = typeof error.detail === 'string' ? error.detail : JSON.stringify(error.detail);
    type = error.name;
  } else {
    onUnexpected(error);
  }
  // Newer MLflow writes this one event with Python's spaced separators.
  return `data: {"error": {"message": ${JSON.stringify(message)}, "type": ${JSON.stringify(type)}}}\n\n`;
}
