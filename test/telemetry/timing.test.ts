import { ServerResponse, IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RequestTelemetry } from '../../src/telemetry/request-telemetry.js';
import { DURATION_HEADER, OVERHEAD_HEADER, stampTiming } from '../../src/telemetry/timing.js';
import type { ObservedEndpoint } from '../../src/telemetry/metrics.js';

const endpoint: ObservedEndpoint = {
  name: 'chat',
  type: 'llm/v1/chat',
  config: { providerName: 'openai', modelName: 'gpt-4o-mini' },
};

function response(): ServerResponse {
  return new ServerResponse(new IncomingMessage(new Socket()));
}

function headersOf(raw: ServerResponse): { duration: number; overhead: number } {
  return {
    duration: Number(raw.getHeader(DURATION_HEADER)),
    overhead: Number(raw.getHeader(OVERHEAD_HEADER)),
  };
}

describe('stampTiming', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['performance'] });
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it('uses the elapsed time for both headers of a request that called no upstream', () => {
    const raw = response();
    stampTiming(raw, null, 12.34);
    expect(headersOf(raw)).toEqual({ duration: 12.3, overhead: 12.3 });
  });

  it('counts an upstream attempt still running as waiting, not as overhead', () => {
    const record = new RequestTelemetry({ metrics: null, tracing: null });
    vi.advanceTimersByTime(1);
    record.attemptStarted(endpoint, 1);
    vi.advanceTimersByTime(30);
    const raw = response();
    stampTiming(raw, record, 0);
    expect(headersOf(raw)).toEqual({ duration: 31, overhead: 1 });
  });

  it('leaves the time waiting on the upstream out of the overhead', () => {
    const record = new RequestTelemetry({ metrics: null, tracing: null });
    vi.advanceTimersByTime(3);
    record.attemptStarted(endpoint, 1);
    vi.advanceTimersByTime(20);
    record.attemptFinished(endpoint, 1, 'success');
    vi.advanceTimersByTime(2);
    const raw = response();
    stampTiming(raw, record, 0);
    expect(headersOf(raw)).toEqual({ duration: 25, overhead: 5 });
  });

  it('keeps a stream’s overhead as it was at its first byte', () => {
    const record = new RequestTelemetry({ metrics: null, tracing: null });
    vi.advanceTimersByTime(4);
    record.freezeOverhead(performance.now());
    vi.advanceTimersByTime(50);
    expect(record.overheadMs(performance.now())).toBe(4);
  });
});
