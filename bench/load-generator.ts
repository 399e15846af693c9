// The load generator, run as its own process by the orchestrator (bench/processes.ts). It
// takes one task at a time over IPC and answers with measurements. Closed-loop load comes
// from autocannon; open-loop load and streams use undici directly, because autocannon paces
// a fixed rate in one-second bursts and cannot time the first byte of a body.
import autocannon, { type Instance } from 'autocannon';
import { Pool } from 'undici';
import { Samples, type LatencySummary } from './stats.js';

/** One POST with a JSON body, as every scenario sends it. */
export interface Target {
  origin: string;
  path: string;
  body: string;
}

export type LoadTask =
  | {
      kind: 'closed-loop';
      target: Target;
      connections: number;
      /** Run until this many requests, or for `seconds`, or until a `stop` message. */
      amount?: number;
      seconds?: number;
    }
  | { kind: 'open-loop'; target: Target; ratePerSecond: number; seconds: number }
  /** `minEvents`: a stream with fewer `data:` events, or with an error event, failed. */
  | { kind: 'streams'; target: Target; count: number; minEvents: number }
  | { kind: 'stop' };

export interface ClosedLoopResult {
  kind: 'closed-loop';
  ok: number;
  failed: number;
  /** Successful responses per second, from the first request to the last response. */
  requestsPerSecond: number;
  /** From the first request to the last response. */
  elapsedSeconds: number;
  latency: LatencySummary;
}

export interface OpenLoopResult {
  kind: 'open-loop';
  sent: number;
  ok: number;
  failed: number;
  latency: LatencySummary;
}

export interface StreamsResult {
  kind: 'streams';
  ok: number;
  failed: number;
  firstByte: LatencySummary;
  lastByte: LatencySummary;
}

export type LoadResult = ClosedLoopResult | OpenLoopResult | StreamsResult;

const JSON_HEADERS = { 'content-type': 'application/json' };

let running: Instance | null = null;

function closedLoop(task: Extract<LoadTask, { kind: 'closed-loop' }>): Promise<ClosedLoopResult> {
  const latencies = new Samples();
  const start = performance.now();
  let lastResponse = start;
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: `${task.target.origin}${task.target.path}`,
        method: 'POST',
        headers: JSON_HEADERS,
        body: task.target.body,
        connections: task.connections,
        // autocannon reports only after its next sample tick; keep that short.
        sampleInt: 100,
        timeout: 10,
        ...(task.amount === undefined ? { duration: task.seconds ?? 3600 } : { amount: task.amount }),
      },
      (error, result) => {
        running = null;
        if (error) {
          reject(error);
          return;
        }
        const ok = result['2xx'];
        const seconds = (lastResponse - start) / 1000;
        resolve({
          kind: 'closed-loop',
          ok,
          failed: result.non2xx + result.errors + result.timeouts,
          requestsPerSecond: seconds > 0 ? Math.round(ok / seconds) : 0,
          elapsedSeconds: seconds,
          latency: latencies.summary(),
        });
      },
    );
    instance.on('response', (_client: unknown, statusCode: number, _bytes: number, ms: number) => {
      lastResponse = performance.now();
      if (statusCode < 300) latencies.add(ms);
    });
    running = instance;
  });
}

async function openLoop(task: Extract<LoadTask, { kind: 'open-loop' }>): Promise<OpenLoopResult> {
  const pool = new Pool(task.target.origin, { connections: 128 });
  const latencies = new Samples();
  const total = Math.round(task.ratePerSecond * task.seconds);
  const intervalMs = 1000 / task.ratePerSecond;
  let sent = 0;
  let ok = 0;
  let failed = 0;
  const inFlight = new Set<Promise<void>>();
  const fire = (): void => {
    const begin = performance.now();
    const request = pool
      .request({ method: 'POST', path: task.target.path, headers: JSON_HEADERS, body: task.target.body })
      .then(async (response) => {
        await response.body.dump();
        if (response.statusCode < 300) {
          ok += 1;
          latencies.add(performance.now() - begin);
        } else failed += 1;
      })
      .catch(() => {
        failed += 1;
      })
      .finally(() => inFlight.delete(request));
    inFlight.add(request);
  };
  const start = performance.now();
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const due = Math.min(total, Math.floor((performance.now() - start) / intervalMs) + 1);
      while (sent < due) {
        fire();
        sent += 1;
      }
      if (sent < total) setTimeout(tick, 1);
      else resolve();
    };
    tick();
  });
  await Promise.all(inFlight);
  await pool.close();
  return { kind: 'open-loop', sent, ok, failed, latency: latencies.summary() };
}

const ERROR_EVENT = /^data: \{"error"/m;
const DATA_LINE = /^data: /gm;

function isCompleteStream(text: string, minEvents: number): boolean {
  return !ERROR_EVENT.test(text) && (text.match(DATA_LINE)?.length ?? 0) >= minEvents;
}

async function streams(task: Extract<LoadTask, { kind: 'streams' }>): Promise<StreamsResult> {
  const pool = new Pool(task.target.origin, { connections: 1 });
  const firstByte = new Samples();
  const lastByte = new Samples();
  let ok = 0;
  let failed = 0;
  for (let index = 0; index < task.count; index += 1) {
    const begin = performance.now();
    try {
      const response = await pool.request({
        method: 'POST',
        path: task.target.path,
        headers: JSON_HEADERS,
        body: task.target.body,
      });
      let first = 0;
      let text = '';
      for await (const chunk of response.body) {
        if (first === 0) first = performance.now();
        text += (chunk as Buffer).toString('utf8');
      }
      if (response.statusCode !== 200 || !isCompleteStream(text, task.minEvents)) {
        failed += 1;
        continue;
      }
      firstByte.add(first - begin);
      lastByte.add(performance.now() - begin);
      ok += 1;
    } catch {
      failed += 1;
    }
  }
  await pool.close();
  return { kind: 'streams', ok, failed, firstByte: firstByte.summary(), lastByte: lastByte.summary() };
}

function run(task: LoadTask): Promise<LoadResult> | null {
  switch (task.kind) {
    case 'closed-loop':
      return closedLoop(task);
    case 'open-loop':
      return openLoop(task);
    case 'streams':
      return streams(task);
    case 'stop':
      running?.stop();
      return null;
  }
}

process.on('message', (message: { id: number; task: LoadTask }) => {
  const pending = run(message.task);
  if (!pending) return;
  pending.then(
    (result) => process.send?.({ id: message.id, result }),
    (error: unknown) => process.send?.({ id: message.id, error: String(error) }),
  );
});
process.on('disconnect', () => process.exit(0));
