import { EventEmitter } from 'node:events';
import { vi } from 'vitest';
import {
  serveClusterCounters,
  type CounterChannel,
  type CounterWorker,
} from '../../src/access/cluster-counter-store.js';
import type { CounterStoreLog } from '../../src/access/counter-store.js';

type CountRequest = Parameters<CounterChannel['send']>[0];

/** A worker's IPC channel to a FakePrimary; messages go through microtasks, as IPC is async. */
export class FakeChannel extends EventEmitter implements CounterChannel {
  connected = true;
  /** Every message the worker sent, in order. */
  readonly sent: CountRequest[] = [];
  /** When set, sends fail with it, as `process.send` does on a broken channel. */
  sendError: Error | null = null;
  readonly #primary: FakePrimary;

  constructor(primary: FakePrimary) {
    super();
    this.#primary = primary;
  }

  send(message: CountRequest, callback: (error: Error | null) => void): void {
    const error = this.sendError;
    if (error) {
      queueMicrotask(() => {
        callback(error);
      });
      return;
    }
    this.sent.push(message);
    this.#primary.receive(this, message);
    queueMicrotask(() => {
      callback(null);
    });
  }

  disconnect(): void {
    this.connected = false;
    this.emit('disconnect');
  }
}

/** The cluster primary's counter service (the real serveClusterCounters) without processes. */
export class FakePrimary {
  /** While false, requests are held until `answerHeld()`, as by a primary that hangs. */
  isAnswering: boolean;
  readonly #source = new EventEmitter();
  #held: (() => void)[] = [];

  constructor(options: { isAnswering?: boolean } = {}) {
    this.isAnswering = options.isAnswering ?? true;
    serveClusterCounters(this.#source);
  }

  connect(): FakeChannel {
    return new FakeChannel(this);
  }

  receive(channel: FakeChannel, message: CountRequest): void {
    const worker: CounterWorker = {
      isConnected: () => channel.connected,
      send: (reply) => {
        queueMicrotask(() => channel.emit('message', reply));
        return true;
      },
    };
    const deliver = (): void => {
      this.#source.emit('message', worker, message);
    };
    if (this.isAnswering) queueMicrotask(deliver);
    else this.#held.push(deliver);
  }

  answerHeld(): void {
    for (const deliver of this.#held.splice(0)) deliver();
  }
}

export function fakeLog() {
  return {
    info: vi.fn<CounterStoreLog['info']>(),
    warn: vi.fn<CounterStoreLog['warn']>(),
    error: vi.fn<CounterStoreLog['error']>(),
  };
}
