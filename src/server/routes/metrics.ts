import type { FastifyInstance } from 'fastify';
import { GatewayError } from '../../errors.js';
import type { Telemetry } from '../../telemetry/telemetry.js';

/** GET /metrics: the Prometheus text exposition (with `--workers`, the whole process group's). */
export function registerMetricsRoute(app: FastifyInstance, telemetry: Telemetry): void {
  const scrape = telemetry.scrape;
  if (scrape === null) return;
  app.get('/metrics', async (request, reply) => {
    let metrics;
    try {
      metrics = await scrape();
    } catch (error) {
      request.log.warn({ err: error }, 'collecting metrics failed');
      throw new GatewayError(503, 'INTERNAL', 'Metrics are not available right now.');
    }
    return reply.type(metrics.contentType).send(metrics.text);
  });
}
