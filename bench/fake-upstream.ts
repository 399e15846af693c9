// The benchmark's upstream: an OpenAI-compatible server that answers every POST at once with
// the same small chat completion, or, when the body asks for `"stream":true`, with 20 SSE
// chunks 5 ms apart. It runs in its own process so that it never shares an event loop with
// the gateway or the load generator.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';

export const STREAM_CHUNKS = 20;
export const STREAM_INTERVAL_MS = 5;

const COMPLETION = JSON.stringify({
  id: 'chatcmpl-bench',
  object: 'chat.completion',
  created: 1_700_000_000,
  model: 'gpt-4o-mini-2024-07-18',
  choices: [
    {
      index: 0,
      message: { role: 'assistant', content: 'Hello! How can I help you today?', refusal: null },
      logprobs: null,
      finish_reason: 'stop',
    },
  ],
  usage: { prompt_tokens: 9, completion_tokens: 9, total_tokens: 18 },
  system_fingerprint: 'fp_bench',
});

function chunkFrame(index: number): string {
  const last = index === STREAM_CHUNKS - 1;
  const delta = index === 0 ? { role: 'assistant', content: '' } : last ? {} : { content: ` token${index}` };
  const chunk = {
    id: 'chatcmpl-bench',
    object: 'chat.completion.chunk',
    created: 1_700_000_000,
    model: 'gpt-4o-mini-2024-07-18',
    choices: [{ index: 0, delta, logprobs: null, finish_reason: last ? 'stop' : null }],
  };
  return `data: ${JSON.stringify(chunk)}\n\n`;
}

const FRAMES = Array.from({ length: STREAM_CHUNKS }, (_, index) => chunkFrame(index));
const STREAM_REQUEST = /"stream"\s*:\s*true/;

function sendStream(response: ServerResponse): void {
  response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  let index = 0;
  const next = (): void => {
    if (response.destroyed) return;
    response.write(FRAMES[index]);
    index += 1;
    if (index < STREAM_CHUNKS) setTimeout(next, STREAM_INTERVAL_MS);
    else response.end('data: [DONE]\n\n');
  };
  next();
}

function handle(request: IncomingMessage, response: ServerResponse): void {
  let body = '';
  request.setEncoding('utf8');
  request.on('data', (chunk: string) => (body += chunk));
  request.on('end', () => {
    if (STREAM_REQUEST.test(body)) {
      sendStream(response);
      return;
    }
    response.writeHead(200, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(COMPLETION),
    });
    response.end(COMPLETION);
  });
}

/** Listens on 127.0.0.1 and returns the server and its base URL. */
export async function startFakeUpstream(port = 0): Promise<{ server: Server; url: string }> {
  const server = createServer({ keepAliveTimeout: 60_000 }, handle);
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const address = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${address.port}` };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { url } = await startFakeUpstream();
  // The orchestrator reads this one line to learn the port.
  process.stdout.write(`${JSON.stringify({ url })}\n`);
  process.on('disconnect', () => process.exit(0));
  process.on('SIGTERM', () => process.exit(0));
}
