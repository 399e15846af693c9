import { z } from 'zod';
import { secretSchema, type Secret } from '../../config/secrets.js';
import { apiBaseSchema } from '../../upstream/url.js';

/** Reference §2: the session name MLflow gives every assumed-role session. */
export const ROLE_SESSION_NAME = 'ai-gateway-bedrock';
/** STS AssumeRole's `DurationSeconds` range (STS API reference); MLflow's default is the minimum. */
const MIN_SESSION_SECONDS = 900;
const MAX_SESSION_SECONDS = 43_200;

/** Where the region comes from when `aws_region` is unset, in the SDK's order. */
const REGION_ENV = ['AWS_REGION', 'AWS_DEFAULT_REGION'] as const;

/** How the endpoint's requests are signed. */
type BedrockAuth =
  | { kind: 'keys'; accessKeyId: Secret; secretAccessKey: Secret; sessionToken: Secret | undefined }
  | { kind: 'role'; roleArn: string; sessionLengthSeconds: number }
  /** The SDK's standard chain: environment, shared files, container and instance roles. */
  | { kind: 'chain' };

const rawAwsConfigSchema = z.object({
  aws_region: z.string().min(1).optional(),
  aws_access_key_id: secretSchema.optional(),
  aws_secret_access_key: secretSchema.optional(),
  aws_session_token: secretSchema.optional(),
  aws_role_arn: z.string().min(1).optional(),
  session_length_seconds: z.number().int().min(MIN_SESSION_SECONDS).max(MAX_SESSION_SECONDS).default(900),
  /** Not in MLflow: a Bedrock Runtime URL other than the region's (a VPC endpoint, a proxy, a test fake). */
  aws_endpoint_url: apiBaseSchema.optional(),
  /** Not in MLflow: the STS URL role mode calls AssumeRole on. */
  aws_sts_endpoint_url: apiBaseSchema.optional(),
});
type RawAwsConfig = z.infer<typeof rawAwsConfigSchema>;

function toAuth(raw: RawAwsConfig, context: z.RefinementCtx): BedrockAuth {
  const { aws_access_key_id: accessKeyId, aws_secret_access_key: secretAccessKey } = raw;
  const hasKeys = accessKeyId !== undefined || secretAccessKey !== undefined;
  if (raw.aws_role_arn !== undefined) {
    if (hasKeys || raw.aws_session_token !== undefined) {
      context.addIssue({
        code: 'custom',
        path: ['aws_role_arn'],
        message: 'Give either aws_role_arn or aws_access_key_id and aws_secret_access_key, not both.',
      });
    }
    return { kind: 'role', roleArn: raw.aws_role_arn, sessionLengthSeconds: raw.session_length_seconds };
  }
  if (accessKeyId !== undefined && secretAccessKey !== undefined) {
    return { kind: 'keys', accessKeyId, secretAccessKey, sessionToken: raw.aws_session_token };
  }
  if (hasKeys || raw.aws_session_token !== undefined) {
    const missing = accessKeyId === undefined ? 'aws_access_key_id' : 'aws_secret_access_key';
    context.addIssue({
      code: 'custom',
      path: [missing],
      message: 'aws_access_key_id and aws_secret_access_key must be given together.',
    });
  }
  return { kind: 'chain' };
}

function toRegion(raw: RawAwsConfig, context: z.RefinementCtx): string {
  const region = raw.aws_region ?? REGION_ENV.map((name) => process.env[name]).find((value) => !!value);
  if (region !== undefined) return region;
  context.addIssue({
    code: 'custom',
    path: ['aws_region'],
    message:
      'No AWS region: set aws_config.aws_region, or AWS_REGION / AWS_DEFAULT_REGION in the environment.',
  });
  return '';
}

/** Reference §1: `aws_config` picks key, role or chain credentials; the region is resolved at load. */
const awsConfigSchema = rawAwsConfigSchema.transform((raw, context) => ({
  region: toRegion(raw, context),
  auth: toAuth(raw, context),
  endpointUrl: raw.aws_endpoint_url,
  stsEndpointUrl: raw.aws_sts_endpoint_url,
}));

export const bedrockConfigSchema = z.object({ aws_config: awsConfigSchema });
export type BedrockConfig = z.infer<typeof bedrockConfigSchema>;
export type AwsConfig = BedrockConfig['aws_config'];
