import { ApiError, GoogleGenAI, Type } from '@google/genai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  anthropicError,
  anthropicMessage,
  blockStop,
  inputJsonDelta,
  MESSAGE_STOP,
  messageDelta,
  messageStart,
  textStream,
  toolUseBlockStart,
} from '../fakes/anthropic.js';
import { FakeUpstream, type RecordedRequest } from '../fakes/fake-upstream.js';
import { AB_STREAM, googleError, jokeResponse, JOKE } from '../fakes/gemini.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

// The Gemini generateContent ingress (ingress.md §4, §5.5, §6) with @google/genai as the
// client: passthrough to a Gemini endpoint, translation onto Anthropic.

const CLIENT_KEY = 'client-key-for-the-gateway';
const PNG = 'iVBORw0KGgo=';

let fake: FakeUpstream;
let gateway: TestGateway;
let ai: GoogleGenAI;

function endpoint(name: string, provider: string, model: string, config: string[], type = 'chat'): string[] {
  return [
    `  - name: ${name}`,
    `    endpoint_type: llm/v1/${type}`,
    '    model:',
    `      provider: ${provider}`,
    `      name: ${model}`,
    '      config:',
    ...config.map((line) => `        ${line}`),
  ];
}

beforeAll(async () => {
  fake = await FakeUpstream.start();
  const gemini = ['gemini_api_key: g-upstream', `gemini_api_base: ${fake.url}`];
  gateway = await startTestGateway(
    [
      'endpoints:',
      ...endpoint('gem', 'gemini', 'gemini-2.5-flash', gemini),
      ...endpoint('claude', 'anthropic', 'claude-sonnet-4-5', [
        'anthropic_api_key: sk-ant-upstream',
        `anthropic_api_base: ${fake.url}/v1`,
      ]),
      ...endpoint('embed', 'gemini', 'text-embedding-004', gemini, 'embeddings'),
      '',
    ].join('\n'),
  );
  ai = new GoogleGenAI({ apiKey: CLIENT_KEY, httpOptions: { baseUrl: gateway.url } });
});

afterAll(async () => {
  await gateway.close();
  await fake.close();
});

function expectNoClientKey(request: RecordedRequest): void {
  expect(JSON.stringify(request.headers)).not.toContain(CLIENT_KEY);
  expect(request.query).not.toHaveProperty('key');
}

const IMAGE_QUESTION = [
  {
    role: 'user',
    parts: [{ text: 'What is in this image?' }, { inlineData: { mimeType: 'image/png', data: PNG } }],
  },
];

const WEATHER_DECLARATION = {
  name: 'get_weather',
  description: 'Current weather for a city',
  parameters: {
    type: Type.OBJECT,
    properties: {
      location: { type: Type.STRING },
      days: { type: Type.ARRAY, items: { type: Type.INTEGER } },
    },
    required: ['location'],
  },
};

describe('passthrough to a Gemini endpoint', () => {
  it('posts the body to the configured model with the configured key, and relays the answer', async () => {
    fake.reply({ kind: 'json', body: jokeResponse() });
    const response = await ai.models.generateContent({
      model: 'gem',
      contents: IMAGE_QUESTION,
      config: { systemInstruction: 'Be brief.', temperature: 0.2, topK: 40, safetySettings: [] },
    });
    const request = await fake.nextRequest();
    expect(request.path).toBe('/v1beta/models/gemini-2.5-flash:generateContent');
    expect(request.query).toEqual({});
    expect(request.headers['x-goog-api-key']).toBe('g-upstream');
    expectNoClientKey(request);
    expect(request.body).toEqual({
      contents: IMAGE_QUESTION,
      systemInstruction: { parts: [{ text: 'Be brief.' }], role: 'user' },
      safetySettings: [],
      generationConfig: { temperature: 0.2, topK: 40 },
    });
    expect(response.text).toBe(JOKE);
    expect(response.candidates).toEqual(jokeResponse().candidates);
  });

  it('passes a function call round trip through unchanged', async () => {
    fake.reply({ kind: 'json', body: jokeResponse() });
    const contents = [
      { role: 'user', parts: [{ text: 'Weather in Paris?' }] },
      { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: { location: 'Paris' } } }] },
      { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { temp: 21 } } }] },
    ];
    await ai.models.generateContent({
      model: 'gem',
      contents,
      config: { tools: [{ functionDeclarations: [WEATHER_DECLARATION] }] },
    });
    expect((await fake.nextRequest()).body).toEqual({
      contents,
      tools: [{ functionDeclarations: [WEATHER_DECLARATION] }],
      // The SDK's own: the rest of `config`, here nothing.
      generationConfig: {},
    });
  });

  it('relays the SSE stream unchanged, and the chunks give the whole text', async () => {
    fake.reply({ kind: 'sse', events: AB_STREAM });
    const stream = await ai.models.generateContentStream({ model: 'models/gem', contents: 'hi' });
    let text = '';
    for await (const chunk of stream) text += chunk.text ?? '';
    const request = await fake.nextRequest();
    expect(request.path).toBe('/v1beta/models/gemini-2.5-flash:streamGenerateContent');
    expect(request.query).toEqual({ alt: 'sse' });
    expect(request.body).toEqual({ contents: [{ role: 'user', parts: [{ text: 'hi' }] }] });
    expectNoClientKey(request);
    expect(text).toBe('ab');
  });

  it('drops a ?key= credential and relays the bytes as sent', async () => {
    fake.reply({ kind: 'sse', events: AB_STREAM });
    const response = await fetch(
      `${gateway.url}/gateway/gemini/v1beta/models/gem:streamGenerateContent?alt=sse&key=${CLIENT_KEY}`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ contents: [{ parts: [{ text: 'hi' }] }] }),
      },
    );
    expect(await response.text()).toBe(AB_STREAM.join(''));
    const request = await fake.nextRequest();
    expect(request.query).toEqual({ alt: 'sse' });
    expectNoClientKey(request);
  });

  it("relays Google's own error body and status", async () => {
    const body = googleError(429, 'RESOURCE_EXHAUSTED', 'Resource has been exhausted (e.g. check quota).');
    fake.reply({ kind: 'json', status: 429, body });
    const error = await ai.models
      .generateContent({ model: 'gem', contents: 'hi' })
      .catch((caught: unknown) => caught);
    await fake.nextRequest();
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(429);
    expect(JSON.parse((error as ApiError).message)).toEqual(body);
  });
});

const CLAUDE = 'claude-sonnet-4-5';

describe('translation onto an Anthropic endpoint', () => {
  it('maps the system instruction, an image, tools and tool config, and the tool_use back to a functionCall', async () => {
    fake.reply({
      kind: 'json',
      body: anthropicMessage({
        stopReason: 'tool_use',
        content: [{ type: 'tool_use', id: 'toolu_01', name: 'get_weather', input: { location: 'Paris' } }],
      }),
    });
    const response = await ai.models.generateContent({
      model: 'claude',
      contents: IMAGE_QUESTION,
      config: {
        systemInstruction: 'Be brief.',
        maxOutputTokens: 500,
        stopSequences: ['END'],
        tools: [{ functionDeclarations: [WEATHER_DECLARATION] }],
        toolConfig: { functionCallingConfig: { mode: 'ANY' as never } },
      },
    });
    const request = await fake.nextRequest();
    expect(request.path).toBe('/v1/messages');
    expectNoClientKey(request);
    expect(request.body).toEqual({
      model: CLAUDE,
      max_tokens: 500,
      temperature: 0.5,
      stop_sequences: ['END'],
      system: 'Be brief.',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is in this image?' },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } },
          ],
        },
      ],
      tools: [
        {
          name: 'get_weather',
          description: 'Current weather for a city',
          input_schema: {
            type: 'object',
            properties: { location: { type: 'string' }, days: { type: 'array', items: { type: 'integer' } } },
            required: ['location'],
          },
        },
      ],
      tool_choice: { type: 'any' },
    });
    expect(response.functionCalls).toEqual([
      { name: 'get_weather', args: { location: 'Paris' }, id: 'toolu_01' },
    ]);
    expect(response.candidates).toEqual([
      {
        content: {
          role: 'model',
          parts: [{ functionCall: { name: 'get_weather', args: { location: 'Paris' }, id: 'toolu_01' } }],
        },
        finishReason: 'STOP',
        index: 0,
      },
    ]);
    expect(response.usageMetadata).toEqual({
      promptTokenCount: 10,
      candidatesTokenCount: 25,
      totalTokenCount: 35,
    });
  });

  it('gives calls without ids an id and matches their responses by name', async () => {
    fake.reply({ kind: 'json', body: anthropicMessage({ content: [{ type: 'text', text: '21°C.' }] }) });
    const contents = [
      { role: 'user', parts: [{ text: 'Weather in Paris?' }] },
      {
        role: 'model',
        parts: [
          { text: 'Checking.' },
          { functionCall: { name: 'get_weather', args: { location: 'Paris' } } },
        ],
      },
      { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { temp: 21 } } }] },
    ];
    const response = await ai.models.generateContent({ model: 'claude', contents });
    expect(((await fake.nextRequest()).body as { messages: unknown }).messages).toEqual([
      { role: 'user', content: 'Weather in Paris?' },
      {
        role: 'assistant',
        content: [{ type: 'tool_use', id: 'call_0', name: 'get_weather', input: { location: 'Paris' } }],
      },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'call_0', content: '{"temp":21}' }] },
    ]);
    expect(response.text).toBe('21°C.');
  });

  it('streams text chunk by chunk, the last one carrying the finish reason', async () => {
    fake.reply({ kind: 'sse', events: textStream('msg_1') });
    const stream = await ai.models.generateContentStream({ model: 'claude', contents: 'hi' });
    const chunks: { text: string | undefined; finishReason: unknown }[] = [];
    for await (const chunk of stream)
      chunks.push({ text: chunk.text, finishReason: chunk.candidates?.[0]?.finishReason });
    expect((await fake.nextRequest()).body).toEqual({
      model: CLAUDE,
      max_tokens: 8192,
      temperature: 0.5,
      stream: true,
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(chunks).toEqual([
      { text: 'Hello', finishReason: undefined },
      { text: '!', finishReason: undefined },
      { text: '', finishReason: 'STOP' },
    ]);
  });

  it('streams a tool call whole in the last chunk', async () => {
    fake.reply({
      kind: 'sse',
      events: [
        messageStart('msg_t'),
        toolUseBlockStart(0, 'toolu_01', 'get_weather'),
        inputJsonDelta(0, '{"location": '),
        inputJsonDelta(0, '"Paris"}'),
        blockStop(0),
        messageDelta('tool_use'),
        MESSAGE_STOP,
      ],
    });
    const stream = await ai.models.generateContentStream({ model: 'claude', contents: 'Weather?' });
    const calls: unknown[] = [];
    for await (const chunk of stream) calls.push(...(chunk.functionCalls ?? []));
    await fake.nextRequest();
    expect(calls).toEqual([{ name: 'get_weather', args: { location: 'Paris' }, id: 'toolu_01' }]);
  });
});

describe('errors in Google’s shape', () => {
  async function failure(promise: Promise<unknown>): Promise<ApiError> {
    const error = await promise.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ApiError);
    return error as ApiError;
  }

  it('answers an unknown model with 404 NOT_FOUND', async () => {
    const error = await failure(ai.models.generateContent({ model: 'nope', contents: 'hi' }));
    expect(error.status).toBe(404);
    expect(JSON.parse(error.message)).toEqual({
      error: {
        code: 404,
        message: 'models/nope is not found: no endpoint or route has that name.',
        status: 'NOT_FOUND',
      },
    });
  });

  it('refuses an embeddings endpoint with 400', async () => {
    const error = await failure(ai.models.generateContent({ model: 'embed', contents: 'hi' }));
    expect(JSON.parse(error.message)).toEqual({
      error: { code: 400, message: 'models/embed is not a chat endpoint.', status: 'INVALID_ARGUMENT' },
    });
  });

  it("maps a translated provider's error to its status with the provider's message", async () => {
    fake.reply({ kind: 'json', status: 529, body: anthropicError('overloaded_error', 'Overloaded') });
    const error = await failure(ai.models.generateContent({ model: 'claude', contents: 'hi' }));
    await fake.nextRequest();
    expect(error.status).toBe(529);
    expect(JSON.parse(error.message)).toEqual({
      error: { code: 529, message: 'Overloaded', status: 'INTERNAL' },
    });
  });

  it('refuses a Google-hosted tool with 400 naming it', async () => {
    const before = fake.requests.length;
    const error = await failure(
      ai.models.generateContent({
        model: 'claude',
        contents: 'hi',
        config: { tools: [{ googleSearch: {} }] },
      }),
    );
    expect(JSON.parse(error.message)).toEqual({
      error: {
        code: 400,
        message: "tools.0.googleSearch: 'googleSearch' tools run at Google and cannot be translated.",
        status: 'INVALID_ARGUMENT',
      },
    });
    expect(fake.requests.length).toBe(before);
  });

  it('refuses streamGenerateContent without alt=sse', async () => {
    const response = await fetch(`${gateway.url}/v1beta/models/claude:streamGenerateContent`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ contents: [{ parts: [{ text: 'hi' }] }] }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      error: {
        code: 400,
        message: 'streamGenerateContent is served as server-sent events only: add ?alt=sse.',
        status: 'INVALID_ARGUMENT',
      },
    });
  });

  it('ends a translated stream that fails midway with an error chunk', async () => {
    fake.reply({
      kind: 'sse',
      events: [
        messageStart('msg_e'),
        `event: error\ndata: ${JSON.stringify(anthropicError('overloaded_error', 'Overloaded'))}\n\n`,
      ],
    });
    const stream = await ai.models.generateContentStream({ model: 'claude', contents: 'hi' });
    const error = await (async () => {
      for await (const _chunk of stream) {
        // no chunk comes before the error
      }
    })().catch((caught: unknown) => caught);
    await fake.nextRequest();
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).message).toContain('Overloaded');
  });
});
