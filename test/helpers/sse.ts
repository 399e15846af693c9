/** The gateway's SSE frames (`data: <json>\n\n`), read back as JSON. */

/** Gateway SSE events as they arrive on the socket. */
export async function* sseEvents(response: Response): AsyncGenerator<unknown, void, undefined> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const bytes of response.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(bytes, { stream: true });
    let end = buffer.indexOf('\n\n');
    while (end !== -1) {
      yield JSON.parse(buffer.slice('data: '.length, end));
      buffer = buffer.slice(end + 2);
      end = buffer.indexOf('\n\n');
    }
  }
}

/** Every gateway SSE event of a response, once the stream has ended. */
export async function allEvents(response: Response): Promise<unknown[]> {
  const events: unknown[] = [];
  for await (const event of sseEvents(response)) events.push(event);
  return events;
}

/** The events of a whole SSE body already read as text. */
export function parseSse(text: string): unknown[] {
  return text
    .split('\n\n')
    .filter((frame) => frame.trim() !== '')
    .map((frame) => JSON.parse(frame.slice('data: '.length)));
}
