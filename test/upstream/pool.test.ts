import { afterEach, describe, expect, it } from 'vitest';
import { PoolSet } from '../../src/upstream/pool.js';

const A = 'http://127.0.0.1:9';
const B = 'http://127.0.0.1:10';

let pools: PoolSet;

afterEach(async () => {
  await pools.close();
});

function newPools(): PoolSet {
  pools = new PoolSet({ connectTimeoutMs: 1000 });
  return pools;
}

describe('PoolSet', () => {
  it('returns the origins a build asked for and keeps their pools open', () => {
    const set = newPools();
    const { value, origins } = set.track(() => [set.get(A), set.get(B), set.get(A)]);
    expect([...origins]).toEqual([A, B]);
    expect(value[0]).toBe(value[2]);
    expect(set.origins).toEqual([A, B]);
  });

  it('closes a pool when the last build that asked for it is released', async () => {
    const set = newPools();
    const first = set.track(() => [set.get(A), set.get(B)]);
    const second = set.track(() => [set.get(B)]);
    const [poolA, poolB] = first.value;
    await set.release(first.origins);
    expect(set.origins).toEqual([B]);
    expect([poolA?.closed, poolB?.closed]).toEqual([true, false]);
    await set.release(second.origins);
    expect(set.origins).toEqual([]);
    expect(poolB?.closed).toBe(true);
  });

  it('opens a new pool for an origin asked for again after its pool closed', async () => {
    const set = newPools();
    const first = set.track(() => set.get(A));
    await set.release(first.origins);
    const second = set.track(() => set.get(A));
    expect(second.value).not.toBe(first.value);
    expect(second.value.closed).toBe(false);
  });

  it('holds nothing for a build that throws, and closes the pools it opened', () => {
    const set = newPools();
    const held = set.track(() => set.get(A));
    let opened: ReturnType<PoolSet['get']> | undefined;
    expect(() =>
      set.track(() => {
        set.get(A);
        opened = set.get(B);
        throw new Error('adapter failed');
      }),
    ).toThrow('adapter failed');
    expect(set.origins).toEqual([A]);
    expect(opened?.closed).toBe(true);
    expect(held.value.closed).toBe(false);
  });

  it('closes every pool on close, held or not', async () => {
    const set = newPools();
    const { value } = set.track(() => [set.get(A), set.get(B)]);
    await set.close();
    expect(set.origins).toEqual([]);
    expect(value.map((pool) => pool.closed)).toEqual([true, true]);
  });
});
