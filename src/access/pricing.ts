import { z } from 'zod';

/** An endpoint's `pricing`: USD per million input (prompt) and output (completion) tokens. */
export const pricingSchema = z.strictObject({
  input_per_million: z.number().min(0),
  output_per_million: z.number().min(0),
});
export type Pricing = z.infer<typeof pricingSchema>;

/** Tokens an upstream reported for one request; null when it did not say. */
export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
}

/**
 * What a request cost in micro-USD, as an integer so every counter store adds it exactly.
 * USD per million tokens times tokens is micro-USD already; a fraction of a micro-dollar is
 * rounded up, so spend is never under-counted.
 */
export function costMicroUsd(pricing: Pricing, usage: TokenUsage): number {
  const exact =
    usage.inputTokens * pricing.input_per_million + usage.outputTokens * pricing.output_per_million;
  // Float products like 3 * 0.15 land a hair above the integer; don't charge for that hair.
  return Math.ceil(Number(exact.toFixed(6)));
}

/** Micro-USD as dollars for messages and the usage route. */
export function microUsdToUsd(microUsd: number): number {
  return microUsd / 1_000_000;
}
