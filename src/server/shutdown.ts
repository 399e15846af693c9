import type { FastifyBaseLogger } from 'fastify';

/** How long requests in flight (streams included) may take to finish after SIGTERM. */
export const DEFAULT_SHUTDOWN_GRACE_SECONDS = 30;

const SIGNAL_EXIT_CODES: Record<'SIGINT' | 'SIGTERM', number> = { SIGINT: 130, SIGTERM: 143 };

/** The IPC message a cluster primary sends a worker to drain and exit. */
export const SHUTDOWN_MESSAGE = 'llmgw:shutdown';

export interface ShutdownOptions {
  graceSeconds: number;
  log: FastifyBaseLogger;
  /** Stops accepting and resolves once every request in flight has finished. */
  drain: () => Promise<void>;
  /** Cuts whatever is still open when the grace period ends. */
  forceClose: () => void;
}

/**
 * SIGINT/SIGTERM (or the primary's message, in a worker): stop accepting, let requests in
 * flight finish within the grace period, then exit 0. A second signal exits at once.
 */
export function installShutdown(options: ShutdownOptions): void {
  let isShuttingDown = false;
  const begin = (cause: string): void => {
    isShuttingDown = true;
    options.log.info(
      `${cause}: no longer accepting connections; waiting up to ${options.graceSeconds}s for requests in flight`,
    );
    const timer = setTimeout(() => {
      options.log.warn(`Grace period of ${options.graceSeconds}s over: closing the connections still open`);
      options.forceClose();
    }, options.graceSeconds * 1000);
    options.drain().then(
      () => {
        clearTimeout(timer);
        options.log.info('All requests finished; exiting');
        process.exit(0);
      },
      (error: unknown) => {
        options.log.error({ err: error }, 'Shutdown failed');
        process.exit(1);
      },
    );
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (isShuttingDown) {
        options.log.warn(`${signal} again: exiting now`);
        process.exit(SIGNAL_EXIT_CODES[signal]);
      }
      begin(signal);
    });
  }
  process.on('message', (message) => {
    if (message === SHUTDOWN_MESSAGE && !isShuttingDown) begin('Shutdown requested by the primary');
  });
  // A worker whose primary is gone drains and exits rather than serving unsupervised.
  process.on('disconnect', () => {
    if (!isShuttingDown) begin('Primary process gone');
  });
}
