import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { BedrockAdapter } from '../../src/providers/bedrock/index.js';
import { ProviderRegistry } from '../../src/providers/registry.js';
import { CONVERSE_RESPONSE, sigV4Scope } from '../fakes/bedrock.js';
import { FakeUpstream } from '../fakes/fake-upstream.js';
import { assumeRoleResponse, formFields, stsError } from '../fakes/sts.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { invokeEndpoint } from '../helpers/http.js';

// Reference bedrock.md §2 and test vector 5: a role is assumed through STS with the default
// chain's credentials (here the environment's), and its temporary keys sign the Bedrock calls.

const ROLE_ARN = 'arn:aws:iam::123456789012:role/gw';
const BASE_KEY_ID = 'AKIDBASECHAIN';
const BASE_SECRET = 'base-chain-secret';
const HAIKU = 'anthropic.claude-3-haiku-20240307-v1:0';
const HI = { messages: [{ role: 'user', content: 'Hello' }] };
const MINUTE_MS = 60_000;

function temporaryCredentials(suffix: string, expiresInMs: number) {
  return {
    accessKeyId: `ASIATEMP${suffix}`,
    secretAccessKey: `temporary-secret-${suffix}`,
    sessionToken: `session-token-${suffix}`,
    expiration: new Date(Date.now() + expiresInMs),
  };
}

function chatYaml(awsConfig: string): string {
  return `
endpoints:
  - name: chat
    endpoint_type: llm/v1/chat
    model: { provider: bedrock, name: "${HAIKU}", config: { aws_config: { ${awsConfig} } } }
`;
}

describe('bedrock role-based auth', () => {
  let bedrock: FakeUpstream;
  let sts: FakeUpstream;
  let gateway: TestGateway;

  beforeEach(async () => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', BASE_KEY_ID);
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', BASE_SECRET);
    bedrock = await FakeUpstream.start();
    sts = await FakeUpstream.start();
    bedrock.replyAlways({ kind: 'json', body: CONVERSE_RESPONSE });
    gateway = await startTestGateway(
      chatYaml(
        `aws_region: us-east-1, aws_role_arn: "${ROLE_ARN}", aws_endpoint_url: "${bedrock.url}", aws_sts_endpoint_url: "${sts.url}"`,
      ),
    );
  });

  afterEach(async () => {
    vi.useRealTimers();
    vi.unstubAllEnvs();
    await gateway.close();
    await bedrock.close();
    await sts.close();
  });

  it('calls STS AssumeRole as reference test vector 5 says, signed with the default chain', async () => {
    sts.reply(assumeRoleResponse(temporaryCredentials('ONE', 60 * MINUTE_MS)));
    expect((await invokeEndpoint(gateway.url, 'chat', HI)).status).toBe(200);
    const call = await sts.nextRequest();
    expect(call.method).toBe('POST');
    expect(call.path).toBe('/');
    expect(call.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(formFields(call.rawBody)).toEqual({
      Action: 'AssumeRole',
      Version: '2011-06-15',
      RoleArn: ROLE_ARN,
      RoleSessionName: 'ai-gateway-bedrock',
      DurationSeconds: '900',
    });
    expect(sigV4Scope(call)).toMatchObject({ accessKeyId: BASE_KEY_ID, region: 'us-east-1', service: 'sts' });
  });

  it('signs the Bedrock call with the temporary key and sends its session token', async () => {
    sts.reply(assumeRoleResponse(temporaryCredentials('ONE', 60 * MINUTE_MS)));
    await invokeEndpoint(gateway.url, 'chat', HI);
    const call = await bedrock.nextRequest();
    expect(call.path).toBe('/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse');
    expect(sigV4Scope(call)).toMatchObject({
      accessKeyId: 'ASIATEMPONE',
      region: 'us-east-1',
      service: 'bedrock',
    });
    expect(call.headers['x-amz-security-token']).toBe('session-token-ONE');
  });

  it('reuses the temporary credentials for later requests instead of assuming the role each time', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    sts.reply(assumeRoleResponse(temporaryCredentials('ONE', 60 * MINUTE_MS)));
    await invokeEndpoint(gateway.url, 'chat', HI);
    vi.setSystemTime(Date.now() + 30 * MINUTE_MS);
    await invokeEndpoint(gateway.url, 'chat', HI);
    await invokeEndpoint(gateway.url, 'chat', HI);
    expect(sts.requests).toHaveLength(1);
    expect(bedrock.requests.map((call) => sigV4Scope(call).accessKeyId)).toEqual([
      'ASIATEMPONE',
      'ASIATEMPONE',
      'ASIATEMPONE',
    ]);
  });

  it('assumes the role again within five minutes of the expiry, before the credentials lapse', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    sts.reply(assumeRoleResponse(temporaryCredentials('ONE', 60 * MINUTE_MS)));
    await invokeEndpoint(gateway.url, 'chat', HI);
    vi.setSystemTime(Date.now() + 56 * MINUTE_MS);
    sts.reply(assumeRoleResponse(temporaryCredentials('TWO', 60 * MINUTE_MS)));
    await invokeEndpoint(gateway.url, 'chat', HI);
    expect(sts.requests).toHaveLength(2);
    const second = bedrock.requests[1]!;
    expect(sigV4Scope(second).accessKeyId).toBe('ASIATEMPTWO');
    expect(second.headers['x-amz-security-token']).toBe('session-token-TWO');
  });

  it('answers an STS refusal with its status and message, and never calls Bedrock', async () => {
    const message = `User: arn:aws:iam::123456789012:user/gw is not authorized to perform: sts:AssumeRole on resource: ${ROLE_ARN}`;
    sts.reply(stsError(403, 'AccessDenied', message));
    const response = await invokeEndpoint(gateway.url, 'chat', HI);
    expect(response.status).toBe(403);
    expect(await response.json()).toEqual({ detail: message });
    expect(bedrock.requests).toEqual([]);
  });
});

describe('bedrock key and chain auth', () => {
  let bedrock: FakeUpstream;
  let gateway: TestGateway | undefined;

  beforeEach(async () => {
    bedrock = await FakeUpstream.start();
    bedrock.replyAlways({ kind: 'json', body: CONVERSE_RESPONSE });
  });

  afterEach(async () => {
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
    await gateway?.close();
    gateway = undefined;
    await bedrock.close();
  });

  it('sends a configured session token as X-Amz-Security-Token', async () => {
    gateway = await startTestGateway(
      chatYaml(
        `aws_region: eu-west-1, aws_access_key_id: ASIAKEYED, aws_secret_access_key: s, aws_session_token: keyed-token, aws_endpoint_url: "${bedrock.url}"`,
      ),
    );
    await invokeEndpoint(gateway.url, 'chat', HI);
    const call = await bedrock.nextRequest();
    expect(sigV4Scope(call)).toMatchObject({
      accessKeyId: 'ASIAKEYED',
      region: 'eu-west-1',
      service: 'bedrock',
    });
    expect(call.headers['x-amz-security-token']).toBe('keyed-token');
  });

  it('signs with the default chain (the environment) and AWS_REGION when aws_config names neither', async () => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDFROMENV');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'env-secret');
    vi.stubEnv('AWS_REGION', 'ap-northeast-1');
    gateway = await startTestGateway(chatYaml(`aws_endpoint_url: "${bedrock.url}"`));
    await invokeEndpoint(gateway.url, 'chat', HI);
    expect(sigV4Scope(await bedrock.nextRequest())).toMatchObject({
      accessKeyId: 'AKIDFROMENV',
      region: 'ap-northeast-1',
    });
  });

  it("honours the SDK's AWS_ENDPOINT_URL_BEDROCK_RUNTIME when aws_endpoint_url is unset", async () => {
    vi.stubEnv('AWS_ENDPOINT_URL_BEDROCK_RUNTIME', bedrock.url);
    gateway = await startTestGateway(
      chatYaml('aws_region: us-west-2, aws_access_key_id: AKIDENVURL, aws_secret_access_key: s'),
    );
    expect((await invokeEndpoint(gateway.url, 'chat', HI)).status).toBe(200);
    expect(sigV4Scope(await bedrock.nextRequest()).accessKeyId).toBe('AKIDENVURL');
  });

  it('closes the SDK client of a snapshot a reload retires, and of the serving one on shutdown', async () => {
    const close = vi.spyOn(BedrockAdapter.prototype, 'close');
    const yaml = chatYaml(
      `aws_region: us-east-1, aws_access_key_id: AKID, aws_secret_access_key: s, aws_endpoint_url: "${bedrock.url}"`,
    );
    gateway = await startTestGateway(yaml);
    gateway.apply(parseConfig(yaml, new ProviderRegistry(), 'test.yaml'));
    expect(close).toHaveBeenCalledTimes(1);
    await gateway.close();
    gateway = undefined;
    expect(close).toHaveBeenCalledTimes(2);
  });
});
