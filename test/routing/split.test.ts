import { describe, expect, it } from 'vitest';
import { WeightedChoice } from '../../src/routing/split.js';

describe('WeightedChoice', () => {
  const choice = new WeightedChoice([
    { value: 'a', weight: 80 },
    { value: 'b', weight: 20 },
  ]);

  it.each([
    [0, ['a', 'b']],
    [0.79, ['a', 'b']],
    [0.8, ['b', 'a']],
    [0.999, ['b', 'a']],
  ])('picks by cumulative share (random %s)', (random, expected) => {
    expect(choice.order(random)).toEqual(expected);
  });

  it('follows the percentages over an even spread of random numbers', () => {
    const counts = { a: 0, b: 0 };
    for (let step = 0; step < 1000; step += 1) counts[choice.order(step / 1000)[0] as 'a' | 'b'] += 1;
    expect(counts).toEqual({ a: 800, b: 200 });
  });

  it('always picks the first destination of a 100/0 split and never offers the 0% one', () => {
    const split = new WeightedChoice([
      { value: 'first', weight: 100 },
      { value: 'never', weight: 0 },
    ]);
    for (const random of [0, 0.5, 0.9999]) expect(split.order(random)).toEqual(['first']);
  });

  it('skips a 0% destination in the middle of the list', () => {
    const split = new WeightedChoice([
      { value: 'a', weight: 50 },
      { value: 'zero', weight: 0 },
      { value: 'c', weight: 50 },
    ]);
    expect(split.order(0.5)).toEqual(['c', 'a']);
  });
});
