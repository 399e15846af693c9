// Amazon Bedrock Runtime through @aws-sdk/client-bedrock-runtime: InvokeModel (completions, per-family
// bodies, reference bedrock.md §5) and Converse / ConverseStream (chat, MLflow [2026], §6–§7).
import { InvalidRequestError, UpstreamProtocolError } from '../../errors.js';
import type { ChatChunk, ChatRequest, ChatResponse } from '../../schemas/chat.js';
import type { CompletionsRequest, CompletionsResponse } from '../../schemas/completions.js';
import { mapAwsError } from '../../upstream/aws-errors.js';
import {
  ProviderAdapter,
  rejectModelField,
  requireModelName,
  type AdapterInit,
  type CallContext,
} from '../base.js';
import {
  createBedrockClient,
  loadRuntimeSdk,
  type BedrockClient,
  type BedrockRuntimeModule,
} from './client.js';
import { bedrockConfigSchema, type BedrockConfig } from './config.js';
import { fromConverseStreamEvent } from './converse-stream.js';
import { fromConverseOutput, toConverseBody, type ConverseBody } from './converse.js';
import type { CompletionsFamily } from './completions.js';
import { resolveFamily, UNKNOWN_FAMILY } from './family.js';
import { DISPLAY_NAME } from './payload.js';

export { bedrockConfigSchema, type BedrockConfig } from './config.js';

const MODEL_REQUIRED =
  'Amazon Bedrock endpoints must name a model: the model id (or inference profile) to invoke.';
const STREAM_OPTIONS_USAGE = 'stream_options.include_usage is not supported for Bedrock streaming';
const NO_EVENT_STREAM = 'No event stream returned from converse_stream';

type ConverseInput = ConstructorParameters<BedrockRuntimeModule['ConverseCommand']>[0];

/** The client and the command classes, ready once the SDK has loaded. */
interface Runtime {
  client: BedrockClient;
  sdk: BedrockRuntimeModule;
}

export class BedrockAdapter extends ProviderAdapter<BedrockConfig> {
  static readonly provider = 'bedrock';
  static readonly displayName = DISPLAY_NAME;
  static readonly configSchema = bedrockConfigSchema;
  static readonly supports = { chat: 'stream', completions: 'unary' } as const;
  static readonly aliases = { 'amazon-bedrock': {} };
  static readonly checkEndpoint = requireModelName(MODEL_REQUIRED);

  readonly #runtime: Promise<Runtime>;
  readonly #modelId: string;
  /** Null for a model id no completions family matches (a 422 per request, reference §4). */
  readonly #family: CompletionsFamily | null;
  readonly #timeoutSeconds: number;

  constructor(init: AdapterInit<BedrockConfig>) {
    super(init, DISPLAY_NAME);
    this.#modelId = init.modelName ?? '';
    this.#family = resolveFamily(this.#modelId);
    this.#timeoutSeconds = init.upstream.timeoutSeconds;
    this.#runtime = Promise.all([
      createBedrockClient(init.config.aws_config, this.#timeoutSeconds),
      loadRuntimeSdk(),
    ]).then(([client, { runtime }]) => ({ client, sdk: runtime }));
    // Requests and close() await the same promise and see its failure; this only stops an
    // endpoint nobody calls from crashing the process with an unhandled rejection.
    void this.#runtime.catch(() => undefined);
  }

  async #send<T>(context: CallContext, call: (runtime: Runtime) => Promise<T>): Promise<T> {
    try {
      return await call(await this.#runtime);
    } catch (error) {
      throw mapAwsError(error, this.#timeoutSeconds, context.signal);
    }
  }

  #converseInput(body: ConverseBody): ConverseInput {
    // Roles pass as the client gave them (reference §6 step 4); Bedrock answers a bad one with a 400.
    return { modelId: this.#modelId, ...(body as Omit<ConverseInput, 'modelId'>) };
  }

  override async chat(request: ChatRequest, context: CallContext): Promise<ChatResponse> {
    rejectModelField(request);
    const input = this.#converseInput(toConverseBody(request));
    const output = await this.#send(context, ({ client, sdk }) =>
      client.send(new sdk.ConverseCommand(input), { abortSignal: context.signal }),
    );
    return fromConverseOutput(output, this.#modelId);
  }

  override async chatStream(request: ChatRequest, context: CallContext): Promise<AsyncIterable<ChatChunk>> {
    rejectModelField(request);
    const options = request.stream_options;
    if (options?.include_usage === true) {
      throw new InvalidRequestError(422, STREAM_OPTIONS_USAGE, 'stream_options.include_usage');
    }
    const input = this.#converseInput(toConverseBody(request));
    // Awaited here, so an AWS error status reaches the client before its stream starts.
    const output = await this.#send(context, ({ client, sdk }) =>
      client.send(new sdk.ConverseStreamCommand(input), { abortSignal: context.signal }),
    );
    if (output.stream === undefined) throw new UpstreamProtocolError(NO_EVENT_STREAM);
    return this.#mapStream(output.stream, context.signal);
  }

  async *#mapStream(events: AsyncIterable<unknown>, signal: AbortSignal): AsyncGenerator<ChatChunk> {
    try {
      for await (const event of events) {
        const chunk = fromConverseStreamEvent(event, this.#modelId);
        if (chunk !== null) yield chunk;
      }
    } catch (error) {
      throw mapAwsError(error, this.#timeoutSeconds, signal, 'stream');
    }
  }

  override async completions(
    request: CompletionsRequest,
    context: CallContext,
  ): Promise<CompletionsResponse> {
    rejectModelField(request);
    const family = this.#family ?? invalidFamily();
    const body = JSON.stringify(family.toBody(request));
    const output = await this.#send(context, ({ client, sdk }) =>
      client.send(
        new sdk.InvokeModelCommand({
          modelId: this.#modelId,
          body,
          contentType: 'application/json',
          accept: 'application/json',
        }),
        { abortSignal: context.signal },
      ),
    );
    return family.fromResponse(parseInvokeBody(output.body), this.#modelId);
  }

  /** Releases the client's sockets once a reload has retired this endpoint's snapshot. */
  override async close(): Promise<void> {
    const runtime = await this.#runtime.catch(() => null);
    runtime?.client.destroy();
  }
}

function invalidFamily(): never {
  throw new InvalidRequestError(422, UNKNOWN_FAMILY, 'model');
}

function parseInvokeBody(body: Uint8Array): unknown {
  try {
    return JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
  } catch (error) {
    throw new UpstreamProtocolError(`Malformed response from ${DISPLAY_NAME}: not JSON`, error);
  }
}
