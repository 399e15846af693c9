import type * as BedrockRuntime from '@aws-sdk/client-bedrock-runtime';
import type * as CredentialProviders from '@aws-sdk/credential-providers';
import type * as NodeHttpHandler from '@smithy/node-http-handler';
import { DEFAULT_CONNECT_TIMEOUT_MS } from '../../upstream/request.js';
import { ROLE_SESSION_NAME, type AwsConfig } from './config.js';

// The AWS SDK costs tens of megabytes and a noticeable start-up delay, so it is imported only
// when a config has a Bedrock endpoint: the registry imports this folder for every config.

export type BedrockClient = BedrockRuntime.BedrockRuntimeClient;
export type BedrockRuntimeModule = typeof BedrockRuntime;

interface RuntimeSdk {
  runtime: BedrockRuntimeModule;
  http: typeof NodeHttpHandler;
}

let runtimeSdk: Promise<RuntimeSdk> | undefined;
let credentialProviders: Promise<typeof CredentialProviders> | undefined;

/** The Bedrock Runtime client and the HTTP/1.1 handler, imported once per process. */
export function loadRuntimeSdk(): Promise<RuntimeSdk> {
  runtimeSdk ??= Promise.all([
    import('@aws-sdk/client-bedrock-runtime'),
    import('@smithy/node-http-handler'),
  ]).then(([runtime, http]) => ({ runtime, http }));
  return runtimeSdk;
}

function loadCredentialProviders(): Promise<typeof CredentialProviders> {
  credentialProviders ??= import('@aws-sdk/credential-providers');
  return credentialProviders;
}

type ClientConfig = BedrockRuntime.BedrockRuntimeClientConfig;
type RequestHandler = NodeHttpHandler.NodeHttpHandler;

/**
 * Key credentials as given; a role through STS AssumeRole, whose answer the client caches and
 * renews five minutes before its `Expiration` (the SDK's identity memoizer); otherwise the
 * SDK's default chain (`undefined`).
 */
async function toCredentials(
  config: AwsConfig,
  requestHandler: RequestHandler,
): Promise<ClientConfig['credentials']> {
  const auth = config.auth;
  switch (auth.kind) {
    case 'keys':
      return {
        accessKeyId: auth.accessKeyId.reveal(),
        secretAccessKey: auth.secretAccessKey.reveal(),
        sessionToken: auth.sessionToken?.reveal(),
      };
    case 'role': {
      const { fromTemporaryCredentials } = await loadCredentialProviders();
      return fromTemporaryCredentials({
        params: {
          RoleArn: auth.roleArn,
          RoleSessionName: ROLE_SESSION_NAME,
          DurationSeconds: auth.sessionLengthSeconds,
        },
        clientConfig: {
          region: config.region,
          maxAttempts: 1,
          requestHandler,
          ...(config.stsEndpointUrl === undefined ? {} : { endpoint: config.stsEndpointUrl }),
        },
      });
    }
    case 'chain':
      return undefined;
  }
}

/**
 * One Bedrock Runtime client for one endpoint, built when the config loads. HTTP/1.1 rather than
 * the client's default HTTP/2: InvokeModel and Converse(Stream) need nothing more, and the
 * gateway's timeouts map onto its handler. The SDK's retries are off; the gateway retries.
 */
export async function createBedrockClient(config: AwsConfig, timeoutSeconds: number): Promise<BedrockClient> {
  const { runtime, http } = await loadRuntimeSdk();
  const timeoutMs = timeoutSeconds * 1000;
  const requestHandler = new http.NodeHttpHandler({
    connectionTimeout: DEFAULT_CONNECT_TIMEOUT_MS,
    // Time to the response headers, then the longest silence while the body or stream arrives.
    requestTimeout: timeoutMs,
    throwOnRequestTimeout: true,
    socketTimeout: timeoutMs,
  });
  const credentials = await toCredentials(config, requestHandler);
  return new runtime.BedrockRuntimeClient({
    region: config.region,
    maxAttempts: 1,
    requestHandler,
    ...(credentials === undefined ? {} : { credentials }),
    ...(config.endpointUrl === undefined ? {} : { endpoint: config.endpointUrl }),
  });
}
