import type { FastifyReply, FastifyRequest } from 'fastify';
import type { CallContext } from '../providers/base.js';
import { executeStream, executeUnary, type Target } from '../routing/execute.js';
import type { Usage } from '../schemas/generation.js';
import { enforceClientLimits } from '../server/access-hook.js';
import type { Endpoint, Snapshot } from '../server/endpoint-table.js';
import { executeContextFor } from '../server/invoke.js';
import { scrubError, scrubberForTarget } from '../server/scrub-secrets.js';
import { noteTarget } from '../telemetry/http.js';
import { meterAnswer, meterStream } from './metering.js';
import { markServed, writeWire, type NativeAnswer, type WireChunk } from './native-reply.js';

/** One native request, callable on each destination a target tries (Responses, Gemini). */
export interface NativeCall {
  unary(endpoint: Endpoint, call: CallContext): Promise<NativeAnswer>;
  stream(endpoint: Endpoint, call: CallContext): Promise<AsyncIterable<WireChunk>>;
  /** Each stream attempt's usage so far, read once the served one ends. */
  readonly streamUsage: ReadonlyMap<Endpoint, { readonly usage: Usage | null }>;
}

/**
 * Runs a validated, authorized native request on its resolved target, as `dispatch` does for
 * the /v1 routes: telemetry names the target, the client's caps count it, the answer's tokens
 * are counted, and the answer is written in the API's own shape (`failureFrame` ends a stream
 * that fails after its head). An error that leaves has had every destination's secrets removed.
 */
export async function serveNative(
  snapshot: Snapshot,
  target: Target,
  call: NativeCall,
  isStream: boolean,
  request: FastifyRequest,
  reply: FastifyReply,
  failureFrame: (error: unknown) => string,
): Promise<FastifyReply> {
  noteTarget(request, target.name, target.kind === 'route');
  await enforceClientLimits(request, reply);
  const context = executeContextFor(snapshot, target, request, reply);
  try {
    if (isStream) {
      const served = await executeStream(target, context, (endpoint, attempt) =>
        call.stream(endpoint, attempt),
      );
      markServed(target, reply, served.endpoint);
      const usage = call.streamUsage.get(served.endpoint);
      const chunks = meterStream(request, reply, served.endpoint, served.value, () => usage?.usage ?? null);
      return await writeWire(reply, chunks, failureFrame);
    }
    const served = await executeUnary(target, context, (endpoint, attempt) => call.unary(endpoint, attempt));
    markServed(target, reply, served.endpoint);
    await meterAnswer(request, served.endpoint, served.value.usage);
    return await writeWire(reply, served.value.wire, failureFrame);
  } catch (error) {
    throw scrubError(error, scrubberForTarget(target));
  }
}
