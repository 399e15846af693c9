/** Told once when a call is cancelled; the same shape as a DOM EventListenerObject. */
export interface CancelListener {
  handleEvent(): void;
}

/**
 * A request's "the client went away", without an AbortSignal until something asks for one.
 * Node 20 takes microseconds to create an AbortSignal and to add and remove its listeners,
 * and most requests finish without either being needed: unary upstream calls subscribe here
 * directly, while streams, relays, retries and SDK clients read `signal`, made on first use.
 */
export class Cancellation {
  #controller: AbortController | null = null;
  #isCancelled = false;
  #listeners: CancelListener[] | null = null;

  get isCancelled(): boolean {
    return this.#isCancelled;
  }

  /** An AbortSignal that aborts (reason: an AbortError DOMException) when this is cancelled. */
  get signal(): AbortSignal {
    if (this.#controller === null) {
      this.#controller = new AbortController();
      if (this.#isCancelled) this.#controller.abort();
    }
    return this.#controller.signal;
  }

  cancel(): void {
    if (this.#isCancelled) return;
    this.#isCancelled = true;
    this.#controller?.abort();
    const listeners = this.#listeners;
    this.#listeners = null;
    if (listeners !== null) for (const listener of listeners) listener.handleEvent();
  }

  /** `listener` is told once, on cancel; a cancelled Cancellation never calls it. */
  subscribe(listener: CancelListener): void {
    if (this.#isCancelled) return;
    (this.#listeners ??= []).push(listener);
  }

  unsubscribe(listener: CancelListener): void {
    const listeners = this.#listeners;
    if (listeners === null) return;
    const index = listeners.indexOf(listener);
    if (index >= 0) listeners.splice(index, 1);
  }
}

/**
 * What an upstream call needs to be cancelled: a `cancellation` when the caller has one
 * (read first, so `signal` is never made), else the signal.
 */
export interface Cancellable {
  readonly signal: AbortSignal;
  readonly cancellation?: Cancellation | undefined;
}
