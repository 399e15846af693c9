import type { Server } from 'node:http';
import { ClusterMetricsClient, listenMetrics, reportToPrimary, type MetricsText } from './cluster-metrics.js';
import { GatewayMetrics } from './metrics.js';
import type { TelemetrySinks } from './request-telemetry.js';
import { loadTracing } from './tracing.js';

export interface TelemetryOptions {
  /** False (LLMGW_METRICS=off): no instruments and no /metrics. Default true. */
  metrics?: boolean;
  /** Serve /metrics on this port (and `metricsHost`) instead of the gateway's own. */
  metricsPort?: number | undefined;
  metricsHost?: string | undefined;
  /** A `--workers` worker: /metrics answers for all workers, summed by the primary. */
  isClusterWorker?: boolean;
  /** Where OTEL_* is read; default process.env. */
  env?: NodeJS.ProcessEnv;
}

/** The metrics and traces of one gateway, built once at start. */
export interface Telemetry extends TelemetrySinks {
  /** What GET /metrics on the gateway's port answers; null when it is not served there. */
  readonly scrape: (() => Promise<MetricsText>) | null;
  /** Where the standalone metrics server listens, if there is one. */
  readonly metricsUrl: string | null;
  close(): Promise<void>;
}

export async function createTelemetry(options: TelemetryOptions = {}): Promise<Telemetry> {
  const tracing = await loadTracing(options.env ?? process.env);
  const metrics = options.metrics === false ? null : new GatewayMetrics();
  let scrape: Telemetry['scrape'] = null;
  let server: Server | null = null;
  if (metrics !== null) {
    const local = async (): Promise<MetricsText> => ({
      contentType: metrics.registry.contentType,
      text: await metrics.registry.metrics(),
    });
    if (options.isClusterWorker === true) {
      reportToPrimary(metrics.registry);
      // With its own port the primary serves the sum there; workers serve nothing.
      if (options.metricsPort === undefined) {
        const client = new ClusterMetricsClient();
        scrape = () => client.read();
      }
    } else if (options.metricsPort !== undefined) {
      server = await listenMetrics(options.metricsHost ?? '127.0.0.1', options.metricsPort, local);
    } else {
      scrape = local;
    }
  }
  const address = server?.address();
  return {
    metrics,
    tracing,
    scrape,
    metricsUrl:
      address !== undefined && address !== null && typeof address === 'object'
        ? `http://${options.metricsHost ?? '127.0.0.1'}:${address.port}/metrics`
        : null,
    async close() {
      await Promise.all([
        tracing?.shutdown(),
        server === null ? undefined : new Promise((resolve) => server.close(resolve)),
      ]);
    },
  };
}
