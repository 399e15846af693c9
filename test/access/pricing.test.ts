import { describe, expect, it } from 'vitest';
import { costMicroUsd } from '../../src/access/pricing.js';

describe('costMicroUsd', () => {
  it('prices input and output tokens per million, in integer micro-USD', () => {
    expect(
      costMicroUsd(
        { input_per_million: 0.15, output_per_million: 0.6 },
        { inputTokens: 1000, outputTokens: 500 },
      ),
    ).toBe(450);
  });

  it('rounds a fraction of a micro-dollar up, and a float hair not at all', () => {
    expect(
      costMicroUsd({ input_per_million: 0.15, output_per_million: 0 }, { inputTokens: 3, outputTokens: 0 }),
    ).toBe(1);
    expect(
      costMicroUsd(
        { input_per_million: 0.1, output_per_million: 0.2 },
        { inputTokens: 10, outputTokens: 10 },
      ),
    ).toBe(3);
  });

  it('costs nothing for free endpoints', () => {
    expect(
      costMicroUsd({ input_per_million: 0, output_per_million: 0 }, { inputTokens: 10, outputTokens: 10 }),
    ).toBe(0);
  });
});
