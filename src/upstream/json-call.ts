import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';
import { UpstreamProtocolError, UpstreamTimeoutError } from '../errors.js';
import type { Cancellable, Cancellation } from './cancellation.js';
import {
  mapTransportError,
  responseTooLarge,
  unsupportedContentType,
  upstreamErrorResponse,
  type TransportLimits,
} from './errors.js';
import { headerValue } from './headers.js';

/** A 2xx body of a type we cannot read is discarded; past this size its connection is dropped instead. */
const DISCARD_LIMIT_BYTES = 128 * 1024;

type DispatchController = Parameters<NonNullable<Dispatcher.DispatchHandler['onRequestStart']>>[0];

export interface JsonCallSettings {
  readonly limits: TransportLimits;
  readonly timeoutMs: number;
}

/**
 * One unary upstream call on undici's dispatch API: the body is gathered as it arrives, with
 * no stream object, async iterator or per-call AbortController, and the call settles once.
 * A whole-call deadline (undici's own timeouts only bound the gaps between bytes) and the
 * caller's signal both abort it; the size cap and the status/content-type rules are those of
 * every unary call (upstream/errors.ts).
 */
export class JsonCall implements Dispatcher.DispatchHandler {
  readonly #settings: JsonCallSettings;
  /** Where the cancel comes from: the caller's Cancellation when it has one, else a signal. */
  readonly #cancellation: Cancellation | undefined;
  readonly #signal: AbortSignal | null;
  readonly #resolve: (value: unknown) => void;
  readonly #reject: (error: unknown) => void;
  readonly #deadline: NodeJS.Timeout;
  #controller: DispatchController | null = null;
  /** Why the call was cut before undici handed over its controller. */
  #pendingAbort: Error | null = null;
  #isSettled = false;
  #status = 0;
  #contentType: string | undefined;
  #retryAfter: string | null = null;
  /** A 2xx answer that is neither JSON nor text: read to its end and dropped. */
  #isDiscarded = false;
  #isJson = false;
  #chunks: Buffer[] = [];
  #size = 0;

  constructor(
    settings: JsonCallSettings,
    caller: Cancellable | AbortSignal,
    resolve: (value: unknown) => void,
    reject: (error: unknown) => void,
  ) {
    this.#settings = settings;
    const cancellation = caller instanceof AbortSignal ? undefined : caller.cancellation;
    this.#cancellation = cancellation;
    this.#signal = cancellation !== undefined ? null : caller instanceof AbortSignal ? caller : caller.signal;
    this.#resolve = resolve;
    this.#reject = reject;
    this.#deadline = setTimeout(expire, settings.timeoutMs, this);
    // The call itself is the listener (`handleEvent`): no closure per call.
    const signal = this.#signal;
    if (cancellation !== undefined) {
      if (cancellation.isCancelled) this.handleEvent();
      else cancellation.subscribe(this);
    } else if (signal !== null) {
      if (signal.aborted) this.handleEvent();
      else signal.addEventListener('abort', this, { once: true });
    }
  }

  /** The caller was cancelled (the client went away), or its signal fired. */
  handleEvent(): void {
    const reason: unknown = this.#signal?.reason;
    this.#abort(reason instanceof Error ? reason : new DOMException('The client went away.', 'AbortError'));
  }

  expire(): void {
    this.#abort(new UpstreamTimeoutError(this.#settings.limits.timeoutSeconds));
  }

  /** Settles at once with the mapped reason; undici is told to stop as soon as it can be. */
  #abort(reason: Error): void {
    if (this.#controller !== null) this.#controller.abort(reason);
    else this.#pendingAbort = reason;
    this.#fail(reason);
  }

  onRequestStart(controller: DispatchController): void {
    this.#controller = controller;
    if (this.#pendingAbort !== null) controller.abort(this.#pendingAbort);
  }

  onResponseStart(_controller: DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    this.#status = statusCode;
    const contentType = headerValue(headers, 'content-type');
    this.#contentType = contentType;
    const max = this.#settings.limits.maxResponseBytes;
    if (Number(headerValue(headers, 'content-length')) > max) {
      this.#abort(responseTooLarge(max));
      return;
    }
    if (statusCode >= 400) {
      this.#retryAfter = headerValue(headers, 'retry-after') ?? null;
      return;
    }
    this.#isJson = contentType?.includes('application/json') === true;
    this.#isDiscarded = !this.#isJson && contentType?.includes('text/plain') !== true;
  }

  onResponseData(_controller: DispatchController, chunk: Buffer): void {
    if (this.#isSettled) return;
    this.#size += chunk.length;
    if (this.#isDiscarded) {
      if (this.#size > DISCARD_LIMIT_BYTES) this.#abort(unsupportedContentType(this.#contentType));
      return;
    }
    const max = this.#settings.limits.maxResponseBytes;
    if (this.#size > max) {
      this.#abort(responseTooLarge(max));
      return;
    }
    this.#chunks.push(chunk);
  }

  onResponseEnd(): void {
    if (this.#isSettled) return;
    if (this.#isDiscarded) {
      this.#fail(unsupportedContentType(this.#contentType));
      return;
    }
    const chunks = this.#chunks;
    const text = (chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, this.#size)).toString(
      'utf8',
    );
    if (this.#status >= 400) {
      this.#fail(upstreamErrorResponse(this.#status, this.#contentType, text, false, this.#retryAfter));
      return;
    }
    let value: unknown;
    try {
      value = this.#isJson ? (JSON.parse(text) as unknown) : { message: text };
    } catch (error) {
      this.#fail(
        new UpstreamProtocolError('The upstream provider returned a body that is not valid JSON.', error),
      );
      return;
    }
    this.#finish();
    this.#resolve(value);
  }

  onResponseError(_controller: DispatchController, error: Error): void {
    this.#fail(error);
  }

  /** Settles with the error mapped for the phase the call was in; later failures change nothing. */
  #fail(error: unknown): void {
    if (this.#isSettled) return;
    this.#finish();
    this.#reject(
      mapTransportError(error, this.#settings.limits, this.#status === 0 ? 'request' : 'response'),
    );
  }

  #finish(): void {
    this.#isSettled = true;
    this.#chunks = [];
    clearTimeout(this.#deadline);
    this.#cancellation?.unsubscribe(this);
    this.#signal?.removeEventListener('abort', this);
  }
}

function expire(call: JsonCall): void {
  call.expire();
}
