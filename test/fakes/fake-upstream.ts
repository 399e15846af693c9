import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as the fake saw it. `body` is the parsed JSON (or the raw text if not JSON). */
export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  rawBody: string;
}

/** A scripted answer. */
export type FakeReply =
  | { kind: 'json'; status?: number; body: unknown; headers?: Record<string, string> }
  | { kind: 'text'; status?: number; body: string; contentType?: string | null }
  | { kind: 'sse'; status?: number; events: string[]; headers?: Record<string, string> }
  /** SSE whose frames are written one by one as the test calls `release()`. */
  | { kind: 'sse-manual'; status?: number; stream: ManualStream }
  /** Never answers until the request is aborted or the fake closes. */
  | { kind: 'hang' }
  /** Sends the SSE frames, then destroys the socket without ending the response. */
  | { kind: 'sse-then-drop'; events: string[] }
  /** Raw bytes written exactly as given (e.g. AWS event-stream frames); `drop` cuts the socket instead of ending. */
  | { kind: 'bytes'; status?: number; contentType: string; chunks: Uint8Array[]; ending?: 'end' | 'drop' }
  /** Headers, then `chunk` every `intervalMs` until the request closes: an upstream that trickles. */
  | { kind: 'trickle'; status?: number; contentType: string; chunk: string; intervalMs: number }
  /** Bytes written straight to the socket, not HTTP framed by node (garbage, bad headers), then the socket ends. */
  | { kind: 'raw'; data: string };

/** Lets a test write SSE frames at the moment it chooses. */
export class ManualStream {
  #response: ServerResponse | null = null;
  #waiting: (() => void)[] = [];

  attach(response: ServerResponse): void {
    this.#response = response;
    for (const resolve of this.#waiting) resolve();
    this.#waiting = [];
  }

  /** Resolves once the fake has sent the response headers. */
  async started(): Promise<void> {
    if (this.#response) return;
    await new Promise<void>((resolve) => this.#waiting.push(resolve));
  }

  send(frame: string): void {
    this.#response?.write(frame);
  }

  end(): void {
    this.#response?.end();
  }

  drop(): void {
    this.#response?.socket?.destroy();
  }
}

type Handler = (request: RecordedRequest) => FakeReply;

/**
 * The one fake-upstream harness: node:http on 127.0.0.1, port 0. It records every request and
 * answers from a queue of scripted replies (or a default handler).
 */
export class FakeUpstream {
  readonly requests: RecordedRequest[] = [];
  readonly #server: Server;
  readonly #queue: (FakeReply | Handler)[] = [];
  readonly #waiters: ((request: RecordedRequest) => void)[] = [];
  readonly #abortWaiters: (() => void)[] = [];
  #defaultReply: FakeReply | Handler = {
    kind: 'json',
    status: 500,
    body: { error: { message: 'no reply scripted' } },
  };
  abortedCount = 0;

  private constructor() {
    this.#server = createServer((request, response) => {
      void this.#handle(request, response);
    });
  }

  static async start(): Promise<FakeUpstream> {
    const fake = new FakeUpstream();
    fake.#server.listen(0, '127.0.0.1');
    await once(fake.#server, 'listening');
    return fake;
  }

  get url(): string {
    const { port } = this.#server.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  /** Queues the reply for the next request. */
  reply(reply: FakeReply | Handler): this {
    this.#queue.push(reply);
    return this;
  }

  /** The reply for requests when the queue is empty. */
  replyAlways(reply: FakeReply | Handler): this {
    this.#defaultReply = reply;
    return this;
  }

  /** The next request not yet taken (resolves when it arrives). */
  nextRequest(): Promise<RecordedRequest> {
    const index = this.#taken;
    this.#taken += 1;
    const existing = this.requests[index];
    if (existing) return Promise.resolve(existing);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }
  #taken = 0;

  /** Resolves when a request's client side (the gateway) closes before the reply ended. */
  aborted(): Promise<void> {
    if (this.abortedCount > this.#abortsSeen) {
      this.#abortsSeen += 1;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#abortWaiters.push(resolve));
  }
  #abortsSeen = 0;

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    this.#server.close();
    await once(this.#server, 'close').catch(() => undefined);
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const rawBody = Buffer.concat(chunks).toString('utf8');
    const url = new URL(request.url ?? '/', 'http://fake');
    let body: unknown = rawBody;
    try {
      body = rawBody === '' ? undefined : JSON.parse(rawBody);
    } catch {
      // keep the raw text
    }
    const recorded: RecordedRequest = {
      method: request.method ?? '',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: request.headers,
      body,
      rawBody,
    };
    this.requests.push(recorded);
    const waiter = this.#waiters.shift();
    if (waiter) waiter(recorded);

    response.on('close', () => {
      if (!response.writableFinished) {
        this.abortedCount += 1;
        const abortWaiter = this.#abortWaiters.shift();
        if (abortWaiter) {
          this.#abortsSeen += 1;
          abortWaiter();
        }
      }
    });

    const scripted = this.#queue.shift() ?? this.#defaultReply;
    const reply = typeof scripted === 'function' ? scripted(recorded) : scripted;
    this.#send(reply, response);
  }

  #send(reply: FakeReply, response: ServerResponse): void {
    switch (reply.kind) {
      case 'json':
        response.writeHead(reply.status ?? 200, { 'content-type': 'application/json', ...reply.headers });
        response.end(JSON.stringify(reply.body));
        return;
      case 'text': {
        const headers: Record<string, string> = {};
        if (reply.contentType !== null) headers['content-type'] = reply.contentType ?? 'text/plain';
        response.writeHead(reply.status ?? 200, headers);
        response.end(reply.body);
        return;
      }
      case 'sse':
        response.writeHead(reply.status ?? 200, { 'content-type': 'text/event-stream', ...reply.headers });
        for (const event of reply.events) response.write(event);
        response.end();
        return;
      case 'sse-manual':
        response.writeHead(reply.status ?? 200, { 'content-type': 'text/event-stream' });
        response.flushHeaders();
        reply.stream.attach(response);
        return;
      case 'hang':
        return;
      case 'sse-then-drop':
        response.writeHead(200, { 'content-type': 'text/event-stream' });
        for (const event of reply.events) response.write(event);
        setImmediate(() => response.socket?.destroy());
        return;
      case 'bytes':
        response.writeHead(reply.status ?? 200, { 'content-type': reply.contentType });
        for (const chunk of reply.chunks) response.write(chunk);
        if (reply.ending === 'drop') setImmediate(() => response.socket?.destroy());
        else response.end();
        return;
      case 'trickle': {
        response.writeHead(reply.status ?? 200, { 'content-type': reply.contentType });
        response.flushHeaders();
        const timer = setInterval(() => {
          response.write(reply.chunk);
        }, reply.intervalMs);
        response.once('close', () => {
          clearInterval(timer);
        });
        return;
      }
      case 'raw':
        response.socket?.end(reply.data);
        return;
    }
  }
}

/** Formats one SSE frame the way upstreams do: `data: <json>\n\n` (or a named event). */
export function sseFrame(data: unknown, event?: string): string {
  const payload = typeof data === 'string' ? data : JSON.stringify(data);
  return `${event ? `event: ${event}\n` : ''}data: ${payload}\n\n`;
}
