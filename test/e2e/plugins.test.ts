import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI, { type APIError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeUpstream, sseFrame } from '../fakes/fake-upstream.js';
import { CLI, listeningUrl } from '../helpers/cli-process.js';
import { invokeEndpoint } from '../helpers/http.js';
import { EXAMPLE_PLUGIN, chatPluginSource, writePluginFile } from '../helpers/plugin-fixtures.js';

// The example plugin (examples/plugin, built by the globalSetup) served by the built CLI.

const directory = realpathSync(mkdtempSync(join(tmpdir(), 'llmgw-plugin-e2e-')));
const ACME_KEY = 'acme-secret-key';
const HI = [{ role: 'user' as const, content: 'hi' }];

let fake: FakeUpstream;
let gateway: ChildProcess;
let url: string;
let client: OpenAI;

function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const { LLMGW_PLUGINS: _plugins, ...inherited } = process.env;
  return { ...inherited, LLMGW_LOG_LEVEL: 'info', ACME_KEY, ...extra };
}

function acmeEndpoint(name: string, type: string, model: string, base: string): string[] {
  return [
    `  - name: ${name}`,
    `    endpoint_type: llm/v1/${type}`,
    '    model:',
    '      provider: acme',
    `      name: ${model}`,
    '      config:',
    '        acme_api_key: $ACME_KEY',
    `        acme_api_base: ${base}`,
  ];
}

function writeConfig(name: string, lines: string[]): string {
  const path = join(directory, name);
  writeFileSync(path, [...lines, ''].join('\n'));
  return path;
}

async function run(args: string[], extraEnv: Record<string, string> = {}) {
  const child = spawn(process.execPath, [CLI, ...args], { env: childEnv(extraEnv) });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

const chatReply = {
  id: 'acme-1',
  created: 1_700_000_000,
  model: 'acme-large-2',
  output: { role: 'assistant', text: 'Hello from Acme' },
  stop_reason: 'stop',
  usage: { input_tokens: 3, output_tokens: 4 },
};

const gatewayChatResponse = {
  id: 'acme-1',
  object: 'chat.completion',
  created: 1_700_000_000,
  model: 'acme-large-2',
  choices: [
    {
      index: 0,
      message: { role: 'assistant', content: 'Hello from Acme', tool_calls: null, refusal: null },
      finish_reason: 'stop',
    },
  ],
  usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 },
};

beforeAll(async () => {
  fake = await FakeUpstream.start();
  const path = writeConfig('gateway.yaml', [
    'plugins:',
    `  - ${EXAMPLE_PLUGIN}`,
    'endpoints:',
    ...acmeEndpoint('chat', 'chat', 'acme-large', fake.url),
    ...acmeEndpoint('completions', 'completions', 'acme-large', fake.url),
    ...acmeEndpoint('embeddings', 'embeddings', 'acme-embed', fake.url),
  ]);
  gateway = spawn(process.execPath, [CLI, 'start', '--config-path', path, '--port', '0', '--workers', '1'], {
    env: childEnv(),
  });
  url = await listeningUrl(gateway as Parameters<typeof listeningUrl>[0]);
  client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'unused', maxRetries: 0 });
});

afterAll(async () => {
  const exited = once(gateway, 'exit');
  gateway.kill('SIGTERM');
  await exited;
  await fake.close();
  rmSync(directory, { recursive: true, force: true });
});

describe('a plugin provider served by llmgw start', () => {
  it('lists a plugin endpoint with the plugin’s provider name (reference §13 item 98)', async () => {
    const response = await fetch(`${url}/api/2.0/endpoints/chat`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      name: 'chat',
      endpoint_type: 'llm/v1/chat',
      model: { name: 'acme-large', provider: 'acme' },
      endpoint_url: '/gateway/chat/invocations',
      limit: null,
    });
  });

  it('answers /endpoints/{name}/invocations through the plugin', async () => {
    fake.reply({ kind: 'json', body: chatReply });
    const response = await invokeEndpoint(url, 'chat', { messages: HI, max_tokens: 20 });
    const request = await fake.nextRequest();
    expect(await response.json()).toEqual(gatewayChatResponse);
    expect([request.method, request.path]).toEqual(['POST', '/chat']);
    expect(request.body).toEqual({ model: 'acme-large', messages: HI, temperature: 0, n: 1, max_tokens: 20 });
    expect(request.headers['x-acme-key']).toBe(ACME_KEY);
    expect(request.headers.authorization).toBeUndefined();
  });

  it('creates a chat completion for the openai SDK on /v1', async () => {
    fake.reply({ kind: 'json', body: chatReply });
    const completion = await client.chat.completions.create({ model: 'chat', messages: HI });
    expect((await fake.nextRequest()).body).toEqual({
      model: 'acme-large',
      messages: HI,
      temperature: 0,
      n: 1,
    });
    expect(completion).toEqual(gatewayChatResponse);
  });

  it('streams chat chunks to the openai SDK', async () => {
    const event = (delta: string, stopReason: string | null) =>
      sseFrame({
        id: 'acme-2',
        created: 1_700_000_001,
        model: 'acme-large-2',
        delta,
        stop_reason: stopReason,
      });
    fake.reply({ kind: 'sse', events: [event('Hel', null), event('lo', 'stop'), 'data: [DONE]\n\n'] });
    const stream = await client.chat.completions.create({ model: 'chat', messages: HI, stream: true });
    const chunks: unknown[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect((await fake.nextRequest()).body).toEqual({
      model: 'acme-large',
      messages: HI,
      temperature: 0,
      n: 1,
      stream: true,
    });
    const chunk = (content: string, finishReason: string | null) => ({
      id: 'acme-2',
      object: 'chat.completion.chunk',
      created: 1_700_000_001,
      model: 'acme-large-2',
      choices: [
        { index: 0, finish_reason: finishReason, delta: { role: 'assistant', content, tool_calls: null } },
      ],
    });
    expect(chunks).toEqual([chunk('Hel', null), chunk('lo', 'stop')]);
  });

  it('creates a completion for the openai SDK', async () => {
    fake.reply({
      kind: 'json',
      body: {
        id: 'acme-3',
        created: 1_700_000_002,
        model: 'acme-large-2',
        text: 'Once upon a time',
        stop_reason: 'length',
        usage: { input_tokens: 2, output_tokens: 5 },
      },
    });
    const completion = await client.completions.create({
      model: 'completions',
      prompt: 'Tell me',
      max_tokens: 5,
    });
    const request = await fake.nextRequest();
    expect([request.path, request.body]).toEqual([
      '/complete',
      { model: 'acme-large', prompt: 'Tell me', temperature: 0, n: 1, max_tokens: 5 },
    ]);
    expect(completion).toEqual({
      id: 'acme-3',
      object: 'text_completion',
      created: 1_700_000_002,
      model: 'acme-large-2',
      choices: [{ index: 0, text: 'Once upon a time', finish_reason: 'length' }],
      usage: { prompt_tokens: 2, completion_tokens: 5, total_tokens: 7 },
    });
  });

  it('creates embeddings for the openai SDK', async () => {
    fake.reply({
      kind: 'json',
      body: {
        model: 'acme-embed-1',
        vectors: [
          [0.5, -0.25],
          [1, 0],
        ],
        usage: { input_tokens: 4 },
      },
    });
    // The SDK asks for base64 by default; the gateway encodes, so the plugin never sees the field.
    const result = await client.embeddings.create({ model: 'embeddings', input: ['a', 'b'] });
    const request = await fake.nextRequest();
    expect([request.path, request.body]).toEqual(['/embed', { model: 'acme-embed', texts: ['a', 'b'] }]);
    expect(result).toEqual({
      object: 'list',
      data: [
        { object: 'embedding', embedding: [0.5, -0.25], index: 0 },
        { object: 'embedding', embedding: [1, 0], index: 1 },
      ],
      model: 'acme-embed-1',
      usage: { prompt_tokens: 4, total_tokens: 4 },
    });
  });

  it('maps an upstream 429 to RateLimitError with the upstream message', async () => {
    fake.reply({ kind: 'json', status: 429, body: { error: { message: 'Acme quota exceeded' } } });
    const error: unknown = await client.chat.completions
      .create({ model: 'chat', messages: HI })
      .catch((caught: unknown) => caught);
    await fake.nextRequest();
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect((error as APIError).message).toBe('429 Acme quota exceeded');
  });

  it('answers the plugin’s own 422 for input it cannot take', async () => {
    const response = await invokeEndpoint(url, 'embeddings', { input: [1, 2, 3] });
    expect(response.status).toBe(422);
    expect(await response.json()).toEqual({
      detail: 'Acme embeds text only: input must be a string or a list of strings',
    });
  });

  it('describes the plugin endpoints in the OpenAPI document', async () => {
    const document = (await (await fetch(`${url}/openapi.json`)).json()) as {
      paths: Record<string, unknown>;
    };
    expect(Object.keys(document.paths).filter((path) => path.startsWith('/endpoints/'))).toEqual([
      '/endpoints/chat/invocations',
      '/endpoints/completions/invocations',
      '/endpoints/embeddings/invocations',
    ]);
  });
});

describe('plugin errors from the CLI', () => {
  writePluginFile(directory, 'clash', chatPluginSource('openai', 'OpenAiLookalike'));

  it('validates the shipped example config (examples/plugin/config.yaml)', async () => {
    const path = join(EXAMPLE_PLUGIN, 'config.yaml');
    expect(await run(['validate', '--config-path', path], { ACME_API_KEY: 'key' })).toEqual({
      code: 0,
      stdout: `OK: ${path} defines 3 endpoint(s): acme-chat, acme-completions, acme-embeddings\n`,
      stderr: '',
    });
  });

  it('loads plugins named by LLMGW_PLUGINS', async () => {
    const path = writeConfig('env.yaml', [
      'endpoints:',
      ...acmeEndpoint('chat', 'chat', 'acme-large', fake.url),
    ]);
    const result = await run(['validate', '--config-path', path], { LLMGW_PLUGINS: EXAMPLE_PLUGIN });
    expect(result).toEqual({ code: 0, stdout: `OK: ${path} defines 1 endpoint(s): chat\n`, stderr: '' });
  });

  it('fails validate on a plugin whose provider collides with a built-in', async () => {
    const path = writeConfig('clash.yaml', ['plugins: [./clash.mjs]', 'endpoints: []']);
    expect(await run(['validate', '--config-path', path])).toEqual({
      code: 1,
      stdout: '',
      stderr: `${path}:1:11 at plugins[0]: Plugin './clash.mjs' cannot register OpenAiLookalike: Provider openai is already registered: OpenAiAdapter (built-in)\n`,
    });
  });

  it('refuses to start with a colliding plugin (reference §13 item 97)', async () => {
    const path = writeConfig('clash.yaml', ['plugins: [./clash.mjs]', 'endpoints: []']);
    const result = await run(['start', '--config-path', path, '--port', '0', '--workers', '1']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      `Error: Invalid value for '--config-path': ${path}:1:11 at plugins[0]: Plugin './clash.mjs' cannot register OpenAiLookalike: Provider openai is already registered: OpenAiAdapter (built-in)\n`,
    );
  });

  it('fails validate on a plugin that cannot be found', async () => {
    const path = writeConfig('missing.yaml', ['plugins:', '  - llmgw-plugin-absent', 'endpoints: []']);
    expect(await run(['validate', '--config-path', path])).toEqual({
      code: 1,
      stdout: '',
      stderr: `${path}:2:5 at plugins[0]: Plugin 'llmgw-plugin-absent' could not be found: no package 'llmgw-plugin-absent' is installed in or above ${directory} or ${process.cwd()}\n`,
    });
  });

  it('fails validate on an endpoint config the plugin’s schema rejects', async () => {
    const path = writeConfig('bad-config.yaml', [
      `plugins: [${EXAMPLE_PLUGIN}]`,
      'endpoints:',
      ...acmeEndpoint('chat', 'chat', 'acme-large', 'ftp://acme.example'),
    ]);
    expect(await run(['validate', '--config-path', path])).toEqual({
      code: 1,
      stdout: '',
      stderr: `${path}:10:24 endpoint 'chat' at endpoints[0].model.config.acme_api_base: must be an http(s) URL (plugin '${EXAMPLE_PLUGIN}')\n`,
    });
  });
});
