import { describe, expect, it } from 'vitest';
import { apiBaseSchema, joinUrl } from '../../src/upstream/url.js';

describe('joinUrl (reference §9.1)', () => {
  it.each([
    ['https://api.openai.com/v1', 'chat/completions', 'https://api.openai.com/v1/chat/completions'],
    ['https://api.openai.com/v1/', 'chat/completions', 'https://api.openai.com/v1/chat/completions'],
    ['https://api.openai.com/v1//', '/completions', 'https://api.openai.com/v1/completions'],
    ['https://api.openai.com/v1', '//embeddings', 'https://api.openai.com/v1/embeddings'],
    ['https://r.openai.azure.com', 'openai/deployments/d', 'https://r.openai.azure.com/openai/deployments/d'],
    [
      'https://r.openai.azure.com/',
      'openai/deployments/d',
      'https://r.openai.azure.com/openai/deployments/d',
    ],
    ['http://127.0.0.1:8080/proxy/v1', 'embeddings', 'http://127.0.0.1:8080/proxy/v1/embeddings'],
  ])('joins %s and %s with exactly one slash', (base, path, expected) => {
    expect(joinUrl(base, path)).toBe(expected);
  });

  it('appends the query after the path', () => {
    expect(
      joinUrl('https://r.openai.azure.com/openai/deployments/d', 'completions', {
        'api-version': '2023-05-15',
      }),
    ).toBe('https://r.openai.azure.com/openai/deployments/d/completions?api-version=2023-05-15');
  });

  it('keeps a query already on the base and adds the new one after it', () => {
    expect(joinUrl('https://proxy.example/v1?tenant=a', 'chat/completions', { 'api-version': 'v1x' })).toBe(
      'https://proxy.example/v1/chat/completions?tenant=a&api-version=v1x',
    );
  });

  it('URL-encodes query values', () => {
    expect(joinUrl('https://api.openai.com/v1', 'embeddings', { 'api-version': '2024 01&x=1' })).toBe(
      'https://api.openai.com/v1/embeddings?api-version=2024+01%26x%3D1',
    );
  });

  it('adds no question mark when there is no query', () => {
    expect(joinUrl('https://api.openai.com/v1', 'embeddings', {})).toBe(
      'https://api.openai.com/v1/embeddings',
    );
  });
});

describe('apiBaseSchema', () => {
  it.each(['https://api.openai.com/v1', 'http://127.0.0.1:8080/proxy/'])('accepts %s', (url) => {
    expect(apiBaseSchema.safeParse(url).success).toBe(true);
  });

  it.each(['not a url', 'ftp://files.example', 'api.openai.com/v1', ''])('rejects %j', (url) => {
    const result = apiBaseSchema.safeParse(url);
    expect(result.error?.issues.map((issue) => issue.message)).toEqual(['must be an http(s) URL']);
  });
});
