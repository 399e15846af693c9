// The floor any Node gateway stands on: a node:http server that forwards each request's body,
// unread and unchecked, through one undici Pool to the fake upstream, and pipes the answer
// back. No validation, no mapping, no logging, no metrics. It runs in its own process, like
// the gateway, under plain `node` (the orchestrator transpiles this file once, so no loader
// adds to its memory or CPU), and prints one JSON line with its URL once it listens.
// It imports nothing but node: modules and undici, so it runs alone once transpiled.
import { createServer, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { Pool } from 'undici';

const UPSTREAM_HEADERS = { 'content-type': 'application/json' };
const BAD_GATEWAY = '{"error":"upstream failed"}';

function forward(pool: Pool, request: IncomingMessage, response: ServerResponse): void {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    pool.request(
      {
        method: 'POST',
        path: request.url ?? '/',
        headers: UPSTREAM_HEADERS,
        body: chunks.length === 1 ? chunks[0] : Buffer.concat(chunks),
      },
      (error, upstream) => {
        if (error) {
          response.writeHead(502, { 'content-type': 'application/json' });
          response.end(BAD_GATEWAY);
          return;
        }
        const { 'content-type': contentType, 'content-length': contentLength } = upstream.headers;
        const headers: OutgoingHttpHeaders = {
          'content-type': typeof contentType === 'string' ? contentType : 'application/json',
        };
        // A JSON answer keeps its length (no chunked framing); a stream has none and is
        // chunked, each upstream chunk written as it arrives.
        if (typeof contentLength === 'string') headers['content-length'] = contentLength;
        response.writeHead(upstream.statusCode, headers);
        upstream.body.on('error', () => response.destroy());
        // pipe() honours backpressure and ends the response with the upstream body.
        upstream.body.pipe(response);
      },
    );
  });
}

/** Listens on 127.0.0.1 in front of `upstreamUrl` and returns the proxy's base URL. */
async function listen(upstreamUrl: string): Promise<string> {
  // As the gateway makes its pools: no cap on connections, one request per connection at a time.
  const pool = new Pool(upstreamUrl);
  const server = createServer({ keepAliveTimeout: 60_000 }, (request, response) => {
    forward(pool, request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const upstream = process.argv[2];
  if (!upstream) throw new Error('usage: bare-proxy <upstream url>');
  // The orchestrator reads this one line to learn the port.
  process.stdout.write(`${JSON.stringify({ url: await listen(upstream) })}\n`);
  process.on('disconnect', () => process.exit(0));
  process.on('SIGTERM', () => process.exit(0));
}
