import type { ServerResponse } from 'node:http';
import { roundMs, type RequestTelemetry } from './request-telemetry.js';

/** MLflow AI Gateway's timing headers, in milliseconds. */
export const DURATION_HEADER = 'X-MLflow-Gateway-Duration-Ms';
export const OVERHEAD_HEADER = 'X-MLflow-Gateway-Overhead-Duration-Ms';

/**
 * Sets both timing headers on a response about to send its status line: the time since the
 * request arrived and the part of it not spent waiting on an upstream. Both are rounded the
 * same way from one reading, so the overhead never exceeds the duration.
 */
export function stampTiming(raw: ServerResponse, record: RequestTelemetry | null, elapsedMs: number): void {
  if (raw.headersSent) return;
  let durationMs = elapsedMs;
  let overheadMs = elapsedMs;
  if (record !== null) {
    const nowMs = performance.now();
    durationMs = nowMs - record.startMs;
    overheadMs = Math.min(durationMs, record.overheadMs(nowMs));
  }
  raw.setHeader(DURATION_HEADER, String(roundMs(durationMs)));
  raw.setHeader(OVERHEAD_HEADER, String(roundMs(overheadMs)));
}
