import { describe, expect, it } from 'vitest';
import { workerExecArgv } from '../../src/server/cluster.js';

describe('workerExecArgv', () => {
  it('adds the semi-space cap to the flags the primary runs with', () => {
    expect(workerExecArgv(['--enable-source-maps'], undefined)).toEqual([
      '--enable-source-maps',
      '--max-semi-space-size=4',
    ]);
  });

  it.each([
    ['a flag of the primary', ['--max-semi-space-size=16'], undefined],
    ['a flag with underscores', ['--max_semi_space_size=8'], undefined],
    ['NODE_OPTIONS', [], '--max-old-space-size=512 --max-semi-space-size=1'],
  ])('keeps the semi-space size the user set in %s', (_where, execArgv, nodeOptions) => {
    expect(workerExecArgv(execArgv, nodeOptions)).toEqual(execArgv);
  });
});
