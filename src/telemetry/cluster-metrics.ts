import { createServer, type Server } from 'node:http';
import { AggregatorRegistry, Registry, type Registry as RegistryType } from 'prom-client';

// With `--workers`, each worker keeps its own registry and the primary sums them with
// prom-client's AggregatorRegistry (its own IPC messages carry `type: 'prom-client:…'`). A worker
// asked for /metrics on the shared port forwards the scrape to the primary with `llmgw:
// 'metrics'` messages, which neither prom-client nor the rate-limit counters read.

/** How long a scrape waits for the primary (which itself waits up to 5 s for each worker). */
const CLUSTER_METRICS_TIMEOUT_MS = 10_000;

/** A scrape's answer: the text exposition and its content type. */
export interface MetricsText {
  contentType: string;
  text: string;
}

interface ScrapeRequest {
  llmgw: 'metrics';
  id: number;
}

interface ScrapeReply {
  llmgw: 'metrics-text';
  id: number;
  text: string | null;
  error: string | null;
}

function isScrapeRequest(message: unknown): message is ScrapeRequest {
  if (typeof message !== 'object' || message === null) return false;
  const candidate = message as Partial<ScrapeRequest>;
  return candidate.llmgw === 'metrics' && typeof candidate.id === 'number';
}

function isScrapeReply(message: unknown): message is ScrapeReply {
  if (typeof message !== 'object' || message === null) return false;
  const candidate = message as Partial<ScrapeReply>;
  return candidate.llmgw === 'metrics-text' && typeof candidate.id === 'number';
}

/**
 * Registers a worker's registry as the one prom-client reports to its primary. prom-client
 * installs its worker-side listener when an AggregatorRegistry is first constructed.
 */
export function reportToPrimary(registry: RegistryType): void {
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([registry]);
}

/** A worker as the primary sees it (node:cluster's Worker). */
interface ScrapeWorker {
  isConnected(): boolean;
  send(message: ScrapeReply, callback: (error: Error | null) => void): boolean;
}

interface ScrapeWorkerSource {
  on(event: 'message', listener: (worker: ScrapeWorker, message: unknown) => void): unknown;
}

const ignoreSendError = (): void => undefined;

/**
 * The primary's side: answers workers' scrapes with the sum over all workers, and, given a
 * port, serves `GET /metrics` there itself. Resolves once listening.
 */
export async function serveClusterMetrics(
  source: ScrapeWorkerSource,
  options: { host: string; port: number | null },
): Promise<Server | null> {
  const aggregator = new AggregatorRegistry();
  const scrape = (): Promise<string> => aggregator.clusterMetrics();
  source.on('message', (worker, message) => {
    if (!isScrapeRequest(message)) return;
    scrape().then(
      (text) => {
        if (worker.isConnected())
          worker.send({ llmgw: 'metrics-text', id: message.id, text, error: null }, ignoreSendError);
      },
      (error: unknown) => {
        const reason = error instanceof Error ? error.message : String(error);
        if (worker.isConnected())
          worker.send({ llmgw: 'metrics-text', id: message.id, text: null, error: reason }, ignoreSendError);
      },
    );
  });
  if (options.port === null) return null;
  return listenMetrics(options.host, options.port, async () => ({
    contentType: aggregator.contentType,
    text: await scrape(),
  }));
}

/** A standalone `GET /metrics` server (the `--metrics-port` option). */
export async function listenMetrics(
  host: string,
  port: number,
  read: () => Promise<MetricsText>,
): Promise<Server> {
  const server = createServer((request, response) => {
    const path = request.url?.split('?')[0];
    if (request.method !== 'GET' || path !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found\n');
      return;
    }
    read().then(
      (metrics) => {
        response.writeHead(200, { 'content-type': metrics.contentType }).end(metrics.text);
      },
      (error: unknown) => {
        response.writeHead(503, { 'content-type': 'text/plain' }).end(`${String(error)}\n`);
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}

/** A worker's end: forwards scrapes to the primary over the IPC channel. */
export class ClusterMetricsClient {
  readonly #pending = new Map<number, { resolve: (text: string) => void; reject: (error: Error) => void }>();
  #nextId = 0;

  constructor() {
    process.on('message', (message: unknown) => {
      if (!isScrapeReply(message)) return;
      const pending = this.#pending.get(message.id);
      if (!pending) return;
      this.#pending.delete(message.id);
      if (message.text !== null) pending.resolve(message.text);
      else pending.reject(new Error(message.error ?? 'the primary could not collect the metrics'));
    });
  }

  read(): Promise<MetricsText> {
    this.#nextId += 1;
    const id = this.#nextId;
    return new Promise<string>((resolve, reject) => {
      if (!process.connected || process.send === undefined) {
        reject(new Error('the primary process is unreachable'));
        return;
      }
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error('the primary process did not answer'));
      }, CLUSTER_METRICS_TIMEOUT_MS);
      timer.unref();
      this.#pending.set(id, {
        resolve: (text) => {
          clearTimeout(timer);
          resolve(text);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      process.send({ llmgw: 'metrics', id } satisfies ScrapeRequest);
    }).then((text) => ({ contentType: Registry.PROMETHEUS_CONTENT_TYPE, text }));
  }
}
