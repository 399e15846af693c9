import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import { GatewayError } from '../../errors.js';
import { stampTiming } from '../../telemetry/timing.js';
import { openApiFor } from '../access-hook.js';
import type { EndpointTable } from '../endpoint-table.js';
import { sendDocsError, sendError } from '../errors.js';

// Swagger UI (@fastify/swagger, @fastify/swagger-ui, @fastify/static and its dependencies) is
// loaded on the first /docs request, not at start: an idle gateway that nobody browses does not
// pay for it. Fastify accepts no plugin after `ready`, so the UI lives in a Fastify instance of
// its own, built once on first use; the gateway's `/docs` routes hand the raw request to it.
// The gateway's hooks (access, request id, telemetry, the access log) still run on the
// gateway's request first, exactly as for any other route.

/** The gateway's request and reply behind a request the docs instance is serving. */
interface Forwarded {
  request: FastifyRequest;
  reply: FastifyReply;
}

const forwarded = new WeakMap<IncomingMessage, Forwarded>();

function forwardedOf(request: FastifyRequest): Forwarded | undefined {
  return forwarded.get(request.raw);
}

async function buildDocsApp(table: EndpointTable, log: FastifyBaseLogger): Promise<FastifyInstance> {
  const [{ default: swagger }, { default: swaggerUi }] = await Promise.all([
    import('@fastify/swagger'),
    import('@fastify/swagger-ui'),
  ]);
  const docs = Fastify({
    loggerInstance: log,
    logController: new LogController({ disableRequestLogging: true }),
    // Log lines and error bodies carry the id the gateway gave the request.
    genReqId: (raw) => forwarded.get(raw)?.request.id ?? randomUUID(),
    frameworkErrors: (error, request, reply) => {
      sendError(error, request, reply);
    },
  });
  // A file the static server refuses (`..`, a NUL byte, a missing asset) is a 404.
  docs.setErrorHandler(sendDocsError);
  docs.setNotFoundHandler((request, reply) =>
    sendError(new GatewayError(404, 'NOT_FOUND', 'Not Found'), request, reply),
  );
  // The gateway's reply is hijacked, so its onSend hook (the timing headers) runs here.
  docs.addHook('onSend', (request, _reply, payload, done) => {
    const origin = forwardedOf(request);
    if (origin) stampTiming(origin.reply.raw, origin.request.telemetry, origin.reply.elapsedTime);
    done(null, payload);
  });
  await docs.register(swagger, {
    mode: 'static',
    specification: { document: table.current.openapi as never },
  });
  await docs.register(swaggerUi, {
    routePrefix: '/docs',
    // The document changes with each config snapshot, so it is read from the table, and the
    // caller's key (checked by the gateway's access hook) narrows it.
    transformSpecification: (_document, request) =>
      openApiFor(table.current.openapi, forwardedOf(request)?.request ?? request),
    transformSpecificationClone: false,
  });
  await docs.ready();
  return docs;
}

/** GET /docs (Swagger UI, its assets, /docs/json and /docs/yaml) and GET /openapi.json. */
export function registerDocsRoutes(app: FastifyInstance, table: EndpointTable): void {
  let docsApp: Promise<FastifyInstance> | null = null;
  const serveDocs = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    docsApp ??= buildDocsApp(table, app.log).catch((error: unknown) => {
      // A failed load is retried by the next request rather than cached.
      docsApp = null;
      throw error;
    });
    const docs = await docsApp;
    forwarded.set(request.raw, { request, reply });
    reply.hijack();
    docs.routing(request.raw, reply.raw);
  };
  app.get('/docs', serveDocs);
  app.get('/docs/*', serveDocs);
  app.get('/openapi.json', (request) => openApiFor(table.current.openapi, request));
  app.addHook('onClose', async () => {
    const docs = await docsApp?.catch(() => null);
    await docs?.close();
  });
}
