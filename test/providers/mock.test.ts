import { describe, expect, it } from 'vitest';
import { ECHO_LIMIT_CHARS, MOCK_MAX_TOKENS, MockAdapter } from '../../src/providers/mock.js';
import type { Upstream } from '../../src/upstream/request.js';

function mock(modelName: string | null = 'm', dimensions = 4): MockAdapter {
  return new MockAdapter({
    endpointName: 'e',
    endpointType: 'llm/v1/chat',
    modelName,
    config: { dimensions },
    // The mock never calls its upstream.
    upstream: undefined as unknown as Upstream,
  });
}

async function collect<T>(chunks: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const chunk of chunks) all.push(chunk);
  return all;
}

describe('MockAdapter', () => {
  it('answers chat with a reply to the last user message and n choices', async () => {
    const response = await mock().chat({
      messages: [{ role: 'user', content: 'one two' }],
      temperature: 0,
      n: 2,
    });
    expect(response.choices.map((choice) => choice.message.content)).toEqual([
      'This is a mock response to: one two',
      'This is a mock response to: one two',
    ]);
    expect(response.usage).toEqual({ prompt_tokens: 2, completion_tokens: 16, total_tokens: 18 });
  });

  it('cuts the reply at max_tokens words with finish_reason length', async () => {
    const response = await mock().chat({
      messages: [{ role: 'user', content: 'hi' }],
      temperature: 0,
      n: 1,
      max_tokens: 2,
    });
    expect(response.choices[0]).toMatchObject({ message: { content: 'This is' }, finish_reason: 'length' });
  });

  it('cuts the reply before a stop sequence', async () => {
    const response = await mock().completions({ prompt: 'hi', temperature: 0, n: 1, stop: ['mock'] });
    expect(response.choices).toEqual([{ index: 0, text: 'This is a ', finish_reason: 'stop' }]);
  });

  it('reports mock-model when the endpoint has no model name', async () => {
    expect((await mock(null).completions({ prompt: 'x', temperature: 0, n: 1 })).model).toBe('mock-model');
  });

  it('streams chat as a role chunk, one chunk per word and a finish chunk', async () => {
    const chunks = await collect(
      await mock().chatStream({
        messages: [{ role: 'user', content: 'hi' }],
        temperature: 0,
        n: 1,
        max_tokens: 2,
      }),
    );
    expect(chunks.map((chunk) => [chunk.choices[0]?.delta, chunk.choices[0]?.finish_reason])).toEqual([
      [{ role: 'assistant', content: null, tool_calls: null }, null],
      [{ role: null, content: 'This ', tool_calls: null }, null],
      [{ role: null, content: 'is', tool_calls: null }, null],
      [{ role: null, content: null, tool_calls: null }, 'length'],
    ]);
  });

  it('streams completions one word a chunk, then a finish chunk', async () => {
    const chunks = await collect(
      await mock().completionsStream({ prompt: 'hi', temperature: 0, n: 1, max_tokens: 1 }),
    );
    expect(chunks.map((chunk) => chunk.choices[0])).toEqual([
      { index: 0, finish_reason: null, text: 'This' },
      { index: 0, finish_reason: 'length', text: null },
    ]);
  });

  it('returns the same unit-length vector for the same input', async () => {
    const adapter = mock('m', 8);
    const first = await adapter.embeddings({ input: ['same', 'other'] });
    const second = await adapter.embeddings({ input: 'same' });
    const vector = first.data[0]?.embedding as number[];
    expect(vector).toHaveLength(8);
    expect(second.data[0]?.embedding).toEqual(vector);
    expect(first.data[1]?.embedding).not.toEqual(vector);
    expect(Math.abs(Math.hypot(...vector) - 1)).toBeLessThan(1e-5);
  });

  it('rejects a model field with the 422 the reference defines', async () => {
    await expect(mock().embeddings({ input: 'x', model: 'x' })).rejects.toMatchObject({
      status: 422,
      detail:
        "The parameter 'model' is not permitted to be passed. The route being queried already defines a model instance.",
    });
  });

  it('echoes at most ECHO_LIMIT_CHARS of a long prompt, however many choices', async () => {
    const response = await mock().completions({ prompt: 'x'.repeat(5_000_000), temperature: 0, n: 128 });
    expect(response.choices).toHaveLength(128);
    expect(new Set(response.choices.map((choice) => choice.text))).toEqual(
      new Set([`This is a mock completion of: ${'x'.repeat(ECHO_LIMIT_CHARS)}`]),
    );
  });

  it('cuts the echo before a surrogate pair rather than through it', async () => {
    const prompt = `${'x'.repeat(ECHO_LIMIT_CHARS - 1)}😀`;
    const response = await mock().completions({ prompt, temperature: 0, n: 1 });
    expect(response.choices[0]?.text).toBe(
      `This is a mock completion of: ${'x'.repeat(ECHO_LIMIT_CHARS - 1)}`,
    );
  });

  it('counts the words of a long prompt', async () => {
    const response = await mock().completions({ prompt: 'a '.repeat(1_000_000), temperature: 0, n: 1 });
    expect(response.usage.prompt_tokens).toBe(1_000_000);
  });

  it('refuses max_tokens above MOCK_MAX_TOKENS with a 400 naming the field', async () => {
    await expect(
      mock().chat({ messages: [{ role: 'user', content: 'hi' }], temperature: 0, n: 1, max_tokens: 1e9 }),
    ).rejects.toMatchObject({
      status: 400,
      param: 'max_tokens',
      detail: `max_tokens is too large: 1000000000. The mock model supports at most ${MOCK_MAX_TOKENS} completion tokens.`,
    });
  });

  it('accepts max_tokens of exactly MOCK_MAX_TOKENS', async () => {
    const response = await mock().completions({
      prompt: 'hi',
      temperature: 0,
      n: 1,
      max_tokens: MOCK_MAX_TOKENS,
    });
    expect(response.choices[0]?.finish_reason).toBe('stop');
  });
});
