import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeUpstream, sseFrame } from '../fakes/fake-upstream.js';
import { chatChunks, gatewayChatChunks } from '../fakes/openai.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { allEvents } from '../helpers/sse.js';

const KEY = 'sk-stream-client-1';
const USAGE = { prompt_tokens: 9, completion_tokens: 2, total_tokens: 11 };

let fake: FakeUpstream;
let gateway: TestGateway;

beforeEach(async () => {
  fake = await FakeUpstream.start();
  const usageChunk = { ...chatChunks[0], choices: [], usage: USAGE };
  fake.replyAlways({
    kind: 'sse',
    events: [...chatChunks.map((chunk) => sseFrame(chunk)), sseFrame(usageChunk), sseFrame('[DONE]')],
  });
  gateway = await startTestGateway(`
endpoints:
  - name: chat
    endpoint_type: llm/v1/chat
    model: {provider: openai, name: gpt-4o-mini, config: {openai_api_key: sk-upstream, openai_api_base: ${fake.url}/v1}}
    pricing: {input_per_million: 1, output_per_million: 4}
clients:
  - name: streamer
    key: ${KEY}
    token_limit: {tokens: 20, renewal_period: minute}
    budget: {usd: 1, renewal_period: day}
`);
});

afterEach(async () => {
  await gateway.close();
  await fake.close();
});

function stream(path: string, body: object): Promise<Response> {
  return fetch(`${gateway.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
    body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }], stream: true, ...body }),
  });
}

async function usage(): Promise<unknown> {
  const response = await fetch(`${gateway.url}/api/2.0/llmgw/usage`, { headers: { 'x-api-key': KEY } });
  return response.json();
}

describe('streamed usage', () => {
  it("counts a stream's tokens and spend from the usage OpenAI reports, without showing that chunk", async () => {
    const response = await stream('/endpoints/chat/invocations', {});
    expect(await allEvents(response)).toEqual(gatewayChatChunks);
    expect((await fake.nextRequest()).body).toMatchObject({ stream_options: { include_usage: true } });
    expect(await usage()).toEqual({
      client: 'streamer',
      calls: null,
      tokens: {
        limit: 20,
        used: 11,
        remaining: 9,
        renewal_period: '1 minute',
        resets_in_seconds: expect.any(Number),
      },
      budget_usd: {
        limit: 1,
        used: 0.000017,
        remaining: 0.999983,
        renewal_period: '1 day',
        resets_in_seconds: expect.any(Number),
      },
    });
  });

  it('passes the usage chunk to a /v1 client that asked for it, and refuses once the tokens are used', async () => {
    const first = await stream('/v1/chat/completions', {
      model: 'chat',
      stream_options: { include_usage: true },
    });
    const frames = (await first.text()).split('\n\n').filter((frame) => frame !== '');
    expect(frames.at(-1)).toBe('data: [DONE]');
    expect(JSON.parse(frames.at(-2)?.slice('data: '.length) ?? '')).toEqual({
      id: 'chatcmpl-123',
      object: 'chat.completion.chunk',
      created: 1694268190,
      model: 'gpt-4o-mini-2024-07-18',
      choices: [],
      usage: USAGE,
    });
    const second = await stream('/v1/chat/completions', { model: 'chat' });
    expect(second.status).toBe(200);
    // The stream's end is written after its usage is counted.
    expect(await second.text()).toContain('data: [DONE]');
    const refused = await stream('/v1/chat/completions', { model: 'chat' });
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(
      /^Token limit exceeded for client 'streamer': 20 tokens per 1 minute; renews in \d+ s$/,
    );
  });
});
