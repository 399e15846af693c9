import OpenAI, { APIError } from 'openai';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mapAwsError } from '../../src/upstream/aws-errors.js';
import { ClientClosedRequestError, UpstreamError } from '../../src/errors.js';
import {
  HI_STREAM_FRAMES,
  TITAN_RESPONSE,
  awsError,
  eventFrame,
  eventStream,
  exceptionFrame,
} from '../fakes/bedrock.js';
import { FakeUpstream } from '../fakes/fake-upstream.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { invokeEndpoint } from '../helpers/http.js';
import { allEvents } from '../helpers/sse.js';

// Reference bedrock.md §8: every AWS exception keeps AWS's status and message (MLflow answered a
// bare 500); the SDK's timeouts, network failures and client aborts map as the undici ones do.

const HAIKU = 'anthropic.claude-3-haiku-20240307-v1:0';
const HI = { messages: [{ role: 'user', content: 'Hello' }] };

function gatewayYaml(endpointUrl: string): string {
  const config = `{ aws_config: { aws_region: us-east-1, aws_access_key_id: AKIDERRORS, aws_secret_access_key: errors-secret, aws_endpoint_url: "${endpointUrl}" } }`;
  return `
endpoints:
  - name: chat
    endpoint_type: llm/v1/chat
    model: { provider: bedrock, name: "${HAIKU}", config: ${config} }
  - name: titan
    endpoint_type: llm/v1/completions
    model: { provider: bedrock, name: amazon.titan-text-express-v1, config: ${config} }
`;
}

/** AWS's documented status for each Bedrock Runtime exception (InvokeModel / Converse "Errors"). */
const EXCEPTIONS: readonly [exception: string, status: number, message: string][] = [
  [
    'ValidationException',
    400,
    'Malformed input request: #: extraneous key [foo] is not permitted, please reformat your input and try again.',
  ],
  ['ServiceQuotaExceededException', 400, 'Your request exceeds the service quota for your account.'],
  ['AccessDeniedException', 403, "You don't have access to the model with the specified model ID."],
  [
    'ResourceNotFoundException',
    404,
    'Could not resolve the foundation model from the provided model identifier.',
  ],
  ['ModelTimeoutException', 408, 'Model has timed out in processing the request. Try your request again.'],
  ['ModelErrorException', 424, 'The model returned an error.'],
  ['ThrottlingException', 429, 'Too many requests, please wait before trying again.'],
  ['ModelNotReadyException', 429, 'Model is not ready for inference. Wait and try your request again.'],
  ['InternalServerException', 500, 'The server encountered an internal error while processing the request.'],
  ['ServiceUnavailableException', 503, 'Bedrock is unable to process your request.'],
];

describe('bedrock errors through the gateway', () => {
  let fake: FakeUpstream;
  let gateway: TestGateway;

  beforeEach(async () => {
    fake = await FakeUpstream.start();
    gateway = await startTestGateway(gatewayYaml(fake.url), { timeoutSeconds: 1 });
  });

  afterEach(async () => {
    await gateway.close();
    await fake.close();
  });

  it.each(EXCEPTIONS)('maps a Converse %s to %i with the AWS message', async (exception, status, message) => {
    fake.reply(awsError(status, exception, message));
    const response = await invokeEndpoint(gateway.url, 'chat', HI);
    expect(response.status).toBe(status);
    expect(await response.json()).toEqual({ detail: message });
  });

  it('maps an InvokeModel ThrottlingException to 429 with the AWS message', async () => {
    fake.reply(awsError(429, 'ThrottlingException', 'Too many tokens, please wait before trying again.'));
    const response = await invokeEndpoint(gateway.url, 'titan', { prompt: 'x' });
    expect(response.status).toBe(429);
    expect(await response.json()).toEqual({ detail: 'Too many tokens, please wait before trying again.' });
  });

  it('answers a ConverseStream that cannot start with the AWS status before any chunk', async () => {
    fake.reply(
      awsError(403, 'AccessDeniedException', 'The security token included in the request is invalid.'),
    );
    const response = await invokeEndpoint(gateway.url, 'chat', { ...HI, stream: true });
    expect(response.status).toBe(403);
    expect(await response.json()).toEqual({
      detail: 'The security token included in the request is invalid.',
    });
  });

  it.each([
    ['throttlingException', 'ThrottlingException', 'Too many requests, please wait before trying again.'],
    ['validationException', 'ValidationException', 'The model returned an invalid stream event.'],
    ['modelStreamErrorException', 'ModelStreamErrorException', 'The model stream failed.'],
    ['internalServerException', 'InternalServerException', 'Internal server error.'],
    ['serviceUnavailableException', 'ServiceUnavailableException', 'Service unavailable.'],
  ])(
    'ends a stream whose %s frame arrives mid-stream with an error event',
    async (frameType, _name, message) => {
      fake.reply(
        eventStream([
          eventFrame('messageStart', { role: 'assistant' }),
          eventFrame('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'Hi' } }),
          exceptionFrame(frameType, message),
        ]),
      );
      const response = await invokeEndpoint(gateway.url, 'chat', { ...HI, stream: true });
      expect(response.status).toBe(200);
      const events = await allEvents(response);
      expect(events).toHaveLength(2);
      expect(events[1]).toEqual({ error: { message, type: 'UpstreamError' } });
    },
  );

  it('ends a stream whose connection drops with a connection-lost error event', async () => {
    fake.reply(eventStream(HI_STREAM_FRAMES.slice(0, 2), 'drop'));
    const response = await invokeEndpoint(gateway.url, 'chat', { ...HI, stream: true });
    const events = await allEvents(response);
    expect(events.at(-1)).toEqual({
      error: {
        message: 'The upstream provider closed the connection mid-stream.',
        type: 'UpstreamConnectionLostError',
      },
    });
  });

  it('answers 504 when Bedrock does not answer within the gateway timeout', async () => {
    fake.reply({ kind: 'hang' });
    const response = await invokeEndpoint(gateway.url, 'chat', HI);
    expect(response.status).toBe(504);
    expect(await response.json()).toEqual({
      detail: 'The upstream provider did not respond within 1 seconds.',
    });
  });

  it('answers 502 naming the failure when Bedrock cannot be reached', async () => {
    const closed = await FakeUpstream.start();
    const url = closed.url;
    await closed.close();
    const unreachable = await startTestGateway(gatewayYaml(url));
    try {
      const response = await invokeEndpoint(unreachable.url, 'chat', HI);
      expect(response.status).toBe(502);
      expect(await response.json()).toEqual({
        detail: 'Could not reach the upstream provider: ECONNREFUSED',
      });
    } finally {
      await unreachable.close();
    }
  });

  it('keeps the status of an error page that is no AWS exception (a proxy), with its reason phrase', async () => {
    fake.reply({
      kind: 'text',
      status: 503,
      body: '<html>Service Temporarily Unavailable</html>',
      contentType: 'text/html',
    });
    const response = await invokeEndpoint(gateway.url, 'chat', HI);
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ detail: 'Service Unavailable' });
  });

  it('answers 502 for a Converse body without output', async () => {
    fake.reply({ kind: 'json', body: { stopReason: 'end_turn' } });
    const response = await invokeEndpoint(gateway.url, 'chat', HI);
    expect(response.status).toBe(502);
    expect(await response.json()).toEqual({
      detail: 'Malformed response from Amazon Bedrock: missing output',
    });
  });

  it('answers 502 for an InvokeModel body that is not JSON', async () => {
    fake.reply({ kind: 'text', body: 'not json', contentType: 'application/json' });
    const response = await invokeEndpoint(gateway.url, 'titan', { prompt: 'x' });
    expect(response.status).toBe(502);
    expect(await response.json()).toEqual({ detail: 'Malformed response from Amazon Bedrock: not JSON' });
  });

  it('aborts the Bedrock call when the client goes away', async () => {
    fake.reply({ kind: 'hang' });
    const controller = new AbortController();
    const pending = fetch(`${gateway.url}/endpoints/chat/invocations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(HI),
      signal: controller.signal,
    }).catch((error: unknown) => error);
    await fake.nextRequest();
    controller.abort();
    await fake.aborted();
    expect(await pending).toBeInstanceOf(Error);
  });

  it('gives the openai SDK the AWS status and message on /v1', async () => {
    fake.reply(awsError(429, 'ThrottlingException', 'Too many requests, please wait before trying again.'));
    const sdk = new OpenAI({ apiKey: 'anything', baseURL: `${gateway.url}/v1`, maxRetries: 0 });
    const error: unknown = await sdk.chat.completions
      .create({ model: 'chat', messages: [{ role: 'user', content: 'x' }] })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(APIError);
    expect((error as APIError).status).toBe(429);
    expect((error as APIError).message).toContain('Too many requests, please wait before trying again.');
  });

  it('still serves after an error (the client is reused, not rebuilt)', async () => {
    fake.reply(awsError(500, 'InternalServerException', 'boom'));
    fake.reply({ kind: 'json', body: TITAN_RESPONSE });
    expect((await invokeEndpoint(gateway.url, 'titan', { prompt: 'x' })).status).toBe(500);
    expect((await invokeEndpoint(gateway.url, 'titan', { prompt: 'x' })).status).toBe(200);
  });
});

describe('mapAwsError', () => {
  const live = new AbortController().signal;

  it('uses the exception table when the error carries no HTTP status (a stream exception)', () => {
    const error = Object.assign(new Error('slow down'), {
      name: 'ThrottlingException',
      $fault: 'client',
      $metadata: {},
    });
    const mapped = mapAwsError(error, 5, live, 'stream');
    expect(mapped).toBeInstanceOf(UpstreamError);
    expect(mapped).toMatchObject({ status: 429, detail: 'slow down' });
  });

  it('prefers the HTTP status AWS sent over the table', () => {
    const error = Object.assign(new Error('odd'), {
      name: 'ThrottlingException',
      $metadata: { httpStatusCode: 400 },
    });
    expect(mapAwsError(error, 5, live)).toMatchObject({ status: 400, detail: 'odd' });
  });

  it('gives an unknown service error without a status 502', () => {
    const error = Object.assign(new Error('?'), { name: 'SomethingNewException', $fault: 'server' });
    expect(mapAwsError(error, 5, live)).toMatchObject({ status: 502, detail: '?' });
  });

  it('maps any failure after the client went away to 499', () => {
    const controller = new AbortController();
    controller.abort();
    expect(mapAwsError(new Error('socket hang up'), 5, controller.signal)).toBeInstanceOf(
      ClientClosedRequestError,
    );
  });

  it('returns an error it does not know (a bug) unchanged', () => {
    const bug = new TypeError('x is undefined');
    expect(mapAwsError(bug, 5, live)).toBe(bug);
  });
});
