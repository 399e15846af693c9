import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { ProviderRegistry } from '../../src/providers/registry.js';
import { createGateway, type Gateway } from '../../src/server/start.js';
import { FakeUpstream } from '../fakes/fake-upstream.js';
import { chatCompletion } from '../fakes/openai.js';
import { JSON_HEADERS } from '../helpers/http.js';

// OTLP/HTTP JSON, as @opentelemetry/exporter-trace-otlp-http sends it.
interface OtlpValue {
  stringValue?: string;
  intValue?: number | string;
  arrayValue?: { values: OtlpValue[] };
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: { key: string; value: OtlpValue }[];
}
interface OtlpExport {
  resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[];
}

const SPAN_KIND_SERVER = 2;
const SPAN_KIND_CLIENT = 3;
const CLIENT_TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const CLIENT_PARENT_ID = 'b7ad6b7169203331';
const PROMPT = 'secret prompt text';

function attributesOf(span: OtlpSpan): Record<string, unknown> {
  const plain = (value: OtlpValue): unknown =>
    value.arrayValue ? value.arrayValue.values.map(plain) : (value.stringValue ?? Number(value.intValue));
  return Object.fromEntries(span.attributes.map((attribute) => [attribute.key, plain(attribute.value)]));
}

function yaml(base: string): string {
  const endpoint = (name: string, model: string) => [
    `  - name: ${name}`,
    '    endpoint_type: llm/v1/chat',
    '    model:',
    '      provider: openai',
    `      name: ${model}`,
    '      config:',
    '        openai_api_key: sk-test-traces',
    `        openai_api_base: ${base}/v1`,
  ];
  return [
    'endpoints:',
    ...endpoint('chat', 'gpt-4o-mini'),
    ...endpoint('primary', 'gpt-4o-mini'),
    ...endpoint('backup', 'gpt-4o'),
    'routes:',
    '  - name: resilient',
    '    task_type: llm/v1/chat',
    '    routing_strategy: FALLBACK',
    '    destinations:',
    '      - name: primary',
    '      - name: backup',
    '',
  ].join('\n');
}

describe('OpenTelemetry traces over OTLP/HTTP', () => {
  const exports: string[] = [];
  let receiver: Server;
  let fake: FakeUpstream;
  let gateway: Gateway;
  let spans: OtlpSpan[];

  beforeAll(async () => {
    receiver = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        if (request.url === '/v1/traces') exports.push(Buffer.concat(chunks).toString('utf8'));
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    receiver.listen(0, '127.0.0.1');
    await once(receiver, 'listening');
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    fake = await FakeUpstream.start();
    gateway = await createGateway(parseConfig(yaml(fake.url), new ProviderRegistry(), 'test.yaml'));
    const url = await gateway.app.listen({ host: '127.0.0.1', port: 0 });
    fake
      .reply({ kind: 'json', body: chatCompletion })
      .reply({ kind: 'json', status: 503, body: { error: { message: 'overloaded' } } })
      .reply({ kind: 'json', body: chatCompletion });
    const body = JSON.stringify({ messages: [{ role: 'user', content: PROMPT }] });
    const continued = await fetch(`${url}/endpoints/chat/invocations`, {
      method: 'POST',
      headers: { ...JSON_HEADERS, traceparent: `00-${CLIENT_TRACE_ID}-${CLIENT_PARENT_ID}-01` },
      body,
    });
    expect(continued.status).toBe(200);
    const routed = await fetch(`${url}/endpoints/resilient/invocations`, {
      method: 'POST',
      headers: JSON_HEADERS,
      body,
    });
    expect(routed.status).toBe(200);
    // Closing the gateway flushes the batch to the receiver.
    await gateway.app.close();
    spans = exports.flatMap((text) =>
      (JSON.parse(text) as OtlpExport).resourceSpans.flatMap((resource) =>
        resource.scopeSpans.flatMap((scope) => scope.spans),
      ),
    );
  });

  afterAll(async () => {
    delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
    await fake.close();
    receiver.close();
  });

  it("makes the client's traceparent the parent of the server span", () => {
    const server = spans.find((span) => span.traceId === CLIENT_TRACE_ID && span.kind === SPAN_KIND_SERVER);
    expect(server?.name).toBe('POST /endpoints/:name/invocations');
    expect(server?.parentSpanId).toBe(CLIENT_PARENT_ID);
    expect(attributesOf(server!)).toEqual({
      'http.request.method': 'POST',
      'http.route': '/endpoints/:name/invocations',
      'url.path': '/endpoints/chat/invocations',
      'http.response.status_code': 200,
      'llmgw.endpoint': 'chat',
    });
  });

  it('records one client span per attempt with the GenAI attributes, child of the server span', () => {
    const server = spans.find((span) => span.traceId === CLIENT_TRACE_ID && span.kind === SPAN_KIND_SERVER)!;
    const clients = spans.filter(
      (span) => span.traceId === CLIENT_TRACE_ID && span.kind === SPAN_KIND_CLIENT,
    );
    expect(clients).toHaveLength(1);
    expect(clients[0]!.name).toBe('chat gpt-4o-mini');
    expect(clients[0]!.parentSpanId).toBe(server.spanId);
    expect(attributesOf(clients[0]!)).toEqual({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.response.model': 'gpt-4o-mini-2024-07-18',
      'gen_ai.usage.input_tokens': 19,
      'gen_ai.usage.output_tokens': 10,
      'gen_ai.response.finish_reasons': ['stop'],
      'llmgw.endpoint': 'chat',
      'llmgw.attempt': 1,
      'llmgw.attempt.outcome': 'success',
    });
  });

  it("passes the attempt's span on to the upstream as its traceparent", () => {
    const client = spans.find((span) => span.traceId === CLIENT_TRACE_ID && span.kind === SPAN_KIND_CLIENT)!;
    expect(fake.requests[0]!.headers.traceparent).toBe(`00-${CLIENT_TRACE_ID}-${client.spanId}-01`);
  });

  it('traces a fallback as two attempts under one server span, the failed one with error.type', () => {
    const server = spans.find(
      (span) => span.kind === SPAN_KIND_SERVER && attributesOf(span)['llmgw.endpoint'] === 'resilient',
    )!;
    expect(server.parentSpanId).toBeUndefined();
    const attempts = spans.filter((span) => span.parentSpanId === server.spanId);
    expect(attempts.map((span) => [span.name, span.kind, attributesOf(span)['error.type'] ?? null])).toEqual([
      ['chat gpt-4o-mini', SPAN_KIND_CLIENT, 'UPSTREAM_ERROR'],
      ['chat gpt-4o', SPAN_KIND_CLIENT, null],
    ]);
    expect(fake.requests[1]!.headers.traceparent).toBe(`00-${server.traceId}-${attempts[0]!.spanId}-01`);
    expect(fake.requests[2]!.headers.traceparent).toBe(`00-${server.traceId}-${attempts[1]!.spanId}-01`);
  });

  it('records no prompt or completion text by default', () => {
    expect(exports.join('')).not.toContain(PROMPT);
    expect(exports.join('')).not.toContain(chatCompletion.choices[0].message.content);
  });
});

describe('OpenTelemetry traces with LLMGW_TRACE_CONTENT=on', () => {
  it('records the prompt and the completion on the serving attempt span', async () => {
    const exports: string[] = [];
    const receiver = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        exports.push(Buffer.concat(chunks).toString('utf8'));
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    receiver.listen(0, '127.0.0.1');
    await once(receiver, 'listening');
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    process.env.LLMGW_TRACE_CONTENT = 'on';
    const fake = await FakeUpstream.start();
    try {
      const gateway = await createGateway(parseConfig(yaml(fake.url), new ProviderRegistry(), 'test.yaml'));
      fake.reply({ kind: 'json', body: chatCompletion });
      const messages = [{ role: 'user', content: PROMPT }];
      const response = await gateway.app.inject({
        method: 'POST',
        url: '/endpoints/chat/invocations',
        headers: JSON_HEADERS,
        payload: JSON.stringify({ messages }),
      });
      expect(response.statusCode).toBe(200);
      await gateway.app.close();
      const client = exports
        .flatMap((text) =>
          (JSON.parse(text) as OtlpExport).resourceSpans.flatMap((resource) =>
            resource.scopeSpans.flatMap((scope) => scope.spans),
          ),
        )
        .find((span) => span.kind === SPAN_KIND_CLIENT)!;
      const attributes = attributesOf(client);
      expect(JSON.parse(attributes['gen_ai.input.messages'] as string)).toEqual({ messages });
      expect(JSON.parse(attributes['gen_ai.output.messages'] as string)).toEqual(JSON.parse(response.body));
    } finally {
      delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
      delete process.env.LLMGW_TRACE_CONTENT;
      await fake.close();
      receiver.close();
    }
  });
});
