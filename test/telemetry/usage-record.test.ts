import { describe, expect, it } from 'vitest';
import { readAnswer, type AnswerFacts } from '../../src/telemetry/usage-record.js';

function empty(): AnswerFacts {
  return { inputTokens: null, outputTokens: null, responseModel: null, finishReasons: null };
}

describe('readAnswer', () => {
  it('reads token counts, the model and finish reasons of a chat response', () => {
    const facts = empty();
    readAnswer(facts, {
      model: 'gpt-4o-2024-08-06',
      choices: [
        { index: 0, message: { role: 'assistant', content: 'text' }, finish_reason: 'stop' },
        { index: 1, message: { role: 'assistant', content: 'more' }, finish_reason: 'length' },
      ],
      usage: { prompt_tokens: 12, completion_tokens: 7, total_tokens: 19 },
    });
    expect(facts).toEqual({
      inputTokens: 12,
      outputTokens: 7,
      responseModel: 'gpt-4o-2024-08-06',
      finishReasons: ['stop', 'length'],
    });
  });

  it('keeps earlier counts when a later chunk reports none, and collects finish reasons', () => {
    const facts = empty();
    readAnswer(facts, {
      model: 'm',
      choices: [{ index: 0, finish_reason: null }],
      usage: { prompt_tokens: 3 },
    });
    readAnswer(facts, {
      model: 'm',
      choices: [{ index: 0, finish_reason: 'stop' }],
      usage: { prompt_tokens: null },
    });
    expect(facts).toEqual({
      inputTokens: 3,
      outputTokens: null,
      responseModel: 'm',
      finishReasons: ['stop'],
    });
  });

  it('reads an embeddings response, which has prompt tokens only', () => {
    const facts = empty();
    readAnswer(facts, { model: null, data: [], usage: { prompt_tokens: 8, total_tokens: 8 } });
    expect(facts).toEqual({ inputTokens: 8, outputTokens: null, responseModel: null, finishReasons: null });
  });

  it('ignores what is not an answer', () => {
    const facts = empty();
    readAnswer(facts, 'text');
    readAnswer(facts, { usage: 'many', choices: 'some' });
    expect(facts).toEqual(empty());
  });
});
