import type { ServerResponse } from 'node:http';
import type { FastifyReply } from 'fastify';
import { GatewayError, UpstreamProtocolError } from '../errors.js';
import type { Scrub } from './scrub-secrets.js';

const SSE_HEADERS = { 'content-type': 'text/event-stream; charset=utf-8' } as const;
/** OpenAI's end-of-stream sentinel; MLflow's routes never send it (reference §5.5). */
const DONE_FRAME = 'data: [DONE]\n\n';

/** What the gateway needs to know about a chunk: whether it says why a choice finished. */
export interface StreamChunk {
  readonly choices: readonly { readonly finish_reason: string | null }[];
}

export interface StreamOptions {
  /** Reports an error that is not a GatewayError, for the log. */
  onUnexpected: (error: unknown) => void;
  /** Removes the endpoint's secrets from any text the upstream made. */
  scrub: Scrub;
  /** Ends a finished stream with `data: [DONE]`, as OpenAI does (the /v1 routes). */
  endWithDone: boolean;
  /** Whether the upstream ended its stream with its own terminator (`[DONE]`). */
  hasUpstreamTerminated: () => boolean;
}

/**
 * Writes gateway chunks to the client as SSE as they arrive (reference §5.5): `data: <json>`
 * and a blank line each. Backpressure is honoured; a failure after the first byte becomes
 * one last `{"error": …}` event [D2], then the stream ends. A stream is finished once a chunk
 * carried a `finish_reason` or the upstream sent its terminator after some chunks; one that
 * ends before either
 * was cut upstream, and says so in an error event rather than ending silently. Leaving the loop (client gone) returns the
 * iterator, which aborts the upstream.
 */
export async function streamToClient(
  reply: FastifyReply,
  chunks: AsyncIterable<StreamChunk>,
  options: StreamOptions,
): Promise<void> {
  void reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, SSE_HEADERS);
  // The client learns within this turn of the event loop that the upstream accepted the stream,
  // before a first chunk that is slow to come. A first chunk already here (it often comes in the
  // same read as the upstream's headers) takes the headers with it: one socket write, not two.
  let hasChunks = false;
  const flushHeaders = setImmediate(() => {
    // `headersSent` is already true after writeHead; what counts is whether a write took them.
    if (!hasChunks && !raw.destroyed) raw.flushHeaders();
  });
  let isFinished = false;
  // Events that arrive in one upstream read are handed on within one turn of the event loop:
  // corked until the turn ends, they leave in one socket write instead of one each.
  let isCorked = false;
  const uncork = (): void => {
    isCorked = false;
    raw.uncork();
  };
  try {
    for await (const chunk of chunks) {
      if (raw.destroyed) return;
      hasChunks = true;
      isFinished ||= hasFinishReason(chunk);
      if (!isCorked) {
        isCorked = true;
        raw.cork();
        process.nextTick(uncork);
      }
      if (!raw.write(`data: ${JSON.stringify(chunk)}\n\n`)) await drained(raw);
    }
    if (raw.destroyed) return;
    // A terminator with nothing before it would still be an empty, silent stream.
    if (!isFinished && !(hasChunks && options.hasUpstreamTerminated())) {
      raw.write(errorEvent(new UpstreamProtocolError(ENDED_EARLY), options));
    } else if (options.endWithDone) {
      raw.write(DONE_FRAME);
    }
  } catch (error) {
    if (!raw.destroyed) raw.write(errorEvent(error, options));
  } finally {
    clearImmediate(flushHeaders);
    raw.end();
  }
}

const ENDED_EARLY = 'The upstream provider ended the stream early, before its final chunk.';

function hasFinishReason(chunk: StreamChunk): boolean {
  return chunk.choices.some((choice) => choice.finish_reason !== null);
}

/** Resolves when the client can take more, or is gone. */
export function drained(raw: ServerResponse): Promise<void> {
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

function errorEvent(error: unknown, options: StreamOptions): string {
  let message = 'Internal Server Error';
  let type = 'InternalError';
  if (error instanceof GatewayError) {
    const detail = typeof error.detail === 'string' ? error.detail : JSON.stringify(error.detail);
    message = options.scrub(detail);
    type = error.name;
  } else {
    options.onUnexpected(error);
  }
  // Newer MLflow writes this one event with Python's spaced separators.
  return `data: {"error": {"message": ${JSON.stringify(message)}, "type": ${JSON.stringify(type)}}}\n\n`;
}
