import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Usage } from '../schemas/generation.js';
import { recordUsage, type AnswerUsage } from '../server/access-hook.js';
import type { Endpoint } from '../server/endpoint-table.js';
import { observeStream, recordAnswer } from '../telemetry/http.js';

// A native answer's tokens, counted as the /v1 routes count theirs: into the request's
// telemetry (metrics, usage record, trace) and into the calling client's windows.

/**
 * A unary answer's usage, counted before the answer leaves so the client's next request sees
 * it. Telemetry reads the gateway's usage shape; the native body itself is not re-read.
 */
export async function meterAnswer(
  request: FastifyRequest,
  endpoint: Endpoint,
  usage: AnswerUsage | null,
): Promise<void> {
  if (usage !== null) recordAnswer(request, { usage });
  await recordUsage(request, endpoint, usage);
}

/**
 * A native stream about to be written: timing headers are stamped now (before its head), and
 * the usage `usageSoFar` has seen is counted once the stream ends, however it ends, before the
 * client sees the end.
 */
export function meterStream<C>(
  request: FastifyRequest,
  reply: FastifyReply,
  endpoint: Endpoint,
  chunks: AsyncIterable<C>,
  usageSoFar: () => AnswerUsage | null,
): AsyncIterable<C> {
  return counted(request, endpoint, observeStream(request, reply, chunks), usageSoFar);
}

async function* counted<C>(
  request: FastifyRequest,
  endpoint: Endpoint,
  chunks: AsyncIterable<C>,
  usageSoFar: () => AnswerUsage | null,
): AsyncGenerator<C, void, undefined> {
  try {
    yield* chunks;
  } finally {
    const usage = usageSoFar();
    const client = request.llmgwClient;
    if (usage === null && (client?.tokens || client?.budget)) {
      request.log.warn(
        "The upstream reported no usage for this stream; the client's tokens and spend are not counted",
      );
    }
    await meterAnswer(request, endpoint, usage);
  }
}

/** The latest usage a translated chat stream's chunks carried, watched as they pass. */
export class ChatStreamUsage {
  usage: Usage | null = null;

  async *watch<C extends { usage?: Usage | null }>(
    chunks: AsyncIterable<C>,
  ): AsyncGenerator<C, void, undefined> {
    for await (const chunk of chunks) {
      if (chunk.usage) this.usage = chunk.usage;
      yield chunk;
    }
  }
}
