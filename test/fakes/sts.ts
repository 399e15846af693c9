import type { FakeReply } from './fake-upstream.js';

// AWS STS AssumeRole (Query API, 2011-06-15): the form-encoded request and the XML answer as
// the STS API reference shows them.

export interface TemporaryCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
}

/** An AssumeRole answer for `roleArn` carrying `credentials`. */
export function assumeRoleResponse(credentials: TemporaryCredentials): FakeReply {
  const body = `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleResult>
    <AssumedRoleUser>
      <Arn>arn:aws:sts::123456789012:assumed-role/gw/ai-gateway-bedrock</Arn>
      <AssumedRoleId>AROA3XFRBF535PLBIFPI4:ai-gateway-bedrock</AssumedRoleId>
    </AssumedRoleUser>
    <Credentials>
      <AccessKeyId>${credentials.accessKeyId}</AccessKeyId>
      <SecretAccessKey>${credentials.secretAccessKey}</SecretAccessKey>
      <SessionToken>${credentials.sessionToken}</SessionToken>
      <Expiration>${credentials.expiration.toISOString()}</Expiration>
    </Credentials>
    <PackedPolicySize>6</PackedPolicySize>
  </AssumeRoleResult>
  <ResponseMetadata>
    <RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId>
  </ResponseMetadata>
</AssumeRoleResponse>`;
  return { kind: 'text', contentType: 'text/xml', body };
}

/** An STS error answer (`<ErrorResponse>`), e.g. 403 AccessDenied. */
export function stsError(status: number, code: string, message: string): FakeReply {
  const body = `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <Error>
    <Type>Sender</Type>
    <Code>${code}</Code>
    <Message>${message}</Message>
  </Error>
  <RequestId>4f1c2a7e-2d9b-4b1e-8a3c-5d6e7f8a9b0c</RequestId>
</ErrorResponse>`;
  return { kind: 'text', status, contentType: 'text/xml', body };
}

/** The fields of a form-encoded Query API body. */
export function formFields(rawBody: string): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(rawBody));
}
