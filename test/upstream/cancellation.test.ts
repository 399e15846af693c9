import { describe, expect, it } from 'vitest';
import { Cancellation } from '../../src/upstream/cancellation.js';

function listener(calls: string[], name: string): { handleEvent(): void } {
  return { handleEvent: () => calls.push(name) };
}

describe('Cancellation', () => {
  it('tells each subscribed listener once, in order, and never again', () => {
    const calls: string[] = [];
    const cancellation = new Cancellation();
    cancellation.subscribe(listener(calls, 'a'));
    cancellation.subscribe(listener(calls, 'b'));
    cancellation.cancel();
    cancellation.cancel();
    expect(calls).toEqual(['a', 'b']);
    expect(cancellation.isCancelled).toBe(true);
  });

  it('does not tell a listener that unsubscribed', () => {
    const calls: string[] = [];
    const cancellation = new Cancellation();
    const a = listener(calls, 'a');
    cancellation.subscribe(a);
    cancellation.subscribe(listener(calls, 'b'));
    cancellation.unsubscribe(a);
    cancellation.cancel();
    expect(calls).toEqual(['b']);
  });

  it('never calls a listener that subscribes after the cancel', () => {
    const calls: string[] = [];
    const cancellation = new Cancellation();
    cancellation.cancel();
    cancellation.subscribe(listener(calls, 'late'));
    expect(calls).toEqual([]);
  });

  it('makes one signal that aborts with an AbortError on cancel', () => {
    const cancellation = new Cancellation();
    const signal = cancellation.signal;
    expect(signal.aborted).toBe(false);
    expect(cancellation.signal).toBe(signal);
    cancellation.cancel();
    expect(signal.aborted).toBe(true);
    expect((signal.reason as Error).name).toBe('AbortError');
  });

  it('makes an already aborted signal when first read after the cancel', () => {
    const cancellation = new Cancellation();
    cancellation.cancel();
    expect(cancellation.signal.aborted).toBe(true);
  });
});
