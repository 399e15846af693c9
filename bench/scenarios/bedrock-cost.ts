import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BenchContext } from '../context.js';
import { startGateway } from '../processes.js';
import { gatewayConfig } from '../requests.js';
import { round } from '../stats.js';

export interface BedrockCostResult {
  rounds: number;
  /** Median time from spawning the CLI to its first healthy /health, without and with Bedrock. */
  startMs: { without: number; with: number; added: number };
  /** Median RSS once healthy, without and with a Bedrock endpoint. */
  rssMb: { without: number; with: number; added: number };
}

const ROUNDS = 5;
const SETTLE_MS = 1000;

/** The shared config plus one key-based Bedrock endpoint; no AWS call is made at start. */
function withBedrock(fakeUrl: string): string {
  return `${gatewayConfig(fakeUrl)}
  - name: bedrock-chat
    endpoint_type: llm/v1/chat
    model:
      provider: bedrock
      name: anthropic.claude-3-5-haiku-20241022-v1:0
      config:
        aws_config:
          aws_region: us-east-1
          aws_access_key_id: AKIABENCHMARKKEY0000
          aws_secret_access_key: bench-secret-not-used-0000000000000000
          aws_endpoint_url: ${fakeUrl}
`;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

/**
 * `--bedrock-cost`: what a Bedrock endpoint costs a gateway at start, since the AWS SDK is
 * loaded only when a config has one. Gateways with and without it start in alternating rounds;
 * start time is measured to the first healthy /health (polled every 50 ms).
 */
export async function runBedrockCost(context: BenchContext): Promise<BedrockCostResult> {
  const plain = join(context.workDir, 'no-bedrock.yaml');
  const bedrock = join(context.workDir, 'bedrock.yaml');
  await writeFile(plain, gatewayConfig(context.fake.url));
  await writeFile(bedrock, withBedrock(context.fake.url));
  const samples = {
    without: { ms: [] as number[], mb: [] as number[] },
    with: { ms: [] as number[], mb: [] as number[] },
  };
  for (let index = 0; index < ROUNDS; index += 1) {
    for (const [kind, configPath] of [
      ['without', plain],
      ['with', bedrock],
    ] as const) {
      const startedAt = performance.now();
      const gateway = await startGateway({ configPath, logLevel: context.logLevel });
      samples[kind].ms.push(performance.now() - startedAt);
      // The SDK is imported in the background once the adapter is built: let it land.
      await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
      samples[kind].mb.push(gateway.memory().rssMb);
      await gateway.stop();
    }
  }
  const figure = (values: { without: number[]; with: number[] }) => {
    const without = median(values.without);
    const withBedrockValue = median(values.with);
    return {
      without: round(without),
      with: round(withBedrockValue),
      added: round(withBedrockValue - without),
    };
  };
  return {
    rounds: ROUNDS,
    startMs: figure({ without: samples.without.ms, with: samples.with.ms }),
    rssMb: figure({ without: samples.without.mb, with: samples.with.mb }),
  };
}
